// Dataset augmentation (kernels/common/augment.h, kernels/cpu/augment): the CPU kernel against
// a double-precision reference of the documented transform, the identity, boxes that stay inside
// the image and over their pixels, the per-epoch permutation, and independence from the batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "kernels/cpu/augment.h"

namespace {

using namespace locdet;

// `count` images of h x w: noise in [0, 60], plus a filled rectangle of value 250 at each box
// (integer boxes, 0..3 per image), so a box can be found again in the augmented pixels.
struct ToyDataset {
  int height, width;
  std::vector<uint8_t> pixels;
  std::vector<SceneLabel> labels;
  DatasetView view() const { return {pixels.data(), labels.data(), static_cast<int>(labels.size())}; }
};

ToyDataset make_toy(int count, int height, int width, unsigned seed, int max_boxes = 3) {
  ToyDataset t{height, width, {}, {}};
  std::mt19937 rng(seed);
  t.pixels.resize(static_cast<size_t>(count) * height * width);
  for (auto& v : t.pixels) v = static_cast<uint8_t>(rng() % 61);
  t.labels.resize(count);
  for (int i = 0; i < count; ++i) {
    SceneLabel& l = t.labels[i];
    l.count = static_cast<int>(rng() % (max_boxes + 1));
    for (int k = 0; k < kLabelMaxBoxes; ++k) {
      l.cls[k] = k < l.count ? static_cast<int>(rng() % 5) : -1;
      l.mnist_index[k] = k < l.count ? i : -1;
      for (int j = 0; j < 4; ++j) l.box[k][j] = 0;
      if (k >= l.count) continue;
      const int bw = 3 + static_cast<int>(rng() % (width / 3)),
                bh = 3 + static_cast<int>(rng() % (height / 3));
      const int x0 = static_cast<int>(rng() % (width - bw + 1)),
                y0 = static_cast<int>(rng() % (height - bh + 1));
      l.box[k][0] = static_cast<float>(x0);
      l.box[k][1] = static_cast<float>(y0);
      l.box[k][2] = static_cast<float>(x0 + bw);
      l.box[k][3] = static_cast<float>(y0 + bh);
      for (int y = y0; y < y0 + bh; ++y)
        for (int x = x0; x < x0 + bw; ++x) t.pixels[(static_cast<size_t>(i) * height + y) * width + x] = 250;
    }
  }
  return t;
}

AugmentParams strong_params(int height, int width) {
  AugmentParams p;
  p.height = height;
  p.width = width;
  p.scale_min = 0.5f;
  p.scale_max = 1.8f;
  p.translate = 0.4f;
  p.contrast = 0.3f;
  p.brightness = 0.2f;
  p.noise = 0.1f;
  return p;
}

// The documented transform in double precision, given what the sample drew.
double reference_pixel(const ToyDataset& t, const AugmentDraw& d, int x, int y, double u) {
  const double sx = (x + 0.5 - d.offset_x) / d.scale - 0.5, sy = (y + 0.5 - d.offset_y) / d.scale - 0.5;
  const double fx = std::floor(sx), fy = std::floor(sy);
  const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
  auto tap = [&](int tx, int ty) {
    if (tx < 0 || tx >= t.width || ty < 0 || ty >= t.height) return 0.0;
    return static_cast<double>(t.pixels[(static_cast<size_t>(d.image) * t.height + ty) * t.width + tx]);
  };
  const double ax = sx - fx, ay = sy - fy;
  const double top = tap(x0, y0) * (1 - ax) + tap(x0 + 1, y0) * ax;
  const double bottom = tap(x0, y0 + 1) * (1 - ax) + tap(x0 + 1, y0 + 1) * ax;
  const double v = (top * (1 - ay) + bottom * ay) / 255.0 * d.gain + d.bias + d.noise * (2 * u - 1);
  return std::clamp(v, 0.0, 1.0);
}

TEST(Augment, PixelsAndBoxesMatchADoublePrecisionReference) {
  const ToyDataset t = make_toy(9, 24, 32, 3);
  const AugmentParams p = strong_params(t.height, t.width);
  const SceneKey key = dataset_key(5);
  std::vector<float> image(t.height * t.width);
  double worst = 0;
  for (uint64_t sample = 0; sample < 40; ++sample) {
    SceneLabel label;
    AugmentDraw d;
    cpu::augment_sample(p, t.view(), key, sample, image.data(), &label, &d);
    ASSERT_GE(d.scale, p.scale_min * 0.999f);
    ASSERT_LE(d.scale, p.scale_max * 1.001f);
    for (int pixel = 0; pixel < t.height * t.width; ++pixel) {
      const Philox4 block = augment_noise_block(key, sample, static_cast<uint32_t>(pixel / 4));
      const double u = (block.v[pixel % 4] >> 8) / 16777216.0;
      const double ref = reference_pixel(t, d, pixel % t.width, pixel / t.width, u);
      worst = std::max(worst, std::fabs(ref - image[pixel]));
      // float vs double on a continuous function of the inputs: 1e-5 covers the rounding of
      // the source coordinate (|d/dx| <= 1 per pixel) and of the final sum.
      ASSERT_NEAR(ref, image[pixel], 1e-5) << "sample " << sample << " pixel " << pixel;
    }
    const SceneLabel& in = t.labels[d.image];
    ASSERT_EQ(label.count, in.count);
    for (int k = 0; k < in.count; ++k) {
      EXPECT_EQ(label.cls[k], in.cls[k]);
      EXPECT_EQ(label.mnist_index[k], d.image);
      for (int j = 0; j < 4; ++j) {
        const double ref =
            std::clamp(static_cast<double>(d.scale) * in.box[k][j] + (j % 2 ? d.offset_y : d.offset_x), 0.0,
                       static_cast<double>(j % 2 ? t.height : t.width));
        EXPECT_NEAR(ref, label.box[k][j], 1e-4) << "sample " << sample << " box " << k;
      }
    }
  }
  std::printf("[ augment ] worst |float - double| pixel difference %.3g\n", worst);
}

TEST(Augment, ZeroParamsReproduceTheStoredImageAndBoxesExactly) {
  const ToyDataset t = make_toy(6, 20, 28, 11);
  AugmentParams p;
  p.height = t.height;
  p.width = t.width;
  std::vector<float> image(t.height * t.width);
  for (uint64_t sample = 0; sample < 12; ++sample) {
    SceneLabel label;
    AugmentDraw d;
    cpu::augment_sample(p, t.view(), dataset_key(1), sample, image.data(), &label, &d);
    for (int i = 0; i < t.height * t.width; ++i)
      ASSERT_EQ(image[i], t.pixels[static_cast<size_t>(d.image) * t.height * t.width + i] / 255.0f);
    const SceneLabel& in = t.labels[d.image];
    ASSERT_EQ(label.count, in.count);
    for (int k = 0; k < in.count; ++k)
      for (int j = 0; j < 4; ++j) ASSERT_EQ(label.box[k][j], in.box[k][j]);
  }
}

// Every box stays inside the image and still covers its rectangle's pixels: the pixel at the
// box centre is bright and nothing bright lies outside the union of the boxes (no photometric
// change here, so "bright" keeps its meaning).
TEST(Augment, BoxesStayInsideTheImageAndOverTheirPixels) {
  const ToyDataset t = make_toy(16, 30, 40, 7);
  AugmentParams p = strong_params(t.height, t.width);
  p.contrast = p.brightness = p.noise = 0;
  p.scale_min = 0.4f;
  p.scale_max = 2.5f;
  p.translate = 0.8f;
  std::vector<float> image(t.height * t.width);
  int boxes = 0;
  for (uint64_t sample = 0; sample < 300; ++sample) {
    SceneLabel label;
    cpu::augment_sample(p, t.view(), dataset_key(9), sample, image.data(), &label);
    for (int k = 0; k < label.count; ++k, ++boxes) {
      const float* b = label.box[k];
      ASSERT_GE(b[0], 0.0f);
      ASSERT_GE(b[1], 0.0f);
      ASSERT_LE(b[2], static_cast<float>(t.width));
      ASSERT_LE(b[3], static_cast<float>(t.height));
      ASSERT_GT(b[2] - b[0], 1.0f);
      ASSERT_GT(b[3] - b[1], 1.0f);
      if (b[2] - b[0] < 4 || b[3] - b[1] < 4) continue;  // too small for its centre pixel to be all rectangle
      const int cx = static_cast<int>(0.5f * (b[0] + b[2])), cy = static_cast<int>(0.5f * (b[1] + b[3]));
      EXPECT_GT(image[cy * t.width + cx], 0.8f) << "sample " << sample << " box " << k;
    }
    for (int y = 0; y < t.height; ++y) {
      for (int x = 0; x < t.width; ++x) {
        if (image[y * t.width + x] <= 0.5f) continue;  // background noise is <= 60/255
        bool inside = false;
        for (int k = 0; k < label.count && !inside; ++k) {
          const float* b = label.box[k];
          inside = x + 0.5f > b[0] - 1 && x + 0.5f < b[2] + 1 && y + 0.5f > b[1] - 1 && y + 0.5f < b[3] + 1;
        }
        ASSERT_TRUE(inside) << "sample " << sample << ": bright pixel (" << x << ", " << y
                            << ") outside its boxes";
      }
    }
  }
  EXPECT_GT(boxes, 300);
}

TEST(Augment, ScaleIsLoweredSoTheBoxesFit) {
  ToyDataset t = make_toy(1, 16, 24, 1, 0);
  SceneLabel& l = t.labels[0];
  l.count = 2;
  const float boxes[2][4] = {{0, 2, 5, 6}, {20, 9, 24, 14}};  // their union spans the full width
  for (int k = 0; k < 2; ++k) {
    l.cls[k] = k;
    l.mnist_index[k] = 0;
    std::copy_n(boxes[k], 4, l.box[k]);
  }
  AugmentParams p;
  p.height = t.height;
  p.width = t.width;
  p.scale_min = 1.5f;
  p.scale_max = 2.0f;
  p.translate = 0.5f;
  std::vector<float> image(t.height * t.width);
  for (uint64_t sample = 0; sample < 50; ++sample) {
    SceneLabel out;
    AugmentDraw d;
    cpu::augment_sample(p, t.view(), dataset_key(2), sample, image.data(), &out, &d);
    EXPECT_LE(d.scale, 1.0f);
    EXPECT_NEAR(out.box[0][0], 0.0f, 1e-4f);
    EXPECT_NEAR(out.box[1][2], 24.0f, 1e-4f);
  }
}

TEST(Augment, EachEpochVisitsEveryImageOnceInAnOrderThatChanges) {
  for (int n : {1, 2, 3, 7, 64, 100, 1000, 4097}) {
    std::vector<std::vector<int>> orders;
    for (uint64_t epoch = 0; epoch < 3; ++epoch) {
      std::vector<int> order;
      for (uint64_t i = 0; i < static_cast<uint64_t>(n); ++i)
        order.push_back(dataset_image_of_sample(epoch * n + i, n, dataset_key(4)));
      std::vector<int> sorted = order;
      std::sort(sorted.begin(), sorted.end());
      for (int i = 0; i < n; ++i) ASSERT_EQ(sorted[i], i) << "n " << n << " epoch " << epoch;
      orders.push_back(order);
    }
    if (n >= 7) {
      EXPECT_NE(orders[0], orders[1]) << n;
      EXPECT_NE(orders[1], orders[2]) << n;
      std::vector<int> identity(n);
      for (int i = 0; i < n; ++i) identity[i] = i;
      EXPECT_NE(orders[0], identity) << n;
    }
  }
  // Another seed, another order.
  std::vector<int> a, b;
  for (uint64_t i = 0; i < 100; ++i) {
    a.push_back(dataset_image_of_sample(i, 100, dataset_key(4)));
    b.push_back(dataset_image_of_sample(i, 100, dataset_key(5)));
  }
  EXPECT_NE(a, b);
}

TEST(Augment, ASampleDoesNotDependOnTheBatchItsPlaceOrTheSeedOfOthers) {
  const ToyDataset t = make_toy(10, 16, 20, 5);
  const AugmentParams p = strong_params(t.height, t.width);
  const int pixels = t.height * t.width, n = 24;
  std::vector<float> batch_images(static_cast<size_t>(n) * pixels);
  std::vector<SceneLabel> batch_labels(n);
  cpu::augment_batch(p, t.view(), dataset_key(3), 100, nullptr, n, batch_images.data(), batch_labels.data());
  std::vector<uint64_t> reversed(n);
  for (int b = 0; b < n; ++b) reversed[b] = 100 + n - 1 - b;
  std::vector<float> rev_images(batch_images.size());
  std::vector<SceneLabel> rev_labels(n);
  cpu::augment_batch(p, t.view(), dataset_key(3), 0, reversed.data(), n, rev_images.data(),
                     rev_labels.data());
  for (int b = 0; b < n; ++b) {
    const int r = n - 1 - b;
    ASSERT_TRUE(std::equal(batch_images.begin() + b * pixels, batch_images.begin() + (b + 1) * pixels,
                           rev_images.begin() + r * pixels))
        << "sample " << 100 + b;
    ASSERT_EQ(batch_labels[b].count, rev_labels[r].count);
    for (int k = 0; k < batch_labels[b].count; ++k)
      for (int j = 0; j < 4; ++j) ASSERT_EQ(batch_labels[b].box[k][j], rev_labels[r].box[k][j]);
  }
  std::vector<float> other(batch_images.size());
  cpu::augment_batch(p, t.view(), dataset_key(8), 100, nullptr, n, other.data(), rev_labels.data());
  EXPECT_NE(other, batch_images);
}

}  // namespace
