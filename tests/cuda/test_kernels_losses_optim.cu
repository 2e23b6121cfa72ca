// CUDA losses, optimizers and the device LR schedule vs the CPU float reference, plus one
// optimizer step captured as a CUDA Graph and replayed (the way the engine runs a step).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cpu/loss.h"
#include "kernels/cpu/optim.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/loss.h"
#include "kernels/cuda/optim.h"
#include "tests/cuda/cuda_test_util.h"

namespace locdet {
namespace {

using test::DeviceBuffer;
using test::random_floats;

TEST(CudaKernelsLoss, CrossEntropyMatchesCpu) {
  LOCDET_REQUIRE_GPU();
  for (int classes : {2, 10, 11, 45}) {
    const int n = 1000;
    auto logits = random_floats(size_t(n) * classes, 50, -8.0f, 8.0f), dloss = random_floats(n, 51);
    std::vector<int32_t> labels(n);
    for (int i = 0; i < n; ++i) labels[i] = (i % 7 == 3) ? -1 : (i * 31) % classes;
    std::vector<float> loss(n), d(logits.size());
    cpu::softmax_cross_entropy_forward(n, classes, logits.data(), labels.data(), 0.1f, loss.data());
    cpu::softmax_cross_entropy_backward(n, classes, logits.data(), labels.data(), 0.1f, dloss.data(),
                                        d.data());
    DeviceBuffer<float> gl(logits), gdl(dloss), gloss(n), gd(d.size());
    DeviceBuffer<int32_t> glab(labels);
    cuda::softmax_cross_entropy_forward(n, classes, gl.get(), glab.get(), 0.1f, gloss.get(), nullptr);
    cuda::softmax_cross_entropy_backward(n, classes, gl.get(), glab.get(), 0.1f, gdl.get(), gd.get(),
                                         nullptr);
    // Warp-tree vs sequential sums of exp over <= 45 classes and expf/logf ulp differences; the
    // lse error (~4e-7 absolute in float) moves every softmax entry, hence 1e-5 absolute on dlogits.
    test::expect_close(loss, gloss.download(), 1e-5, 1e-5, "ce loss");
    test::expect_close(d, gd.download(), 1e-5, 1e-5, "ce dlogits");
  }
}

// Box edges as distributions (kernels/cpu/loss.h): the expected bin and the distribution focal
// loss, forward and backward, over fewer bins than a warp has lanes and more; a third of the
// rows with a zero incoming gradient (the skipped rows must still come out 0).
TEST(CudaKernelsLoss, BinnedEdgeLossesMatchCpu) {
  LOCDET_REQUIRE_GPU();
  for (int bins : {7, 32, 45}) {
    const int n = 600;
    auto logits = random_floats(size_t(n) * bins, 70, -6.0f, 6.0f), dy = random_floats(n, 71),
         targets = random_floats(n, 72, -1.0f, static_cast<float>(bins));
    for (int i = 0; i < n; i += 3) dy[i] = 0.0f;
    std::vector<float> e(n), loss(n), de(logits.size()), dl(logits.size());
    cpu::bin_expectation_forward(n, bins, logits.data(), e.data());
    cpu::bin_expectation_backward(n, bins, logits.data(), dy.data(), de.data());
    cpu::distribution_focal_forward(n, bins, logits.data(), targets.data(), loss.data());
    cpu::distribution_focal_backward(n, bins, logits.data(), targets.data(), dy.data(), dl.data());
    DeviceBuffer<float> gl(logits), gdy(dy), gt(targets), ge(n), gloss(n), gde(de.size()), gdl(dl.size());
    cuda::bin_expectation_forward(n, bins, gl.get(), ge.get(), nullptr);
    cuda::bin_expectation_backward(n, bins, gl.get(), gdy.get(), gde.get(), nullptr);
    cuda::distribution_focal_forward(n, bins, gl.get(), gt.get(), gloss.get(), nullptr);
    cuda::distribution_focal_backward(n, bins, gl.get(), gt.get(), gdy.get(), gdl.get(), nullptr);
    // Warp-tree vs sequential sums, expf/logf ulps: the expectation (up to 44) to 1e-5 relative.
    test::expect_close(e, ge.download(), 1e-4, 1e-5, "expected bin");
    test::expect_close(de, gde.download(), 1e-5, 1e-5, "expected bin dlogits");
    test::expect_close(loss, gloss.download(), 1e-5, 1e-5, "distribution focal loss");
    test::expect_close(dl, gdl.download(), 1e-5, 1e-5, "distribution focal dlogits");
  }
}

TEST(CudaKernelsLoss, ElementwiseLossesMatchCpu) {
  LOCDET_REQUIRE_GPU();
  const int64_t n = 50001;
  auto x = random_floats(n, 60, -10.0f, 10.0f), t = random_floats(n, 61, 0.0f, 1.0f),
       dl = random_floats(n, 62);
  for (auto& v : t) v = v < 0.4f ? 0.0f : (v < 0.8f ? 1.0f : v);
  DeviceBuffer<float> gx(x), gt(t), gdl(dl), gout(n);
  std::vector<float> ref(n);
  // Same shared math on both sides; expf/log1pf/powf differ by a few ulp between CUDA and glibc.
  // softplus(x) - t x cancels for large |x|: one ulp of |x| <= 10 is 9.5e-7, hence atol 2e-6.
  const double atol = 2e-6, rtol = 1e-5;
  auto check = [&](const char* what) { test::expect_close(ref, gout.download(), atol, rtol, what); };
  cpu::bce_with_logits_forward<float>(n, x.data(), t.data(), ref.data());
  cuda::bce_with_logits_forward(n, gx.get(), gt.get(), gout.get(), nullptr);
  check("bce forward");
  cpu::bce_with_logits_backward<float>(n, x.data(), t.data(), dl.data(), ref.data());
  cuda::bce_with_logits_backward(n, gx.get(), gt.get(), gdl.get(), gout.get(), nullptr);
  check("bce backward");
  for (float alpha : {0.25f, -1.0f})
    for (float gamma : {0.0f, 1.5f, 2.0f}) {
      cpu::sigmoid_focal_forward<float>(n, x.data(), t.data(), alpha, gamma, ref.data());
      cuda::sigmoid_focal_forward(n, gx.get(), gt.get(), alpha, gamma, gout.get(), nullptr);
      check("focal forward");
      cpu::sigmoid_focal_backward<float>(n, x.data(), t.data(), alpha, gamma, dl.data(), ref.data());
      cuda::sigmoid_focal_backward(n, gx.get(), gt.get(), alpha, gamma, gdl.get(), gout.get(), nullptr);
      check("focal backward");
    }
  cpu::mse_forward<float>(n, x.data(), t.data(), ref.data());
  cuda::mse_forward(n, gx.get(), gt.get(), gout.get(), nullptr);
  check("mse forward");
  cpu::mse_backward<float>(n, x.data(), t.data(), dl.data(), ref.data());
  cuda::mse_backward(n, gx.get(), gt.get(), gdl.get(), gout.get(), nullptr);
  check("mse backward");
  cpu::l1_forward<float>(n, x.data(), t.data(), ref.data());
  cuda::l1_forward(n, gx.get(), gt.get(), gout.get(), nullptr);
  check("l1 forward");
  cpu::l1_backward<float>(n, x.data(), t.data(), dl.data(), ref.data());
  cuda::l1_backward(n, gx.get(), gt.get(), gdl.get(), gout.get(), nullptr);
  check("l1 backward");
  for (float beta : {0.0f, 0.5f, 1.0f}) {
    cpu::smooth_l1_forward<float>(n, x.data(), t.data(), beta, ref.data());
    cuda::smooth_l1_forward(n, gx.get(), gt.get(), beta, gout.get(), nullptr);
    check("smooth_l1 forward");
    cpu::smooth_l1_backward<float>(n, x.data(), t.data(), beta, dl.data(), ref.data());
    cuda::smooth_l1_backward(n, gx.get(), gt.get(), beta, gdl.get(), gout.get(), nullptr);
    check("smooth_l1 backward");
  }
}

TEST(CudaKernelsOptim, CapturedAdamWSgdEmaAndScheduleMatchCpu) {
  LOCDET_REQUIRE_GPU();
  const int64_t n = 70001;
  auto param = random_floats(n, 70), mask = random_floats(n, 71, 0.0f, 1.0f);
  for (auto& v : mask) v = v < 0.3f ? 0.0f : 1.0f;
  LrSchedule sched{LrSchedule::kWarmupCosine, 3e-3f, 1e-4f, 2, 10};
  AdamWParams p{0.9f, 0.999f, 1e-8f, 0.05f};

  std::vector<float> cp = param, cm(n, 0.0f), cv(n, 0.0f), sp = param, sbuf(n, 0.0f), ema = param;
  int64_t cstep = 0;
  float clr = 0.0f;
  DeviceBuffer<float> gp(param), gm(std::vector<float>(n, 0.0f)), gv(std::vector<float>(n, 0.0f)),
      gmask(mask), gsp(param), gbuf(std::vector<float>(n, 0.0f)), gema(param), ggrad(n), glr(1);
  DeviceBuffer<int64_t> gstep(std::vector<int64_t>{0});

  // Capture: schedule step, AdamW, SGD (nesterov), EMA -- all reading lr/step from device memory.
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
  cuda::lr_schedule_step(sched, gstep.get(), glr.get(), stream);
  cuda::adamw_step(n, gp.get(), ggrad.get(), gm.get(), gv.get(), gmask.get(), p, glr.get(), gstep.get(),
                   stream);
  cuda::sgd_step(n, gsp.get(), ggrad.get(), gbuf.get(), gmask.get(), 0.9f, true, 1e-4f, glr.get(), stream);
  cuda::ema_update(n, gema.get(), gp.get(), 0.99f, gstep.get(), stream);
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));

