// CUDA scene renderer vs the CPU reference, every built-in preset, MNIST when present
// (else the synthetic bank). Tolerance: pixels |diff| <= 1e-6, labels identical. Why so
// tight: both backends run the same kernels/common/scene.h code, every float op there
// is an explicitly rounded hd_* op (no FMA contraction on the device, none on the x86-64
// host), sin/cos are our own polynomials and noise uniforms are exact 24-bit fractions,
// so the results are expected to be bit-identical; 1e-6 only leaves room for a host
// compiler that contracts despite that. Layout decisions (counts, classes, MNIST
// indices, integer ink extents) have no tolerance at all.
#include <cuda_runtime.h>

#include <cstring>
#include <vector>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/scene.h"
#include "models/digits/scene.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/test_scene_helpers.h"

namespace {

using namespace locdet;
using namespace locdet::data;

void compare_backends(const Preset& preset, const DigitBank& bank, Split split,
                      const std::vector<uint64_t>& indices) {
  SceneSource source(bank, preset, split);
  SceneBatch ref;
  render_scenes_cpu(preset, split, 77, source, indices, &ref, SceneMode::kEndless);

  cuda::DeviceDigits digits;
  digits.upload(bank.pixels.data(), bank.labels.data(), bank.ink_box.data(), bank.count());
  digits.set_pool(source.pool.data(), static_cast<int>(source.pool.size()));
  const int n = static_cast<int>(indices.size());
  const size_t pixels = static_cast<size_t>(n) * preset.height * preset.width;
  float* d_images = nullptr;
  SceneLabel* d_labels = nullptr;
  uint64_t* d_indices = nullptr;
  CUDA_CHECK(cudaMalloc(&d_images, pixels * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&d_labels, n * sizeof(SceneLabel)));
  CUDA_CHECK(cudaMalloc(&d_indices, n * sizeof(uint64_t)));
  CUDA_CHECK(cudaMemcpy(d_indices, indices.data(), n * sizeof(uint64_t), cudaMemcpyHostToDevice));
  cuda::render_scene_batch(preset.params(split), digits.source(), scene_key(77, static_cast<int>(split)), 0,
                           d_indices, n, d_images, d_labels, nullptr);
  std::vector<float> images(pixels);
  std::vector<SceneLabel> labels(n);
  CUDA_CHECK(cudaMemcpy(images.data(), d_images, pixels * sizeof(float), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(labels.data(), d_labels, n * sizeof(SceneLabel), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaFree(d_images));
  CUDA_CHECK(cudaFree(d_labels));
  CUDA_CHECK(cudaFree(d_indices));

  double worst = test::expect_close(ref.images, images, 1e-6, 0.0, preset.name.c_str());
  int identical = 0;
  for (size_t i = 0; i < pixels; ++i) identical += ref.images[i] == images[i];
  for (int b = 0; b < n; ++b) {
    const SceneLabel &r = ref.labels[b], &g = labels[b];
    ASSERT_EQ(r.count, g.count) << preset.name << " sample " << indices[b];
    for (int k = 0; k < r.count; ++k) {
      EXPECT_EQ(r.cls[k], g.cls[k]);
      EXPECT_EQ(r.mnist_index[k], g.mnist_index[k]);
      for (int i = 0; i < 4; ++i)
        EXPECT_EQ(r.box[k][i], g.box[k][i]) << preset.name << " sample " << indices[b];
    }
  }
  std::printf("[ %s ] worst pixel diff %.3g, %d of %zu pixels bit-identical\n", preset.name.c_str(), worst,
              identical, pixels);
}

TEST(SceneCuda, MatchesCpuAllPresets) {
  LOCDET_REQUIRE_GPU();
  const DigitBank* mnist = test::mnist_bank();
  DigitBank synthetic = test::synthetic_bank();
  const DigitBank& bank = mnist ? *mnist : synthetic;
  std::vector<uint64_t> indices;
  for (uint64_t i = 0; i < 500; ++i) indices.push_back(i);
  indices.push_back(1ull << 33);  // high counter word in use
  indices.push_back(123456789);
  for (const auto& preset : builtin_presets())
    for (Split split : {Split::kTrain, Split::kTest}) compare_backends(preset, bank, split, indices);
}

TEST(SceneCuda, SmoothNoiseAndOddSizes) {
  LOCDET_REQUIRE_GPU();
  DigitBank bank = test::synthetic_bank();
  Preset preset = preset_from_json(R"({"name": "odd", "base": "det10", "height": 37, "width": 53,
                                       "smooth_max": 0.2, "max_iou": 0.3})");
  std::vector<uint64_t> indices = {5, 3, 999, 0, 42};
  compare_backends(preset, bank, Split::kVal, indices);
}

// The training split's shape augmentation (a shear and a stroke change per digit).
TEST(SceneCuda, ShearAndStroke) {
  LOCDET_REQUIRE_GPU();
  const DigitBank* mnist = test::mnist_bank();
  DigitBank synthetic = test::synthetic_bank();
  Preset preset = preset_from_json(R"({"name": "slanted", "base": "det10", "train_shear": 0.4,
                                       "train_stroke": 1.0})");
  std::vector<uint64_t> indices;
  for (uint64_t i = 0; i < 200; ++i) indices.push_back(i);
  compare_backends(preset, mnist ? *mnist : synthetic, Split::kTrain, indices);
}

}  // namespace
