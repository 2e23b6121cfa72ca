// CUDA dataset augmentation vs the CPU reference (kernels/cpu/augment). Tolerance: pixels
// |diff| <= 1e-6, labels and image choices identical. Why so tight: both backends run the same
// kernels/common/augment.h code with explicitly rounded hd_* ops (no FMA contraction on the
// device, none on the x86-64 host) and exact 24-bit uniforms, so the results are expected to be
// bit-identical; 1e-6 only leaves room for a host compiler that contracts despite that.
#include <cuda_runtime.h>

#include <random>
#include <vector>

#include "kernels/cpu/augment.h"
#include "kernels/cuda/augment.h"
#include "tests/cuda/cuda_test_util.h"

namespace {

using namespace locdet;

TEST(AugmentCuda, MatchesCpu) {
  LOCDET_REQUIRE_GPU();
  const int count = 37, height = 48, width = 60;
  std::mt19937 rng(3);
  std::vector<uint8_t> pixels(static_cast<size_t>(count) * height * width);
  for (auto& v : pixels) v = static_cast<uint8_t>(rng() % 256);
  std::vector<SceneLabel> labels(count);
  for (int i = 0; i < count; ++i) {
    SceneLabel& l = labels[i];
    l.count = static_cast<int>(rng() % 5);
    for (int k = 0; k < kLabelMaxBoxes; ++k) {
      l.cls[k] = k < l.count ? static_cast<int>(rng() % 10) : -1;
      l.mnist_index[k] = k < l.count ? i : -1;
      const float x0 = static_cast<float>(rng() % 40), y0 = static_cast<float>(rng() % 30);
      const float box[4] = {x0, y0, x0 + 4 + rng() % 16, y0 + 4 + rng() % 14};
      for (int j = 0; j < 4; ++j) l.box[k][j] = k < l.count ? box[j] : 0.0f;
    }
  }
  cuda::DeviceDataset device;
  device.upload(pixels.data(), labels.data(), count, height, width);
  const DatasetView host_view{pixels.data(), labels.data(), count};

  AugmentParams identity;
  identity.height = height;
  identity.width = width;
  AugmentParams strong = identity;
  strong.scale_min = 0.6f;
  strong.scale_max = 1.6f;
  strong.translate = 0.3f;
  strong.contrast = 0.3f;
  strong.brightness = 0.2f;
  strong.noise = 0.1f;
  std::vector<uint64_t> indices;
  for (uint64_t i = 0; i < 200; ++i) indices.push_back(i);
  indices.push_back(1ull << 33);  // high counter word and a large epoch
  indices.push_back(123456789);
  const int n = static_cast<int>(indices.size());
  test::DeviceBuffer<uint64_t> d_indices(indices);
  test::DeviceBuffer<float> d_images(static_cast<size_t>(n) * height * width);
  test::DeviceBuffer<SceneLabel> d_labels(n);
  for (const AugmentParams& p : {identity, strong}) {
    for (uint64_t seed : {0ull, 12345ull}) {
      std::vector<float> ref(static_cast<size_t>(n) * height * width);
      std::vector<SceneLabel> ref_labels(n);
      cpu::augment_batch(p, host_view, dataset_key(seed), 0, indices.data(), n, ref.data(),
                         ref_labels.data());
      cuda::augment_batch(p, device.view(), dataset_key(seed), 0, d_indices.get(), n, d_images.get(),
                          d_labels.get(), nullptr);
      test::expect_close(ref, d_images.download(), 1e-6, 0.0, "augmented pixels");
      const std::vector<SceneLabel> got = d_labels.download();
      for (int b = 0; b < n; ++b) {
        ASSERT_EQ(ref_labels[b].count, got[b].count) << "sample " << indices[b];
        for (int k = 0; k < ref_labels[b].count; ++k) {
          EXPECT_EQ(ref_labels[b].cls[k], got[b].cls[k]);
          EXPECT_EQ(ref_labels[b].mnist_index[k], got[b].mnist_index[k]);
          for (int j = 0; j < 4; ++j) EXPECT_EQ(ref_labels[b].box[k][j], got[b].box[k][j]) << indices[b];
        }
      }
    }
  }
}

}  // namespace
