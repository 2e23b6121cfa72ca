// Batched NMS: CUDA vs CPU. Keep lists (count, classes, order) must be identical, and kept
// boxes/scores are copies, so they are compared exactly too.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/cpu/nms.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/nms.h"
#include "tests/cuda/cuda_test_util.h"

namespace locdet {
namespace {

using test::to_device;
using test::to_host;

void compare(int batch, int n, int c, const NmsParams& p, uint32_t seed, float score_quantum) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> boxes(batch * n * 4), scores(batch * n * c);
  for (int i = 0; i < batch * n; ++i) {
    float x = u(rng) * 50, y = u(rng) * 40, w = 3 + u(rng) * 12, h = 3 + u(rng) * 12;
    boxes[4 * i] = x, boxes[4 * i + 1] = y, boxes[4 * i + 2] = x + w, boxes[4 * i + 3] = y + h;
  }
  for (auto& s : scores) s = score_quantum > 0 ? std::round(u(rng) / score_quantum) * score_quantum : u(rng);
  for (int i = 0; i < n * c; ++i) scores[i] = 0.0f;  // image 0 empty
  const int md = p.max_det;
  std::vector<float> ob(batch * md * 4), os(batch * md);
  std::vector<int32_t> oc(batch * md), on(batch);
  std::vector<char> ws(cpu::nms_workspace_bytes(n, c, p));
  cpu::batched_nms<float>(batch, n, c, boxes.data(), scores.data(), p, ob.data(), os.data(), oc.data(),
                          on.data(), ws.data());
  float *d_boxes = to_device(boxes), *d_scores = to_device(scores);
  float *d_ob = to_device(std::vector<float>(ob.size(), 9.0f)),
        *d_os = to_device(std::vector<float>(os.size(), 9.0f));
  int32_t *d_oc = to_device(std::vector<int32_t>(oc.size(), 9)),
          *d_on = to_device(std::vector<int32_t>(batch, 9));
  const size_t ws_bytes = cuda::nms_workspace_bytes(batch, n, c, p);
  void* d_ws = nullptr;
  CUDA_CHECK(cudaMalloc(&d_ws, ws_bytes));
  cuda::batched_nms(batch, n, c, d_boxes, d_scores, p, d_ob, d_os, d_oc, d_on, d_ws, ws_bytes, nullptr);
  CUDA_CHECK(cudaDeviceSynchronize());
  EXPECT_EQ(to_host(d_on, batch), on);
  EXPECT_EQ(to_host(d_oc, oc.size()), oc);
  EXPECT_EQ(to_host(d_os, os.size()), os);
  EXPECT_EQ(to_host(d_ob, ob.size()), ob);
  EXPECT_EQ(on[0], 0);
  for (float* q : {d_boxes, d_scores, d_ob, d_os}) CUDA_CHECK(cudaFree(q));
  for (int32_t* q : {d_oc, d_on}) CUDA_CHECK(cudaFree(q));
  CUDA_CHECK(cudaFree(d_ws));
}

TEST(CudaNms, IdenticalKeepListsManyBoxes) {
  LOCDET_REQUIRE_GPU();
  NmsParams p;
  p.pre_nms_topk = 1000;
  p.max_det = 100;
  compare(16, 1000, 1, p, 1, 0.0f);
  compare(8, 400, 10, p, 2, 1.0f / 32);  // heavy score ties across classes and boxes
}

TEST(CudaNms, IdenticalWithSmallLimits) {
  LOCDET_REQUIRE_GPU();
  NmsParams p;
  p.pre_nms_topk = 70;  // not a multiple of 64
  p.max_det = 5;
  p.iou_threshold = 0.3f;
  p.score_threshold = 0.5f;
  compare(5, 200, 3, p, 3, 1.0f / 8);
  p.max_det = 0;
  compare(2, 10, 2, p, 4, 0.0f);
}

}  // namespace
}  // namespace locdet
