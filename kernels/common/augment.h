// Training-time augmentation of a dataset's stored images, shared by the CPU reference
// (kernels/cpu/augment) and the CUDA kernel (kernels/cuda/augment).
//
// A training sample is a pure function of (params, dataset, key(seed), sample index), like a
// rendered scene, so any batch size, order, thread count or device gives the same sample and a
// resumed run sees the same batches:
//  1. dataset_image_of_sample: sample s belongs to epoch e = s / n; its image is position
//     s % n of a seeded permutation of [0, n) for that epoch (a 4-round Feistel network over
//     the next even power of two, cycle-walked into [0, n)): each epoch visits every image
//     once, in an order that changes from epoch to epoch.
//  2. draw_augment (Philox stream 0 of the sample): scale s uniform in [scale_min, scale_max],
//     lowered if needed so the union of the image's boxes fits; the offset centres the zoom on
//     the image centre and is then shifted by up to `translate` of the side, uniformly within
//     the range that keeps the scaled union of boxes inside the image; gain uniform in
//     [1 - contrast, 1 + contrast], bias in [-brightness, brightness], noise strength in
//     [0, noise].
//  3. per output pixel: the stored image is sampled bilinearly at the inverse-mapped pixel
//     centre (taps outside it read 0, the letterbox fill), then
//     v = clamp(v * gain + bias + strength * (2U - 1), 0, 1), U from Philox stream 1 (one
//     block per 4 consecutive pixels, row major, as the scene renderer).
//  4. every box maps by x' = s x + ox, y' = s y + oy and is clamped to the image.
// Zero params (scale 1, no translation, contrast, brightness or noise) reproduce the stored
// image and boxes exactly. All float math goes through hd_* (no FMA contraction), so the host
// and the GPU produce bit-identical pixels and boxes.
#pragma once

#include <cstdint>

#include "kernels/common/hostdevice.h"
#include "kernels/common/philox.h"
#include "kernels/common/scene.h"

