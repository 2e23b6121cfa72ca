// CPU reference for the scene renderer; see kernels/cpu/scene.h.
#include "kernels/cpu/scene.h"

namespace locdet::cpu {

void render_scene(const SceneParams& p, const DigitSource& src, SceneKey key, uint64_t sample, float* image,
                  SceneLabel* label, SceneLayout* layout_out) {
  SceneLayout layout;
  draw_scene_layout(p, src, key, sample, &layout);
  int ink[kSceneMaxDigits][4];
  for (int k = 0; k < kSceneMaxDigits; ++k) {
    ink[k][0] = p.width;
    ink[k][1] = p.height;
    ink[k][2] = -1;
    ink[k][3] = -1;
  }
  const int count = layout.count;
  const float threshold = p.ink_threshold;
  Philox4 noise{};
  int pixel = 0;
  for (int y = 0; y < p.height; ++y) {
    const float py = static_cast<float>(y) + 0.5f;
    for (int x = 0; x < p.width; ++x, ++pixel) {
      if ((pixel & 3) == 0) noise = scene_noise_block(key, sample, static_cast<uint32_t>(pixel >> 2));
      float value = scene_background(p, layout, x, y, philox_uniform(noise.v[pixel & 3]));
      const float px = static_cast<float>(x) + 0.5f;
      for (int k = 0; k < count; ++k) {
        float coverage = digit_coverage(layout.digit[k], src.pixels, px, py);
        if (coverage >= threshold) {
          ink[k][0] = x < ink[k][0] ? x : ink[k][0];
          ink[k][1] = y < ink[k][1] ? y : ink[k][1];
          ink[k][2] = x > ink[k][2] ? x : ink[k][2];
          ink[k][3] = y > ink[k][3] ? y : ink[k][3];
        }
        value = hd_max(value, coverage);
      }
      image[pixel] = hd_min(hd_max(value, 0.0f), 1.0f);
    }
  }
  scene_label(p, layout, ink, label);
  if (layout_out) *layout_out = layout;
}

void render_scene_batch(const SceneParams& p, const DigitSource& src, SceneKey key, uint64_t first_index,
                        const uint64_t* indices, int batch, float* images, SceneLabel* labels) {
  const int64_t pixels = static_cast<int64_t>(p.height) * p.width;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < batch; ++b) {
    uint64_t sample = indices ? indices[b] : first_index + static_cast<uint64_t>(b);
    render_scene(p, src, key, sample, images + b * pixels, labels + b);
  }
}

}  // namespace locdet::cpu
