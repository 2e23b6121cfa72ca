// CUDA layer kernels vs the CPU float reference on the same seeded inputs.
// Tolerances are tol = atol * max|ref| + rtol * |ref| per op (the scale term covers entries that
// cancel to ~0); each is stated with its reason next to the comparison. Integer outputs (argmax)
// must be identical, and kernels documented as deterministic must repeat bit for bit.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/pool.h"
#include "kernels/cuda/activation.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/pool.h"
#include "tests/cuda/cuda_test_util.h"

namespace locdet {
namespace {

using test::DeviceBuffer;
using test::random_floats;

// |got - ref| <= atol * max(1, max|ref|) + rtol * |ref|
void expect_near_scaled(const std::vector<float>& ref, const std::vector<float>& got, double atol,
                        double rtol, const std::string& what) {
  double scale = 1.0;
  for (float r : ref) scale = std::max(scale, std::fabs(static_cast<double>(r)));
  test::expect_close(ref, got, atol * scale, rtol, what.c_str());
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class CudaKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    LOCDET_REQUIRE_GPU();
    owner_ = std::make_unique<cuda::CudaContextOwner>();
  }
  const cuda::CudaContext& ctx() const { return owner_->get(); }
  std::unique_ptr<cuda::CudaContextOwner> owner_;
};

void run_conv_case(const cuda::CudaContext& ctx, const Conv2dDims& d, unsigned seed) {
  const size_t xs = size_t(d.n) * d.c * d.h * d.w, ws = size_t(d.k) * d.c * d.r * d.s;
  const size_t ys = size_t(d.n) * d.k * d.out_h() * d.out_w();
  auto x = random_floats(xs, seed), w = random_floats(ws, seed + 1, -0.3f, 0.3f),
       b = random_floats(d.k, seed + 2), dy = random_floats(ys, seed + 3);
  std::vector<float> y(ys), dx(xs), dw(ws), db(d.k), work(cpu::conv2d_workspace_elems(d) + 1);
  cpu::conv2d_forward(d, x.data(), w.data(), b.data(), y.data(), work.data());
  cpu::conv2d_backward_data(d, dy.data(), w.data(), dx.data(), work.data());
  cpu::conv2d_backward_filter(d, x.data(), dy.data(), dw.data(), db.data(), work.data());

  cuda::CudnnConv2d conv(d, ctx);
  DeviceBuffer<float> gx(x), gw(w), gb(b), gdy(dy), gy(ys), gdx(xs), gdw(ws), gdb(d.k);
  DeviceBuffer<char> gwork(conv.workspace_bytes());
  conv.forward(ctx, gx.get(), gw.get(), gb.get(), gy.get(), gwork.get());
  conv.backward_data(ctx, gdy.get(), gw.get(), gdx.get(), gwork.get());
  conv.backward_filter(ctx, gx.get(), gdy.get(), gdw.get(), gdb.get(), gwork.get());
  const std::string what = "conv " + std::to_string(d.c) + "->" + std::to_string(d.k) + " " +
                           std::to_string(d.r) + "x" + std::to_string(d.s) + " stride " +
                           std::to_string(d.stride) + " pad " + std::to_string(d.pad);
  // cuDNN may pick Winograd/FFT/implicit-GEMM with a different summation order: 1e-5 of the
  // output scale + 1e-4 relative. dW/db sum n*oh*ow products (up to 23k), hence 1e-4 of scale.
  expect_near_scaled(y, gy.download(), 1e-5, 1e-4, what + " y");
  expect_near_scaled(dx, gdx.download(), 1e-5, 1e-4, what + " dx");
  expect_near_scaled(dw, gdw.download(), 1e-4, 1e-4, what + " dw");
  expect_near_scaled(db, gdb.download(), 1e-4, 1e-4, what + " db");

  // Backward algorithms are chosen deterministic: a second run repeats bit for bit.
  auto dw1 = gdw.download(), dx1 = gdx.download();
  conv.backward_filter(ctx, gx.get(), gdy.get(), gdw.get(), gdb.get(), gwork.get());
  conv.backward_data(ctx, gdy.get(), gw.get(), gdx.get(), gwork.get());
  EXPECT_TRUE(bitwise_equal(dw1, gdw.download())) << what << " backward filter not deterministic";
  EXPECT_TRUE(bitwise_equal(dx1, gdx.download())) << what << " backward data not deterministic";
}

TEST_F(CudaKernels, ConvMatchesCpu) {
  run_conv_case(ctx(), Conv2dDims{8, 1, 48, 60, 16, 3, 3, 1, 1}, 1);
  run_conv_case(ctx(), Conv2dDims{8, 16, 24, 30, 32, 3, 3, 1, 1}, 2);
  run_conv_case(ctx(), Conv2dDims{4, 8, 13, 11, 12, 3, 3, 2, 1}, 3);
  run_conv_case(ctx(), Conv2dDims{4, 8, 13, 11, 12, 3, 3, 2, 0}, 4);
  run_conv_case(ctx(), Conv2dDims{4, 32, 12, 15, 16, 1, 1, 1, 0}, 5);
}

TEST_F(CudaKernels, BatchNormMatchesCpuAndIsDeterministic) {
  for (BatchNormDims d : {BatchNormDims{16, 16, 48 * 60}, BatchNormDims{5, 3, 7}, BatchNormDims{64, 64, 1}}) {
    const size_t size = size_t(d.n) * d.c * d.hw;
    auto x = random_floats(size, 10, -2.0f, 3.0f), dy = random_floats(size, 11),
         gamma = random_floats(d.c, 12, 0.5f, 1.5f), beta = random_floats(d.c, 13),
         rm = random_floats(d.c, 14), rv = random_floats(d.c, 15, 0.5f, 2.0f);
    std::vector<float> y(size), mean(d.c), invstd(d.c), dx(size), dgamma(d.c), dbeta(d.c), rm_c = rm,
                                                                                           rv_c = rv;
    cpu::batchnorm_forward_train(d, x.data(), gamma.data(), beta.data(), y.data(), mean.data(), invstd.data(),
                                 rm_c.data(), rv_c.data(), 0.1f, 1e-5f);
    cpu::batchnorm_backward(d, x.data(), dy.data(), gamma.data(), mean.data(), invstd.data(), dx.data(),
                            dgamma.data(), dbeta.data());
    std::vector<float> y_eval(size);
    cpu::batchnorm_forward_eval(d, x.data(), gamma.data(), beta.data(), rm_c.data(), rv_c.data(), 1e-5f,
                                y_eval.data());

    DeviceBuffer<float> gx(x), gdy(dy), gg(gamma), gbeta(beta), grm(rm), grv(rv), gy(size), gmean(d.c),
        ginv(d.c), gdx(size), gdg(d.c), gdb(d.c), gye(size);
    cuda::batchnorm_forward_train(d, gx.get(), gg.get(), gbeta.get(), gy.get(), gmean.get(), ginv.get(),
                                  grm.get(), grv.get(), 0.1f, 1e-5f, ctx().stream);
    cuda::batchnorm_backward(d, gx.get(), gdy.get(), gg.get(), gmean.get(), ginv.get(), gdx.get(), gdg.get(),
                             gdb.get(), ctx().stream);
    cuda::batchnorm_forward_eval(d, gx.get(), gg.get(), gbeta.get(), grm.get(), grv.get(), 1e-5f, gye.get(),
                                 ctx().stream);
    // Both sides accumulate statistics in double; what remains is float rounding of the affine
    // map and of the saved statistics: 1e-5 relative (+ 1e-6 of scale for near-zero entries).
    const std::string what =
        "bn " + std::to_string(d.n) + "x" + std::to_string(d.c) + "x" + std::to_string(d.hw);
    expect_near_scaled(y, gy.download(), 1e-6, 1e-5, what + " y");
    expect_near_scaled(mean, gmean.download(), 1e-6, 1e-5, what + " mean");
    expect_near_scaled(invstd, ginv.download(), 1e-6, 1e-5, what + " invstd");
    expect_near_scaled(rm_c, grm.download(), 1e-6, 1e-5, what + " running_mean");
    expect_near_scaled(rv_c, grv.download(), 1e-6, 1e-5, what + " running_var");
    expect_near_scaled(y_eval, gye.download(), 1e-6, 1e-5, what + " y eval");
    // dx = k (N dy - sum dy - xhat sum(dy xhat)) cancels; float on the GPU vs double on the CPU.
    expect_near_scaled(dx, gdx.download(), 1e-5, 1e-4, what + " dx");
    expect_near_scaled(dgamma, gdg.download(), 1e-6, 1e-5, what + " dgamma");
    expect_near_scaled(dbeta, gdb.download(), 1e-6, 1e-5, what + " dbeta");
    auto dx1 = gdx.download(), dg1 = gdg.download();
    cuda::batchnorm_backward(d, gx.get(), gdy.get(), gg.get(), gmean.get(), ginv.get(), gdx.get(), gdg.get(),
                             gdb.get(), ctx().stream);
    EXPECT_TRUE(bitwise_equal(dx1, gdx.download()) && bitwise_equal(dg1, gdg.download())) << what;
  }
}

TEST_F(CudaKernels, ActivationsMatchCpu) {
  const int64_t n = 100003;
  auto x = random_floats(n, 20, -6.0f, 6.0f), dy = random_floats(n, 21);
  DeviceBuffer<float> gx(x), gdy(dy), gout(n);
  std::vector<float> ref(n);
  // relu/leaky are exact; silu uses expf (CUDA vs glibc differ by <= 2 ulp): 1e-6 relative.
  cpu::relu_forward<float>(n, x.data(), ref.data());
  cuda::relu_forward(n, gx.get(), gout.get(), ctx().stream);
  test::expect_close(ref, gout.download(), 0.0, 0.0, "relu forward");
  cpu::relu_backward<float>(n, x.data(), dy.data(), ref.data());
  cuda::relu_backward(n, gx.get(), gdy.get(), gout.get(), ctx().stream);
  test::expect_close(ref, gout.download(), 0.0, 0.0, "relu backward");
  cpu::leaky_relu_forward<float>(n, x.data(), ref.data(), 0.1f);
  cuda::leaky_relu_forward(n, gx.get(), gout.get(), 0.1f, ctx().stream);
  test::expect_close(ref, gout.download(), 0.0, 0.0, "leaky forward");
  cpu::leaky_relu_backward<float>(n, x.data(), dy.data(), ref.data(), 0.1f);
  cuda::leaky_relu_backward(n, gx.get(), gdy.get(), gout.get(), 0.1f, ctx().stream);
  test::expect_close(ref, gout.download(), 0.0, 0.0, "leaky backward");
  cpu::silu_forward<float>(n, x.data(), ref.data());
  cuda::silu_forward(n, gx.get(), gout.get(), ctx().stream);
  test::expect_close(ref, gout.download(), 1e-7, 1e-6, "silu forward");
  cpu::silu_backward<float>(n, x.data(), dy.data(), ref.data());
  cuda::silu_backward(n, gx.get(), gdy.get(), gout.get(), ctx().stream);
  test::expect_close(ref, gout.download(), 1e-7, 1e-6, "silu backward");
}

TEST_F(CudaKernels, PoolingMatchesCpu) {
  for (Pool2dDims d : {Pool2dDims{8, 16, 48, 60, 2, 2, 0}, Pool2dDims{4, 8, 13, 11, 3, 2, 1},
                       Pool2dDims{2, 4, 9, 9, 3, 1, 1}}) {
    const size_t xs = size_t(d.n) * d.c * d.h * d.w, ys = size_t(d.n) * d.c * d.out_h() * d.out_w();
    auto x = random_floats(xs, 30), dy = random_floats(ys, 31);
    std::vector<float> y(ys), dx(xs);
    std::vector<int32_t> arg(ys);
    cpu::maxpool2d_forward(d, x.data(), y.data(), arg.data());
    cpu::maxpool2d_backward(d, dy.data(), arg.data(), dx.data());
    DeviceBuffer<float> gx(x), gdy(dy), gy(ys), gdx(xs);
    DeviceBuffer<int32_t> garg(ys);
    cuda::maxpool2d_forward(d, gx.get(), gy.get(), garg.get(), ctx().stream);
    cuda::maxpool2d_backward(d, gdy.get(), garg.get(), gdx.get(), ctx().stream);
    const std::string what = "maxpool k" + std::to_string(d.kernel) + " s" + std::to_string(d.stride);
    test::expect_close(y, gy.download(), 0.0, 0.0, (what + " y").c_str());  // a max is exact
    EXPECT_EQ(arg, garg.download()) << what << " argmax";
    // Overlapping windows: the gather adds in a different order than the CPU scatter.
    test::expect_close(dx, gdx.download(), 1e-6, 1e-6, (what + " dx").c_str());
  }
  const int n = 8, c = 64, hw = 12 * 15;
  auto x = random_floats(size_t(n) * c * hw, 32), dy = random_floats(size_t(n) * c, 33);
  std::vector<float> y(n * c), dx(x.size());
  cpu::global_avgpool_forward(n, c, hw, x.data(), y.data());
  cpu::global_avgpool_backward(n, c, hw, dy.data(), dx.data());
  DeviceBuffer<float> gx(x), gdy(dy), gy(n * c), gdx(x.size());
  cuda::global_avgpool_forward(n, c, hw, gx.get(), gy.get(), ctx().stream);
  cuda::global_avgpool_backward(n, c, hw, gdy.get(), gdx.get(), ctx().stream);
  // float tree sum of 180 values vs double on the CPU: 1e-6 of the input scale.
  test::expect_close(y, gy.download(), 1e-6, 1e-5, "gap forward");
  test::expect_close(dx, gdx.download(), 1e-7, 1e-6, "gap backward");
}

TEST_F(CudaKernels, LinearMatchesCpu) {
  const int m = 64, k = 576, n = 10;
  auto x = random_floats(size_t(m) * k, 40), w = random_floats(size_t(n) * k, 41, -0.1f, 0.1f),
       b = random_floats(n, 42), dy = random_floats(size_t(m) * n, 43);
  std::vector<float> y(m * n), dx(x.size()), dw(w.size()), db(n);
  cpu::linear_forward(m, k, n, x.data(), w.data(), b.data(), y.data());
  cpu::linear_backward(m, k, n, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
  DeviceBuffer<float> gx(x), gw(w), gb(b), gdy(dy), gy(y.size()), gdx(dx.size()), gdw(dw.size()), gdb(n);
  cuda::linear_forward(m, k, n, gx.get(), gw.get(), gb.get(), gy.get(), ctx());
  cuda::linear_backward(m, k, n, gx.get(), gw.get(), gdy.get(), gdx.get(), gdw.get(), gdb.get(), ctx());
  // cuBLAS and OpenBLAS block the k-sum differently (576 terms): 1e-5 of scale + 1e-5 relative.
  expect_near_scaled(y, gy.download(), 1e-5, 1e-5, "linear y");
  expect_near_scaled(dx, gdx.download(), 1e-5, 1e-5, "linear dx");
  expect_near_scaled(dw, gdw.download(), 1e-5, 1e-5, "linear dw");
  expect_near_scaled(db, gdb.download(), 1e-5, 1e-5, "linear db");
  // Without bias the output is overwritten, not accumulated.
  cpu::linear_forward<float>(m, k, n, x.data(), w.data(), nullptr, y.data());
  cuda::linear_forward(m, k, n, gx.get(), gw.get(), nullptr, gy.get(), ctx());
  expect_near_scaled(y, gy.download(), 1e-5, 1e-5, "linear y no bias");
}

}  // namespace
}  // namespace locdet