namespace locdet {

constexpr uint32_t kAugmentStreamDraw = 0;
constexpr uint32_t kAugmentStreamNoise = 1;
constexpr uint32_t kAugmentStreamShuffle = 2;
constexpr int kDatasetKeySplit = 7;  // scene_key's split word for dataset streams (scenes use 0..2)

struct AugmentParams {
  int height = 48, width = 60;  // the stored images' size, which is the model input
  float scale_min = 1.0f, scale_max = 1.0f;
  float translate = 0.0f;   // largest shift, as a fraction of the image side
  float contrast = 0.0f;    // gain uniform in [1 - contrast, 1 + contrast]
  float brightness = 0.0f;  // bias uniform in [-brightness, brightness]
  float noise = 0.0f;       // per-image noise strength uniform in [0, noise]
};

// A dataset as the augmentation sees it (host or device pointers).
struct DatasetView {
  const uint8_t* pixels = nullptr;     // [count, height, width], gray 0..255
  const SceneLabel* labels = nullptr;  // [count]: boxes in pixels of the stored image
  int count = 0;
};

// What one sample drew.
struct AugmentDraw {
  int image;               // index into the dataset
  float scale, inv_scale;  // output = scale * stored + offset
  float offset_x, offset_y;
  float gain, bias, noise;
};

LOCDET_HD SceneKey dataset_key(uint64_t seed) {
  return scene_key(seed, kDatasetKeySplit);
}

// One of the permutations of [0, 2^(2 half_bits)) keyed by (key, epoch).
LOCDET_HD uint32_t feistel_permute(uint32_t x, int half_bits, uint32_t epoch, SceneKey key) {
  const uint32_t mask = (1u << half_bits) - 1u;
  uint32_t left = x >> half_bits, right = x & mask;
  for (uint32_t round = 0; round < 4; ++round) {
    const Philox4 r = philox4x32_10(Philox4{{right, round, epoch, kAugmentStreamShuffle}}, key.k0, key.k1);
    const uint32_t next = left ^ (r.v[0] & mask);
    left = right;
    right = next;
  }
  return (left << half_bits) | right;
}

// The dataset image of training sample `sample` (see the header comment); count >= 1.
LOCDET_HD int dataset_image_of_sample(uint64_t sample, int count, SceneKey key) {
  if (count <= 1) return 0;
  const uint64_t n = static_cast<uint64_t>(count);
  const uint32_t epoch = static_cast<uint32_t>(sample / n);
  int bits = 1;
  while ((uint64_t{1} << bits) < n) ++bits;
  const int half_bits = (bits + 1) / 2;
  // Cycle walking: x starts below n and the permutation's cycle through x returns to [0, n).
  uint32_t x = static_cast<uint32_t>(sample % n);
  do {
    x = feistel_permute(x, half_bits, epoch, key);
  } while (x >= n);
  return static_cast<int>(x);
}

LOCDET_HD float hd_clamp(float v, float lo, float hi) {
  return hd_min(hd_max(v, lo), hi);
}

LOCDET_HD void draw_augment(const AugmentParams& p, const DatasetView& data, SceneKey key, uint64_t sample,
                            AugmentDraw* d) {
  d->image = dataset_image_of_sample(sample, data.count, key);
  PhiloxStream rng;
  rng.init(key.k0, key.k1, sample, kAugmentStreamDraw);
  float scale = rng.uniform(p.scale_min, p.scale_max);
  const float shift_u[2] = {rng.uniform(), rng.uniform()};
  d->gain = rng.uniform(hd_sub(1.0f, p.contrast), hd_add(1.0f, p.contrast));
  d->bias = rng.uniform(-p.brightness, p.brightness);
  d->noise = rng.uniform(0.0f, p.noise);

  const SceneLabel& label = data.labels[d->image];
  const int count = label.count < 0 ? 0 : (label.count > kLabelMaxBoxes ? kLabelMaxBoxes : label.count);
  const float side[2] = {static_cast<float>(p.width), static_cast<float>(p.height)};
  float lo_edge[2] = {side[0], side[1]}, hi_edge[2] = {0.0f, 0.0f};  // union of the boxes
  for (int k = 0; k < count; ++k) {
    for (int a = 0; a < 2; ++a) {
      lo_edge[a] = hd_min(lo_edge[a], label.box[k][a]);
      hi_edge[a] = hd_max(hi_edge[a], label.box[k][a + 2]);
    }
  }
  for (int a = 0; a < 2 && count > 0; ++a) {
    const float extent = hd_sub(hi_edge[a], lo_edge[a]);
    if (extent > 0.0f) scale = hd_min(scale, hd_div(side[a], extent));
  }
  d->scale = scale;
  d->inv_scale = hd_div(1.0f, scale);
  float offset[2];
  for (int a = 0; a < 2; ++a) {
    const float centred = hd_mul(hd_sub(1.0f, scale), hd_mul(0.5f, side[a]));
    const float reach = hd_mul(p.translate, side[a]);
    float lo = hd_sub(centred, reach), hi = hd_add(centred, reach);
    if (count > 0) {
      const float keep_lo = -hd_mul(scale, lo_edge[a]);                  // union's low edge >= 0
      const float keep_hi = hd_sub(side[a], hd_mul(scale, hi_edge[a]));  // union's high edge <= side
      lo = hd_max(lo, keep_lo);
      hi = hd_min(hi, keep_hi);
      if (lo > hi) lo = hi = hd_clamp(centred, keep_lo, hd_max(keep_lo, keep_hi));
    }
    offset[a] = hd_lerp(lo, hi, shift_u[a]);
  }
  d->offset_x = offset[0];
  d->offset_y = offset[1];
}

// Output pixel (x, y) of the sample whose stored image is `image` [height, width], given the
// pixel's noise uniform u.
LOCDET_HD float augment_pixel(const AugmentParams& p, const uint8_t* image, const AugmentDraw& d, int x,
                              int y, float u) {
  // Pixel centre x + 0.5 maps back to (x + 0.5 - offset) / scale in the stored image, whose
  // pixel j has its centre at j + 0.5.
  const float sx = hd_sub(hd_mul(hd_sub(static_cast<float>(x) + 0.5f, d.offset_x), d.inv_scale), 0.5f);
  const float sy = hd_sub(hd_mul(hd_sub(static_cast<float>(y) + 0.5f, d.offset_y), d.inv_scale), 0.5f);
  const float fx = floorf(sx), fy = floorf(sy);
  const float ax = hd_sub(sx, fx), ay = hd_sub(sy, fy);
  const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
  auto tap = [&](int tx, int ty) -> float {
    return (tx >= 0 && tx < p.width && ty >= 0 && ty < p.height)
               ? static_cast<float>(image[static_cast<int64_t>(ty) * p.width + tx])
               : 0.0f;
  };
  const float p00 = tap(x0, y0), p01 = tap(x0 + 1, y0), p10 = tap(x0, y0 + 1), p11 = tap(x0 + 1, y0 + 1);
  const float top = hd_add(p00, hd_mul(ax, hd_sub(p01, p00)));
  const float bottom = hd_add(p10, hd_mul(ax, hd_sub(p11, p10)));
  float v = hd_div(hd_add(top, hd_mul(ay, hd_sub(bottom, top))), 255.0f);  // as the stored byte / 255
  v = hd_add(hd_add(hd_mul(v, d.gain), d.bias), hd_mul(d.noise, hd_sub(hd_mul(2.0f, u), 1.0f)));
  return hd_clamp(v, 0.0f, 1.0f);
}

// Pixel noise: Philox block q of stream 1 gives the uniforms of pixels 4q .. 4q+3.
LOCDET_HD Philox4 augment_noise_block(SceneKey key, uint64_t sample, uint32_t quad) {
  return philox4x32_10(Philox4{{static_cast<uint32_t>(sample), static_cast<uint32_t>(sample >> 32), quad,
                                kAugmentStreamNoise}},
                       key.k0, key.k1);
}

// The sample's label: the stored image's boxes mapped by the draw, clamped to the image.
LOCDET_HD void augment_label(const AugmentParams& p, const SceneLabel& in, const AugmentDraw& d,
                             SceneLabel* out) {
  const int count = in.count < 0 ? 0 : (in.count > kLabelMaxBoxes ? kLabelMaxBoxes : in.count);
  const float side[2] = {static_cast<float>(p.width), static_cast<float>(p.height)};
  const float offset[2] = {d.offset_x, d.offset_y};
  out->count = count;
  for (int k = 0; k < kLabelMaxBoxes; ++k) {
    out->cls[k] = k < count ? in.cls[k] : -1;
    out->mnist_index[k] = k < count ? in.mnist_index[k] : -1;
    for (int i = 0; i < 4; ++i) {
      const int a = i & 1;
      out->box[k][i] =
          k < count ? hd_clamp(hd_add(hd_mul(d.scale, in.box[k][i]), offset[a]), 0.0f, side[a]) : 0.0f;
    }
  }
}

}  // namespace locdet
