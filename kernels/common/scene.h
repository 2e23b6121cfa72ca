// Augmented-MNIST scene sampling shared by the CPU reference and the CUDA kernel.
//
// A scene is a pure function of (params, digit source, key(seed, split), sample index):
//  1. draw_scene_layout(): Philox stream 0 of the sample draws the noise strengths, the
//     digit count (no-object with probability no_object_rate, else uniform in
//     [min_digits, max_digits]) and, per digit, an MNIST index, a scale, a rotation, a
//     translation and, only when the params ask for them (so scenes without them draw
//     exactly what they always drew), a shear and a stroke change. Placement keeps the
//     digit's footprint (the transformed box of its nonzero source pixels, grown by the
//     bilinear support and a thickened stroke) inside the image and, by rejection with at
//     most max_tries attempts, away from earlier digits; a digit that cannot be placed is
//     dropped.
//  2. per pixel: background = noise * U + smooth * bilinear(coarse grid), with U from
//     Philox stream 1 (one block per 4 consecutive pixels, row major); each digit's
//     coverage = bilinear sample of its 28x28 source at the inverse-transformed pixel
//     centre (with a stroke change: the max (thicker) or min (thinner) of that sample and
//     four more, `stroke` source pixels away along the source axes); pixel =
//     clamp(max(background, max coverage), 0, 1).
//  3. box: the pixels whose coverage (before noise) is >= ink_threshold; box = [min col,
//     min row, max col + 1, max row + 1] in pixels (pixel edges), so the label is exact.
// All float math goes through hd_* (no FMA contraction) and a polynomial sin/cos, so
// the host and the GPU produce bit-identical layouts, pixels and boxes.
#pragma once

#include <cstdint>

#include "kernels/common/hostdevice.h"
#include "kernels/common/philox.h"

