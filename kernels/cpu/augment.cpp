// CPU reference of the dataset augmentation; see kernels/cpu/augment.h.
#include "kernels/cpu/augment.h"

namespace locdet::cpu {

void augment_sample(const AugmentParams& p, const DatasetView& data, SceneKey key, uint64_t sample,
                    float* image, SceneLabel* label, AugmentDraw* draw_out) {
  AugmentDraw d;
  draw_augment(p, data, key, sample, &d);
  const uint8_t* stored = data.pixels + static_cast<int64_t>(d.image) * p.height * p.width;
  Philox4 noise{};
  int pixel = 0;
  for (int y = 0; y < p.height; ++y) {
    for (int x = 0; x < p.width; ++x, ++pixel) {
      if ((pixel & 3) == 0) noise = augment_noise_block(key, sample, static_cast<uint32_t>(pixel >> 2));
      image[pixel] = augment_pixel(p, stored, d, x, y, philox_uniform(noise.v[pixel & 3]));
    }
  }
  augment_label(p, data.labels[d.image], d, label);
  if (draw_out) *draw_out = d;
}

void augment_batch(const AugmentParams& p, const DatasetView& data, SceneKey key, uint64_t first_sample,
                   const uint64_t* indices, int batch, float* images, SceneLabel* labels) {
  const int64_t pixels = static_cast<int64_t>(p.height) * p.width;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < batch; ++b) {
    const uint64_t sample = indices ? indices[b] : first_sample + static_cast<uint64_t>(b);
    augment_sample(p, data, key, sample, images + b * pixels, labels + b);
  }
}

}  // namespace locdet::cpu