  for (int it = 0; it < 4; ++it) {
    auto grad = random_floats(n, 80 + it);
    ggrad.upload(grad);  // synchronizes: the graph runs on a non-blocking stream
    CUDA_CHECK(cudaGraphLaunch(exec, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    cpu::lr_schedule_step(sched, &cstep, &clr);
    cpu::adamw_step(n, cp.data(), grad.data(), cm.data(), cv.data(), mask.data(), p, &clr, &cstep);
    cpu::sgd_step(n, sp.data(), grad.data(), sbuf.data(), mask.data(), 0.9f, true, 1e-4f, &clr);
    cpu::ema_update(n, ema.data(), cp.data(), 0.99f, &cstep);
  }
  EXPECT_EQ(gstep.download()[0], cstep);
  // lr_at runs in double on both sides; cos may differ by 1 ulp in double, invisible in float.
  test::expect_close(std::vector<float>{clr}, glr.download(), 0.0, 2.5e-7, "lr");  // <= 2 float ulp
  // Elementwise float math; nvcc contracts to FMA where the host does not: 1e-6 relative.
  test::expect_close(cp, gp.download(), 1e-7, 1e-6, "adamw param");
  test::expect_close(cm, gm.download(), 1e-8, 1e-6, "adamw m");
  test::expect_close(cv, gv.download(), 1e-9, 1e-6, "adamw v");  // v ~ 1e-3: a few ulp after 4 steps
  test::expect_close(sp, gsp.download(), 1e-7, 1e-6, "sgd param");
  test::expect_close(sbuf, gbuf.download(), 1e-7, 1e-6, "sgd momentum");
  test::expect_close(ema, gema.download(), 1e-7, 1e-6, "ema");
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(graph));
  CUDA_CHECK(cudaStreamDestroy(stream));
}

}  // namespace
}  // namespace locdet