namespace locdet {

constexpr int kSceneMaxDigits = 8;  // digits a rendered scene may hold
constexpr int kLabelMaxBoxes = 32;  // boxes a label row carries (scenes use at most kSceneMaxDigits)
constexpr int kMaxClasses = 128;    // class values a label row may hold: 0 .. kMaxClasses - 1
constexpr int kSmoothNodes = 5;     // smooth-noise grid: 5 x 5 nodes spread over the image
constexpr int kDigitSide = 28;      // MNIST digits are 28 x 28
constexpr uint32_t kSceneStreamLayout = 0;
constexpr uint32_t kSceneStreamNoise = 1;

// The preset, as plain numbers both backends can read.
struct SceneParams {
  int height = 48, width = 60;
  int min_digits = 1, max_digits = 1;
  float no_object_rate = 0.0f;
  float scale_min = 1.0f, scale_max = 1.0f;
  float rotation_deg = 0.0f;  // angle uniform in [-rotation_deg, rotation_deg]
  float noise_min = 0.0f, noise_max = 0.0f;
  float smooth_min = 0.0f, smooth_max = 0.0f;
  float max_iou = 0.0f;  // two footprints may overlap up to this IoU; 0 = must not intersect
  float ink_threshold = 0.5f;
  int integer_offset = 0;            // translations on the integer grid (ayulockin-loc)
  int patch_box = 0;                 // box = transformed 28x28 patch instead of the ink
  int grid_rows = 0, grid_cols = 0;  // > 0: at most one footprint centre per grid cell
  int max_tries = 32;
  // Training augmentations of the digit's shape (0 = off; the presets keep them to the
  // training split): a horizontal shear x += k * y of the source, k uniform in [-shear, shear],
  // and a stroke change r uniform in [-stroke, stroke] source pixels (r > 0 thickens the
  // strokes by about r on each side, r < 0 thins them).
  float shear = 0.0f;
  float stroke = 0.0f;
};

// Source digits as seen by the rendering backend (host or device pointers).
struct DigitSource {
  const uint8_t* pixels = nullptr;   // [n, 28, 28], global index (MNIST train then test)
  const uint8_t* labels = nullptr;   // [n]
  const uint8_t* ink_box = nullptr;  // [n, 4]: min col, min row, max col, max row of pixels > 0
  const int32_t* pool = nullptr;     // global indices this split and preset may draw
  int pool_size = 0;
};

struct SceneDigit {
  int mnist_index;
  int cls;
  float inv[4];  // source offset from the digit centre = inv * (pixel - t)
  float tx, ty;  // digit centre in image pixels
  float fp[4];   // footprint x0, y0, x1, y1 (pixels): coverage is 0 outside it
  float stroke;  // stroke change in source pixels: > 0 thicker, < 0 thinner, 0 as drawn
};

struct SceneLayout {
  int count;
  float noise;
  float smooth;
  float smooth_grid[kSmoothNodes * kSmoothNodes];
  SceneDigit digit[kSceneMaxDigits];
};

// Output labels of one image. Boxes are x1, y1, x2, y2 in pixels (x2, y2 exclusive edges).
// The same rows carry a dataset's images (models/dataset_feed): there `cls` is the dataset's
// class index and `mnist_index` the image's index in the dataset.
struct SceneLabel {
  int32_t count;
  int32_t cls[kLabelMaxBoxes];
  int32_t mnist_index[kLabelMaxBoxes];  // where the box came from: MNIST global index or dataset image
  float box[kLabelMaxBoxes][4];
};

// A rendered scene's label in the first seed's convention, from its first digit (the
// localization presets have at most one): [1, cx, cy, w, h, class], all zeros when empty.
template <typename T>
LOCDET_HD void scene_label_to_localizer(const SceneLabel& label, int height, int width, T* out) {
  if (label.count <= 0) {
    for (int i = 0; i < 6; ++i) out[i] = T(0);
    return;
  }
  const float* b = label.box[0];
  out[0] = T(1);
  out[1] = T(0.5f * (b[0] + b[2]) / width);
  out[2] = T(0.5f * (b[1] + b[3]) / height);
  out[3] = T((b[2] - b[0]) / width);
  out[4] = T((b[3] - b[1]) / height);
  out[5] = T(label.cls[0]);
}

struct SceneKey {
  uint32_t k0, k1;
};

// Seed and split select the Philox key; the sample index is the counter.
LOCDET_HD SceneKey scene_key(uint64_t seed, int split) {
  return SceneKey{
      static_cast<uint32_t>(seed),
      static_cast<uint32_t>(seed >> 32) ^ (0x5CE0E000u + static_cast<uint32_t>(split) * 0x9E3779B9u)};
}

LOCDET_HD float hd_min(float a, float b) {
  return a < b ? a : b;
}
LOCDET_HD float hd_max(float a, float b) {
  return a > b ? a : b;
}

// sin and cos of an angle in degrees, |deg| <= 180, from Taylor polynomials on
// [-90, 90] evaluated with hd_* ops: the same bits on every backend (accuracy ~1e-7).
LOCDET_HD void hd_sincos_deg(float deg, float* s, float* c) {
  float sign_c = 1.0f;
  if (deg > 90.0f) {
    deg = hd_sub(180.0f, deg);
    sign_c = -1.0f;
  } else if (deg < -90.0f) {
    deg = hd_sub(-180.0f, deg);
    sign_c = -1.0f;
  }
  float x = hd_mul(deg, 0.0174532925199432958f);
  float x2 = hd_mul(x, x);
  // sin: x - x^3/3! + ... - x^15/15!; cos: 1 - x^2/2! + ... - x^14/14! (Horner)
  float ps = -7.6471637318198164759e-13f;
  ps = hd_add(hd_mul(ps, x2), 1.6059043836821614599e-10f);
  ps = hd_add(hd_mul(ps, x2), -2.5052108385441718775e-08f);
  ps = hd_add(hd_mul(ps, x2), 2.7557319223985890653e-06f);
  ps = hd_add(hd_mul(ps, x2), -1.9841269841269841270e-04f);
  ps = hd_add(hd_mul(ps, x2), 8.3333333333333333333e-03f);
  ps = hd_add(hd_mul(ps, x2), -1.6666666666666666667e-01f);
  ps = hd_add(hd_mul(ps, x2), 1.0f);
  float pc = -1.1470745597729724714e-11f;
  pc = hd_add(hd_mul(pc, x2), 2.0876756987868098979e-09f);
  pc = hd_add(hd_mul(pc, x2), -2.7557319223985890653e-07f);
  pc = hd_add(hd_mul(pc, x2), 2.4801587301587301587e-05f);
  pc = hd_add(hd_mul(pc, x2), -1.3888888888888888889e-03f);
  pc = hd_add(hd_mul(pc, x2), 4.1666666666666666667e-02f);
  pc = hd_add(hd_mul(pc, x2), -0.5f);
  pc = hd_add(hd_mul(pc, x2), 1.0f);
  *s = hd_mul(ps, x);
  *c = hd_mul(pc, sign_c);
}

LOCDET_HD float footprint_iou(const float* a, const float* b) {
  float iw = hd_sub(hd_min(a[2], b[2]), hd_max(a[0], b[0]));
  float ih = hd_sub(hd_min(a[3], b[3]), hd_max(a[1], b[1]));
  if (iw <= 0.0f || ih <= 0.0f) return 0.0f;
  float inter = hd_mul(iw, ih);
  float area_a = hd_mul(hd_sub(a[2], a[0]), hd_sub(a[3], a[1]));
  float area_b = hd_mul(hd_sub(b[2], b[0]), hd_sub(b[3], b[1]));
  return hd_div(inter, hd_sub(hd_add(area_a, area_b), inter));
}

// Tries to place one digit; false when it does not fit (caller retries or drops it).
LOCDET_HD bool place_digit(const SceneParams& p, const DigitSource& src, PhiloxStream& rng,
                           const SceneLayout& layout, SceneDigit* d) {
  int index = src.pool[rng.below(static_cast<uint32_t>(src.pool_size))];
  float scale = rng.uniform(p.scale_min, p.scale_max);
  float angle = rng.uniform(-p.rotation_deg, p.rotation_deg);
  float tx_u = rng.uniform();
  float ty_u = rng.uniform();
  // Drawn only when asked for, after the draws every scene makes.
  float shear = p.shear > 0.0f ? rng.uniform(-p.shear, p.shear) : 0.0f;
  d->stroke = p.stroke > 0.0f ? rng.uniform(-p.stroke, p.stroke) : 0.0f;
  float s, c;
  hd_sincos_deg(angle, &s, &c);
  // Forward map: pixel = scale * R * H * (source - 14) + t with the shear H = [1 k; 0 1];
  // inverse: H^-1 R^T / scale, H^-1 = [1 -k; 0 1].
  float inv_scale = hd_div(1.0f, scale);
  d->mnist_index = index;
  d->cls = src.labels[index];
  d->inv[2] = hd_mul(-s, inv_scale);
  d->inv[3] = hd_mul(c, inv_scale);
  d->inv[0] = hd_sub(hd_mul(c, inv_scale), hd_mul(shear, d->inv[2]));
  d->inv[1] = hd_sub(hd_mul(s, inv_scale), hd_mul(shear, d->inv[3]));
  // Source region (relative to the centre) outside which the bilinear sample is 0:
  // nonzero pixels j in [lo, hi] have centres j + 0.5 and a support of +-1 pixel, grown by
  // a thickening stroke's reach.
  const float half = 0.5f * kDigitSide;
  float sx0 = -half, sy0 = -half, sx1 = half, sy1 = half;
  if (!p.patch_box) {
    const uint8_t* ink = src.ink_box + 4 * static_cast<int64_t>(index);
    if (ink[2] < ink[0]) return false;  // blank digit: nothing to box
    float grow = hd_max(d->stroke, 0.0f);
    sx0 = hd_sub(static_cast<float>(ink[0]) - 0.5f - half, grow);
    sy0 = hd_sub(static_cast<float>(ink[1]) - 0.5f - half, grow);
    sx1 = hd_add(static_cast<float>(ink[2]) + 1.5f - half, grow);
    sy1 = hd_add(static_cast<float>(ink[3]) + 1.5f - half, grow);
  }
  // scale * R * H = scale * [c, c k - s; s, s k + c]
  float fwd_a = hd_mul(c, scale), fwd_b = hd_mul(hd_sub(hd_mul(c, shear), s), scale),
        fwd_c = hd_mul(s, scale), fwd_d = hd_mul(hd_add(hd_mul(s, shear), c), scale);
  float ex0 = 1e30f, ey0 = 1e30f, ex1 = -1e30f, ey1 = -1e30f;
  for (int corner = 0; corner < 4; ++corner) {
    float cx = (corner & 1) ? sx1 : sx0;
    float cy = (corner & 2) ? sy1 : sy0;
    float x = hd_add(hd_mul(fwd_a, cx), hd_mul(fwd_b, cy));
    float y = hd_add(hd_mul(fwd_c, cx), hd_mul(fwd_d, cy));
    ex0 = hd_min(ex0, x);
    ex1 = hd_max(ex1, x);
    ey0 = hd_min(ey0, y);
    ey1 = hd_max(ey1, y);
  }
  float tx_lo = -ex0, tx_hi = hd_sub(static_cast<float>(p.width), ex1);
  float ty_lo = -ey0, ty_hi = hd_sub(static_cast<float>(p.height), ey1);
  if (tx_hi < tx_lo || ty_hi < ty_lo) return false;
  if (p.integer_offset) {
    float x_lo = ceilf(tx_lo), x_hi = floorf(tx_hi), y_lo = ceilf(ty_lo), y_hi = floorf(ty_hi);
    if (x_hi < x_lo || y_hi < y_lo) return false;
    d->tx = hd_add(x_lo, floorf(hd_mul(tx_u, hd_add(hd_sub(x_hi, x_lo), 1.0f))));
    d->ty = hd_add(y_lo, floorf(hd_mul(ty_u, hd_add(hd_sub(y_hi, y_lo), 1.0f))));
  } else {
    d->tx = hd_lerp(tx_lo, tx_hi, tx_u);
    d->ty = hd_lerp(ty_lo, ty_hi, ty_u);
  }
  d->fp[0] = hd_add(d->tx, ex0);
  d->fp[1] = hd_add(d->ty, ey0);
  d->fp[2] = hd_add(d->tx, ex1);
  d->fp[3] = hd_add(d->ty, ey1);
  int cell = -1;
  if (p.grid_rows > 0 && p.grid_cols > 0) {
    float cx = hd_mul(hd_add(d->fp[0], d->fp[2]), 0.5f), cy = hd_mul(hd_add(d->fp[1], d->fp[3]), 0.5f);
    int col = static_cast<int>(
        floorf(hd_div(hd_mul(cx, static_cast<float>(p.grid_cols)), static_cast<float>(p.width))));
    int row = static_cast<int>(
        floorf(hd_div(hd_mul(cy, static_cast<float>(p.grid_rows)), static_cast<float>(p.height))));
    col = col < 0 ? 0 : (col >= p.grid_cols ? p.grid_cols - 1 : col);
    row = row < 0 ? 0 : (row >= p.grid_rows ? p.grid_rows - 1 : row);
    cell = row * p.grid_cols + col;
  }
  for (int k = 0; k < layout.count; ++k) {
    const SceneDigit& other = layout.digit[k];
    if (p.max_iou < 1.0f) {
      float iou = footprint_iou(d->fp, other.fp);
      if (p.max_iou <= 0.0f ? iou > 0.0f : iou > p.max_iou) return false;
    }
    if (cell >= 0) {
      float cx = hd_mul(hd_add(other.fp[0], other.fp[2]), 0.5f),
            cy = hd_mul(hd_add(other.fp[1], other.fp[3]), 0.5f);
      int col = static_cast<int>(
          floorf(hd_div(hd_mul(cx, static_cast<float>(p.grid_cols)), static_cast<float>(p.width))));
      int row = static_cast<int>(
          floorf(hd_div(hd_mul(cy, static_cast<float>(p.grid_rows)), static_cast<float>(p.height))));
      col = col < 0 ? 0 : (col >= p.grid_cols ? p.grid_cols - 1 : col);
      row = row < 0 ? 0 : (row >= p.grid_rows ? p.grid_rows - 1 : row);
      if (row * p.grid_cols + col == cell) return false;
    }
  }
  return true;
}

LOCDET_HD void draw_scene_layout(const SceneParams& p, const DigitSource& src, SceneKey key, uint64_t sample,
                                 SceneLayout* layout) {
  PhiloxStream rng;
  rng.init(key.k0, key.k1, sample, kSceneStreamLayout);
  layout->noise = rng.uniform(p.noise_min, p.noise_max);
  layout->smooth = rng.uniform(p.smooth_min, p.smooth_max);
  if (p.smooth_max > 0.0f) {
    for (int i = 0; i < kSmoothNodes * kSmoothNodes; ++i) layout->smooth_grid[i] = rng.uniform();
  }
  int target = 0;
  if (rng.uniform() >= p.no_object_rate) {
    target =
        p.min_digits + static_cast<int>(rng.below(static_cast<uint32_t>(p.max_digits - p.min_digits + 1)));
  }
  layout->count = 0;
  if (src.pool_size <= 0) return;
  for (int k = 0; k < target; ++k) {
    for (int attempt = 0; attempt < p.max_tries; ++attempt) {
      if (place_digit(p, src, rng, *layout, &layout->digit[layout->count])) {
        ++layout->count;
        break;
      }
    }
  }
}

// Bilinear sample of a 28x28 source digit at continuous coordinates (u, v) relative to
// pixel centres (the centre of pixel j is j + 0.5); outside taps read 0.
LOCDET_HD float digit_sample(const uint8_t* img, float u, float v) {
  float fu = floorf(u), fv = floorf(v);
  float ax = hd_sub(u, fu), ay = hd_sub(v, fv);
  int x0 = static_cast<int>(fu), y0 = static_cast<int>(fv);
  auto tap = [&](int x, int y) -> float {
    return (x >= 0 && x < kDigitSide && y >= 0 && y < kDigitSide)
               ? static_cast<float>(img[y * kDigitSide + x])
               : 0.0f;
  };
  float p00 = tap(x0, y0), p01 = tap(x0 + 1, y0), p10 = tap(x0, y0 + 1), p11 = tap(x0 + 1, y0 + 1);
  float top = hd_add(p00, hd_mul(ax, hd_sub(p01, p00)));
  float bottom = hd_add(p10, hd_mul(ax, hd_sub(p11, p10)));
  return hd_add(top, hd_mul(ay, hd_sub(bottom, top)));
}

// Coverage of one digit at the pixel centre (px, py), scaled to [0, 1]: the source sampled
// at the inverse-transformed point; with a stroke change, the max (thicker) or min
// (thinner) of that sample and the four `stroke` source pixels away along the source axes.
LOCDET_HD float digit_coverage(const SceneDigit& d, const uint8_t* pixels, float px, float py) {
  if (px < d.fp[0] || px > d.fp[2] || py < d.fp[1] || py > d.fp[3]) return 0.0f;
  const float half = 0.5f * kDigitSide;
  float dx = hd_sub(px, d.tx), dy = hd_sub(py, d.ty);
  float u = hd_add(hd_add(hd_mul(d.inv[0], dx), hd_mul(d.inv[1], dy)), half - 0.5f);
  float v = hd_add(hd_add(hd_mul(d.inv[2], dx), hd_mul(d.inv[3], dy)), half - 0.5f);
  const uint8_t* img = pixels + static_cast<int64_t>(d.mnist_index) * (kDigitSide * kDigitSide);
  float value = digit_sample(img, u, v);
  if (d.stroke != 0.0f) {
    const float r = d.stroke > 0.0f ? d.stroke : -d.stroke;
    const float around[4] = {digit_sample(img, hd_sub(u, r), v), digit_sample(img, hd_add(u, r), v),
                             digit_sample(img, u, hd_sub(v, r)), digit_sample(img, u, hd_add(v, r))};
    for (float a : around) value = d.stroke > 0.0f ? hd_max(value, a) : hd_min(value, a);
  }
  return hd_mul(value, 1.0f / 255.0f);
}

// Background at pixel (x, y) given its uniform draw u.
LOCDET_HD float scene_background(const SceneParams& p, const SceneLayout& layout, int x, int y, float u) {
  float value = hd_mul(layout.noise, u);
  if (p.smooth_max > 0.0f) {
    const float span = static_cast<float>(kSmoothNodes - 1);
    float gx = hd_div(hd_mul(static_cast<float>(x) + 0.5f, span), static_cast<float>(p.width));
    float gy = hd_div(hd_mul(static_cast<float>(y) + 0.5f, span), static_cast<float>(p.height));
    int ix = static_cast<int>(floorf(gx)), iy = static_cast<int>(floorf(gy));
    ix = ix > kSmoothNodes - 2 ? kSmoothNodes - 2 : ix;
    iy = iy > kSmoothNodes - 2 ? kSmoothNodes - 2 : iy;
    float ax = hd_sub(gx, static_cast<float>(ix)), ay = hd_sub(gy, static_cast<float>(iy));
    const float* g = layout.smooth_grid + iy * kSmoothNodes + ix;
    float top = hd_add(g[0], hd_mul(ax, hd_sub(g[1], g[0])));
    float bottom = hd_add(g[kSmoothNodes], hd_mul(ax, hd_sub(g[kSmoothNodes + 1], g[kSmoothNodes])));
    value = hd_add(value, hd_mul(layout.smooth, hd_add(top, hd_mul(ay, hd_sub(bottom, top)))));
  }
  return value;
}

// Pixel noise: Philox block q of stream 1 gives the uniforms of pixels 4q .. 4q+3.
LOCDET_HD Philox4 scene_noise_block(SceneKey key, uint64_t sample, uint32_t quad) {
  return philox4x32_10(
      Philox4{{static_cast<uint32_t>(sample), static_cast<uint32_t>(sample >> 32), quad, kSceneStreamNoise}},
      key.k0, key.k1);
}

// Final label box of digit k from its ink extent (min/max col/row with coverage >=
// threshold; max < min when no pixel reached it) or, for patch boxes, its footprint.
LOCDET_HD void scene_digit_box(const SceneParams& p, const SceneDigit& d, int ix0, int iy0, int ix1, int iy1,
                               float* box) {
  if (p.patch_box || ix1 < ix0 || iy1 < iy0) {
    // Patch boxes are the footprint; an ink box with no pixel over the threshold (a
    // digit too faint at this scale, in practice never seen) falls back to it too.
    box[0] = hd_max(floorf(d.fp[0] + 1e-4f), 0.0f);
    box[1] = hd_max(floorf(d.fp[1] + 1e-4f), 0.0f);
    box[2] = hd_min(ceilf(d.fp[2] - 1e-4f), static_cast<float>(p.width));
    box[3] = hd_min(ceilf(d.fp[3] - 1e-4f), static_cast<float>(p.height));
    return;
  }
  box[0] = static_cast<float>(ix0);
  box[1] = static_cast<float>(iy0);
  box[2] = static_cast<float>(ix1 + 1);
  box[3] = static_cast<float>(iy1 + 1);
}

// Labels of one image from its layout and per-digit ink extents ink[k] = {min col,
// min row, max col, max row}.
LOCDET_HD void scene_label(const SceneParams& p, const SceneLayout& layout, const int (*ink)[4],
                           SceneLabel* label) {
  label->count = layout.count;
  for (int k = 0; k < kLabelMaxBoxes; ++k) {
    if (k < layout.count) {
      label->cls[k] = layout.digit[k].cls;
      label->mnist_index[k] = layout.digit[k].mnist_index;
      scene_digit_box(p, layout.digit[k], ink[k][0], ink[k][1], ink[k][2], ink[k][3], label->box[k]);
    } else {
      label->cls[k] = -1;
      label->mnist_index[k] = -1;
      for (int i = 0; i < 4; ++i) label->box[k][i] = 0.0f;
    }
  }
}

}  // namespace locdet
