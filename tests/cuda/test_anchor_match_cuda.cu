// Anchor generation and matching: CUDA vs CPU. Integer outputs (assigned, target_class) and
// counts must be identical; anchors and targets are copies/exact products, so equal too.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/cpu/anchor_match.h"
#include "kernels/cuda/anchor_match.h"
#include "kernels/cuda/cuda_check.h"
#include "tests/cuda/cuda_test_util.h"

namespace locdet {
namespace {

using test::to_device;
using test::to_host;

TEST(CudaAnchorMatch, IdenticalToCpu) {
  LOCDET_REQUIRE_GPU();
  // 48x60 image, stride 4 -> 12x15 grid, 3 sizes; 64 images with 0..6 GTs (slots up to 6).
  const int gh = 12, gw = 15, k = 3, batch = 64, max_gt = 6;
  const std::vector<float> sizes = {10, 14, 16, 16, 20, 26};
  const int64_t A = gh * gw * k;
  std::vector<float> anchors(A * 4);
  cpu::generate_anchors(gh, gw, k, 4.0f, sizes.data(), anchors.data());
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> gts(batch * max_gt * 4);
  std::vector<int32_t> cls(batch * max_gt), count(batch);
  for (int b = 0; b < batch; ++b) {
    count[b] = b % (max_gt + 1);
    for (int g = 0; g < max_gt; ++g) {
      float w = 8 + u(rng) * 20, h = 10 + u(rng) * 20, x = u(rng) * (60 - w), y = u(rng) * (48 - h);
      // Every 5th GT sits exactly on an anchor: exercises IoU == 1 and threshold equality.
      if ((b + g) % 5 == 0) x = 4 * (g + 1) + 2 - 5, y = 2 + 4 * g - 7, w = 10, h = 14;
      float* box = &gts[4 * (b * max_gt + g)];
      box[0] = x, box[1] = y, box[2] = x + w, box[3] = y + h;
      cls[b * max_gt + g] = (b + g) % 10;
    }
  }
  std::vector<int32_t> assigned(batch * A), tcls(batch * A),
      ws(cpu::match_anchors_workspace_elems(batch, max_gt));
  std::vector<float> targets(batch * A * 4), num_pos(batch);
  cpu::match_anchors<float>(batch, A, anchors.data(), max_gt, gts.data(), cls.data(), count.data(), 0.5f,
                            0.4f, assigned.data(), targets.data(), tcls.data(), ws.data());
  cpu::count_positives<float>(batch, A, assigned.data(), num_pos.data());

  float* d_sizes = to_device(sizes);
  float* d_anchors = to_device(std::vector<float>(A * 4));
  cuda::generate_anchors(gh, gw, k, 4.0f, d_sizes, d_anchors, nullptr);
  float *d_gts = to_device(gts), *d_targets = to_device(std::vector<float>(targets.size()));
  float* d_num_pos = to_device(std::vector<float>(batch));
  int32_t *d_cls = to_device(cls), *d_count = to_device(count), *d_ws = to_device(ws);
  int32_t *d_assigned = to_device(std::vector<int32_t>(assigned.size())),
          *d_tcls = to_device(std::vector<int32_t>(tcls.size()));
  cuda::match_anchors(batch, A, d_anchors, max_gt, d_gts, d_cls, d_count, 0.5f, 0.4f, d_assigned, d_targets,
                      d_tcls, d_ws, nullptr);
  cuda::count_positives(batch, A, d_assigned, d_num_pos, nullptr);
  CUDA_CHECK(cudaDeviceSynchronize());
  EXPECT_EQ(to_host(d_anchors, A * 4), anchors);
  EXPECT_EQ(to_host(d_assigned, assigned.size()), assigned);
  EXPECT_EQ(to_host(d_tcls, tcls.size()), tcls);
  EXPECT_EQ(to_host(d_targets, targets.size()), targets);
  EXPECT_EQ(to_host(d_num_pos, batch), num_pos);
  int positives = 0;
  for (int32_t a : assigned) positives += a >= 0;
  EXPECT_GT(positives, batch);  // the case is not trivially empty
  for (float* p : {d_sizes, d_anchors, d_gts, d_targets, d_num_pos}) CUDA_CHECK(cudaFree(p));
  for (int32_t* p : {d_cls, d_count, d_ws, d_assigned, d_tcls}) CUDA_CHECK(cudaFree(p));
}

}  // namespace
}  // namespace locdet
