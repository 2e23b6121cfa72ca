// Localizer targets: the CUDA kernel calls the same per-cell function as the CPU loop, so
// every output must be bit-identical (integers and floats alike).
#include <cuda_runtime.h>

#include <random>
#include <vector>

#include "kernels/cpu/localizer_targets.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/localizer_targets.h"
#include "tests/cuda/cuda_test_util.h"

namespace locdet {
namespace {

using test::to_device;
using test::to_host;

TEST(LocalizerTargetsCuda, IdenticalToCpu) {
  LOCDET_REQUIRE_GPU();
  const LocalizerGrid grid{12, 15, 1};
  const int batch = 64, cells = 180;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> labels;
  for (int n = 0; n < batch; ++n) {
    const float w = 0.1f + 0.4f * u(rng), h = 0.1f + 0.4f * u(rng);
    labels.insert(labels.end(), {u(rng) < 0.9f ? 1.0f : 0.0f, w / 2 + (1 - w) * u(rng),
                                 h / 2 + (1 - h) * u(rng), w, h, static_cast<float>(n % 10)});
  }
  std::vector<int32_t> centre(batch), cls(batch * cells);
  std::vector<float> presence(batch), image_weight(batch), weight(batch * cells), box(batch * cells * 4);
  cpu::localizer_targets(batch, grid, labels.data(), centre.data(), presence.data(), image_weight.data(),
                         cls.data(), weight.data(), box.data());

  float* d_labels = to_device(labels);
  int32_t* d_centre = to_device(centre);
  int32_t* d_cls = to_device(cls);
  float* d_presence = to_device(presence);
  float* d_image_weight = to_device(image_weight);
  float* d_weight = to_device(weight);
  float* d_box = to_device(box);
  CUDA_CHECK(cudaMemset(d_centre, 0xff, batch * sizeof(int32_t)));
  CUDA_CHECK(cudaMemset(d_weight, 0xff, batch * cells * sizeof(float)));
  cuda::localizer_targets(batch, grid, d_labels, d_centre, d_presence, d_image_weight, d_cls, d_weight, d_box,
                          0);
  CUDA_CHECK(cudaDeviceSynchronize());
  EXPECT_EQ(to_host(d_centre, batch), centre);
  EXPECT_EQ(to_host(d_cls, batch * cells), cls);
  EXPECT_EQ(to_host(d_presence, batch), presence);
  EXPECT_EQ(to_host(d_image_weight, batch), image_weight);
  EXPECT_EQ(to_host(d_weight, batch * cells), weight);
  EXPECT_EQ(to_host(d_box, batch * cells * 4), box);
  for (void* p : {static_cast<void*>(d_labels), static_cast<void*>(d_centre), static_cast<void*>(d_cls),
                  static_cast<void*>(d_presence), static_cast<void*>(d_image_weight),
                  static_cast<void*>(d_weight), static_cast<void*>(d_box)})
    CUDA_CHECK(cudaFree(p));
}

}  // namespace
}  // namespace locdet
