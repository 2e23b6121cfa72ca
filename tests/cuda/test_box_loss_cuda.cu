// IoU losses and box decode: CUDA vs the CPU reference on the same random boxes.
// Tolerance 1e-6 + 1e-5 |ref|: float math with device atan/exp/log (a few ulp) and different
// rounding of the divisions chain; values are O(1), gradients O(1/box size).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/cpu/box_loss.h"
#include "kernels/cuda/box_loss.h"
#include "kernels/cuda/cuda_check.h"
#include "tests/cuda/cuda_test_util.h"

namespace locdet {
namespace {

using test::to_device;
using test::to_host;

std::vector<float> random_boxes(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> b(4 * n);
  for (int i = 0; i < n; ++i) {
    float x = u(rng) * 40, y = u(rng) * 30, w = 1 + u(rng) * 20, h = 1 + u(rng) * 20;
    b[4 * i] = x, b[4 * i + 1] = y, b[4 * i + 2] = x + w, b[4 * i + 3] = y + h;
  }
  return b;
}

TEST(CudaBoxLoss, ForwardBackwardMatchCpu) {
  LOCDET_REQUIRE_GPU();
  const int n = 5000;
  std::vector<float> pred = random_boxes(n, 1), target = random_boxes(n, 2), dloss(n);
  for (int i = 0; i < n; ++i) dloss[i] = 0.5f + 0.001f * (i % 100);
  float *d_pred = to_device(pred), *d_target = to_device(target), *d_dloss = to_device(dloss);
  float *d_loss = to_device(std::vector<float>(n)), *d_grad = to_device(std::vector<float>(4 * n));
  for (IouKind kind : {IouKind::kIou, IouKind::kGiou, IouKind::kDiou, IouKind::kCiou}) {
    std::vector<float> loss(n), grad(4 * n);
    cpu::iou_loss_forward<float>(n, kind, pred.data(), target.data(), loss.data());
    cpu::iou_loss_backward<float>(n, kind, pred.data(), target.data(), dloss.data(), grad.data());
    cuda::iou_loss_forward(n, kind, d_pred, d_target, d_loss, nullptr);
    cuda::iou_loss_backward(n, kind, d_pred, d_target, d_dloss, d_grad, nullptr);
    CUDA_CHECK(cudaDeviceSynchronize());
    test::expect_close(loss, to_host(d_loss, n), 1e-6, 1e-5, "iou loss forward");
    test::expect_close(grad, to_host(d_grad, 4 * n), 1e-6, 1e-5, "iou loss backward");
  }
  for (float* p : {d_pred, d_target, d_dloss, d_loss, d_grad}) CUDA_CHECK(cudaFree(p));
}

TEST(CudaBoxDecode, ForwardBackwardMatchCpu) {
  LOCDET_REQUIRE_GPU();
  const int batch = 4, anchors = 300;
  std::vector<float> anchor_boxes = random_boxes(anchors, 3), raw(batch * anchors * 4), dboxes(raw.size());
  std::mt19937 rng(4);
  std::normal_distribution<float> g(0, 2);
  for (auto& v : raw) v = g(rng);
  for (auto& v : dboxes) v = g(rng);
  float *d_anchor = to_device(anchor_boxes), *d_raw = to_device(raw), *d_dboxes = to_device(dboxes);
  float *d_out = to_device(std::vector<float>(raw.size())),
        *d_draw = to_device(std::vector<float>(raw.size()));
  std::vector<float> out(raw.size()), draw(raw.size());
  cpu::box_decode_forward<float>(batch, anchors, raw.data(), anchor_boxes.data(), 8.0f, out.data());
  cpu::box_decode_backward<float>(batch, anchors, raw.data(), anchor_boxes.data(), 8.0f, dboxes.data(),
                                  draw.data());
  cuda::box_decode_forward(batch, anchors, d_raw, d_anchor, 8.0f, d_out, nullptr);
  cuda::box_decode_backward(batch, anchors, d_raw, d_anchor, 8.0f, d_dboxes, d_draw, nullptr);
  CUDA_CHECK(cudaDeviceSynchronize());
  test::expect_close(out, to_host(d_out, out.size()), 1e-5, 1e-5, "box decode forward");
  test::expect_close(draw, to_host(d_draw, draw.size()), 1e-5, 1e-5, "box decode backward");
  for (float* p : {d_anchor, d_raw, d_dboxes, d_out, d_draw}) CUDA_CHECK(cudaFree(p));
}

}  // namespace
}  // namespace locdet
