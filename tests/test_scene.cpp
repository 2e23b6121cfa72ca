// Scene generator: determinism (batch size, order, thread count), exact and tight boxes,
// split leakage, label statistics against the preset, label conventions, preset JSON
// validation, fixed vs endless index ranges, and the exporters.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "kernels/base/error.h"
#include "kernels/cpu/scene.h"
#include "models/digits/export.h"
#include "models/digits/scene.h"
#include "models/training_data.h"
#include "tests/test_scene_helpers.h"

namespace {

using namespace locdet;
using namespace locdet::data;
using locdet::test::synthetic_bank;

void expect_same_scene(const SceneBatch& a, int ia, const SceneBatch& b, int ib, const char* what) {
  const size_t n = static_cast<size_t>(a.height) * a.width;
  EXPECT_EQ(0, std::memcmp(a.image(ia), b.image(ib), n * sizeof(float))) << what << ": pixels differ";
  EXPECT_EQ(0, std::memcmp(&a.labels[ia], &b.labels[ib], sizeof(SceneLabel))) << what << ": labels differ";
}

// Sample i is the same whatever the batch size, order or number of threads.
void check_determinism(const Preset& preset, const DigitBank& bank) {
  SceneSource source(bank, preset, Split::kTrain);
  const int n = 64;
  SceneBatch whole;
  render_scenes_cpu(preset, Split::kTrain, 42, source, 0, n, &whole);
  std::vector<uint64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  SceneBatch shuffled;
  render_scenes_cpu(preset, Split::kTrain, 42, source, order, &shuffled);
  for (int b = 0; b < n; ++b) expect_same_scene(whole, static_cast<int>(order[b]), shuffled, b, "shuffled");
  for (int first : {5, 31}) {
    SceneBatch part;
    render_scenes_cpu(preset, Split::kTrain, 42, source, first, 7, &part);
    for (int b = 0; b < 7; ++b) expect_same_scene(whole, first + b, part, b, "batch of 7");
  }
  const int threads = omp_get_max_threads();
  for (int t : {1, 3}) {
    omp_set_num_threads(t);
    SceneBatch again;
    render_scenes_cpu(preset, Split::kTrain, 42, source, 0, n, &again);
    for (int b = 0; b < n; ++b) expect_same_scene(whole, b, again, b, "thread count");
  }
  omp_set_num_threads(threads);
  // Another seed or split gives other scenes.
  SceneBatch other;
  render_scenes_cpu(preset, Split::kTrain, 43, source, 0, n, &other);
  EXPECT_NE(0, std::memcmp(whole.images.data(), other.images.data(), whole.images.size() * sizeof(float)));
}

TEST(SceneDeterminism, SyntheticDigitsAllPresets) {
  DigitBank bank = synthetic_bank();
  for (const auto& preset : builtin_presets()) {
    SCOPED_TRACE(preset.name);
    check_determinism(preset, bank);
  }
}

TEST(SceneDeterminism, MnistDetectionPreset) {
  LOCDET_REQUIRE_MNIST();
  check_determinism(find_preset("det10"), *mnist);
}

// Ink (coverage >= threshold) lies inside the box and touches all four edges; the image
// pixels above the threshold (noise stays below it) lie inside the union of the boxes; and
// the footprint, outside which the renderer reads no coverage, holds all of it: the digit
// sampled without its footprint is 0 outside it.
void check_tight_boxes(const Preset& preset, const DigitBank& bank, Split split, int n) {
  SceneSource source(bank, preset, split);
  const SceneParams p = preset.params(split);
  const SceneKey key = scene_key(9, static_cast<int>(split));
  std::vector<float> image(static_cast<size_t>(p.height) * p.width);
  for (int i = 0; i < n; ++i) {
    SceneLabel label;
    SceneLayout layout;
    cpu::render_scene(p, source.view(), key, static_cast<uint64_t>(i), image.data(), &label, &layout);
    for (int k = 0; k < label.count; ++k) {
      const float* box = label.box[k];
      ASSERT_GE(box[0], 0.0f);
      ASSERT_GE(box[1], 0.0f);
      ASSERT_LE(box[2], static_cast<float>(p.width));
      ASSERT_LE(box[3], static_cast<float>(p.height));
      ASSERT_LT(box[0], box[2]);
      ASSERT_LT(box[1], box[3]);
      bool edge[4] = {false, false, false, false};
      SceneDigit unclipped = layout.digit[k];
      unclipped.fp[0] = unclipped.fp[1] = -1e30f;
      unclipped.fp[2] = unclipped.fp[3] = 1e30f;
      const float* fp = layout.digit[k].fp;
      for (int y = 0; y < p.height; ++y)
        for (int x = 0; x < p.width; ++x) {
          const float px = x + 0.5f, py = y + 0.5f;
          if (digit_coverage(unclipped, source.view().pixels, px, py) > 0.0f) {
            ASSERT_TRUE(px >= fp[0] && px <= fp[2] && py >= fp[1] && py <= fp[3])
                << "sample " << i << " digit " << k << ": coverage at (" << x << ", " << y
                << ") outside the footprint";
          }
          float c = digit_coverage(layout.digit[k], source.view().pixels, px, py);
          if (c < p.ink_threshold) continue;
          ASSERT_TRUE(x >= box[0] && x < box[2] && y >= box[1] && y < box[3])
              << "sample " << i << " digit " << k << ": ink at (" << x << ", " << y << ") outside the box";
          edge[0] |= x == box[0];
          edge[1] |= y == box[1];
          edge[2] |= x + 1 == box[2];
          edge[3] |= y + 1 == box[3];
        }
      for (int e = 0; e < 4; ++e) ASSERT_TRUE(edge[e]) << "sample " << i << " digit " << k << " edge " << e;
    }
    ASSERT_LT(p.noise_max + p.smooth_max, p.ink_threshold);
    for (int y = 0; y < p.height; ++y)
      for (int x = 0; x < p.width; ++x) {
        if (image[y * p.width + x] < p.ink_threshold) continue;
        bool inside = false;
        for (int k = 0; k < label.count; ++k)
          inside |=
              x >= label.box[k][0] && x < label.box[k][2] && y >= label.box[k][1] && y < label.box[k][3];
        ASSERT_TRUE(inside) << "sample " << i << ": bright pixel (" << x << ", " << y
                            << ") outside every box";
      }
  }
}

TEST(SceneBoxes, TightOnSyntheticSquares) {
  DigitBank bank = synthetic_bank();
  for (const char* name : {"inf265-loc", "det10"}) {
    SCOPED_TRACE(name);
    check_tight_boxes(find_preset(name), bank, Split::kTrain, 300);
  }
}

TEST(SceneBoxes, TightOnMnist) {
  LOCDET_REQUIRE_MNIST();
  check_tight_boxes(find_preset("inf265-loc"), *mnist, Split::kTest, 400);
  check_tight_boxes(find_preset("inf265-det"), *mnist, Split::kVal, 200);
}

void expect_preset_error(const std::string& json, const std::string& needle) {
  try {
    preset_from_json(json, "test.json");
    ADD_FAILURE() << "accepted: " << json;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

// ---- Shape augmentation (train_shear, train_stroke) ----

Preset shape_augmented(const char* base, float shear, float stroke) {
  Preset p = find_preset(base);
  p.train_shear = shear;
  p.train_stroke = stroke;
  validate_preset(p);
  return p;
}

TEST(SceneShapeAugment, TrainingSplitOnly) {
  DigitBank bank = synthetic_bank();
  const Preset plain = find_preset("inf265-loc"), augmented = shape_augmented("inf265-loc", 0.3f, 0.7f);
  EXPECT_EQ(augmented.params(Split::kTrain).shear, 0.3f);
  EXPECT_EQ(augmented.params(Split::kTrain).stroke, 0.7f);
  for (Split split : {Split::kVal, Split::kTest}) {
    EXPECT_EQ(augmented.params(split).shear, 0.0f);
    EXPECT_EQ(augmented.params(split).stroke, 0.0f);
    // The validation and test scenes are the plain preset's, bit for bit.
    SceneSource source(bank, plain, split);
    SceneBatch a, b;
    render_scenes_cpu(plain, split, 5, source, 0, 32, &a);
    render_scenes_cpu(augmented, split, 5, source, 0, 32, &b);
    for (int i = 0; i < 32; ++i) expect_same_scene(a, i, b, i, split_name(split));
  }
  SceneSource source(bank, plain, Split::kTrain);
  SceneBatch a, b;
  render_scenes_cpu(plain, Split::kTrain, 5, source, 0, 32, &a);
  render_scenes_cpu(augmented, Split::kTrain, 5, source, 0, 32, &b);
  EXPECT_NE(0, std::memcmp(a.images.data(), b.images.data(), a.images.size() * sizeof(float)));
  // The same digits at the same places: the augmentation draws after everything else.
  for (int i = 0; i < 32; ++i) {
    ASSERT_EQ(a.labels[i].count, b.labels[i].count);
    for (int k = 0; k < a.labels[i].count; ++k)
      EXPECT_EQ(a.labels[i].mnist_index[k], b.labels[i].mnist_index[k]);
  }
  check_determinism(augmented, bank);
}

TEST(SceneShapeAugment, BoxesStayTightAndInsideTheFootprint) {
  DigitBank bank = synthetic_bank();
  for (const char* name : {"inf265-loc", "det10"}) {
    SCOPED_TRACE(name);
    check_tight_boxes(shape_augmented(name, 0.5f, 1.0f), bank, Split::kTrain, 300);
  }
  const DigitBank* mnist = test::mnist_bank();
  if (mnist) check_tight_boxes(shape_augmented("inf265-loc", 0.5f, 1.0f), *mnist, Split::kTrain, 300);
}

// Unrotated, unscaled squares of side `side` and value V at integer offsets, so every pixel
// centre samples the source at a pixel centre: a thicker stroke (r > 0) adds the ring of
// pixels next to the square once their sample r away, r * V, reaches the ink threshold
// (127.5); a thinner one (r < 0) takes off the square's outer ring once (1 - |r|) * V falls
// under it. A shear k slants the square into a parallelogram |k| * side wider.
TEST(SceneShapeAugment, StrokeAndShearChangeTheSquaresAsDrawn) {
  DigitBank bank = synthetic_bank();
  for (bool shear : {false, true}) {
    SCOPED_TRACE(shear ? "shear" : "stroke");
    Preset preset = find_preset("ayulockin-loc");
    preset.box = "ink";
    preset.height = 40;
    preset.width = 50;
    preset.train_shear = shear ? 0.5f : 0.0f;
    preset.train_stroke = shear ? 0.0f : 1.0f;
    SceneSource source(bank, preset, Split::kTrain);
    const SceneParams p = preset.params(Split::kTrain);
    std::vector<float> image(static_cast<size_t>(p.height) * p.width);
    float lo = 1e9f, hi = -1e9f;  // the drawn range of the stroke change or shear
    int checked = 0;              // stroke changes not within a hair of the ink threshold
    for (int i = 0; i < 200; ++i) {
      SceneLabel label;
      SceneLayout layout;
      cpu::render_scene(p, source.view(), scene_key(1, 0), i, image.data(), &label, &layout);
      ASSERT_EQ(label.count, 1);
      const SceneDigit& d = layout.digit[0];
      const float side = static_cast<float>(6 + label.mnist_index[0] % 10);
      const float w = label.box[0][2] - label.box[0][0], h = label.box[0][3] - label.box[0][1];
      if (shear) {
        const float k = -d.inv[1];  // rotation 0, scale 1: inverse [1 -k; 0 1]
        EXPECT_EQ(d.stroke, 0.0f);
        EXPECT_NEAR(w, side * (1.0f + std::fabs(k)), 1.5f) << "sample " << i << " k " << k;
        EXPECT_NEAR(h, side, 1.0f) << "sample " << i;
        lo = std::min(lo, k), hi = std::max(hi, k);
      } else {
        const float r = d.stroke, value = static_cast<float>(200 + label.mnist_index[0] % 50);
        const float edge = r >= 0.0f ? r * value : (1.0f + r) * value;  // the sample deciding the ring
        if (std::fabs(edge - 127.5f) > 0.5f) {
          const float ring = r >= 0.0f ? (edge >= 127.5f ? 1.0f : 0.0f) : (edge < 127.5f ? -1.0f : 0.0f);
          EXPECT_EQ(w, side + 2.0f * ring) << "sample " << i << " stroke " << r;
          EXPECT_EQ(h, side + 2.0f * ring) << "sample " << i << " stroke " << r;
          ++checked;
        }
        lo = std::min(lo, r), hi = std::max(hi, r);
      }
    }
    if (!shear) {
      EXPECT_GT(checked, 180) << "of 200 samples";
    }
    const float range = shear ? 0.5f : 1.0f;
    EXPECT_GE(lo, -range);
    EXPECT_LE(hi, range);
    EXPECT_LT(lo, -0.8f * range);  // both signs are drawn, over most of the range
    EXPECT_GT(hi, 0.8f * range);
  }
}

TEST(SceneShapeAugment, PresetKeysAndTheFlag) {
  Preset p = preset_from_json(R"({"name": "slanted", "base": "inf265-loc", "train_shear": 0.25,
                                  "train_stroke": 0.5})");
  EXPECT_EQ(p.train_shear, 0.25f);
  EXPECT_EQ(p.train_stroke, 0.5f);
  EXPECT_EQ(preset_to_json(preset_from_json(preset_to_json(p))), preset_to_json(p));
  expect_preset_error(R"({"name": "x", "train_shear": -0.1})", "train_shear");
  expect_preset_error(R"({"name": "x", "train_stroke": 2})", "train_stroke");
  models::apply_scene_augment("default", &p);
  EXPECT_EQ(p.train_shear, 0.25f);
  models::apply_scene_augment("stroke=0.7", &p);
  EXPECT_EQ(p.train_shear, 0.0f);
  EXPECT_EQ(p.train_stroke, 0.7f);
  models::apply_scene_augment("shear=0.3,stroke=0.2", &p);
  EXPECT_EQ(p.train_shear, 0.3f);
  EXPECT_EQ(p.train_stroke, 0.2f);
  models::apply_scene_augment("none", &p);
  EXPECT_EQ(p.train_shear, 0.0f);
  EXPECT_EQ(p.train_stroke, 0.0f);
  auto refused = [&](const char* text, const char* message) {
    try {
      models::apply_scene_augment(text, &p);
      ADD_FAILURE() << text << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  refused("scale=0.9:1.1", "for --data runs");
  refused("shear=abc", "not a number");
  refused("stroke=3", "train_stroke must lie in [0, 1.5]");
}

// Unrotated, unscaled squares at integer offsets: the box is known in closed form.
TEST(SceneBoxes, ExactForIntegerPlacedSquares) {
  DigitBank bank = synthetic_bank();
  Preset preset = find_preset("ayulockin-loc");
  preset.box = "ink";
  preset.height = 40;
  preset.width = 50;
  SceneSource source(bank, preset, Split::kTrain);
  const SceneParams p = preset.params(Split::kTrain);
  std::vector<float> image(static_cast<size_t>(p.height) * p.width);
  for (int i = 0; i < 200; ++i) {
    SceneLabel label;
    SceneLayout layout;
    cpu::render_scene(p, source.view(), scene_key(1, 0), i, image.data(), &label, &layout);
    ASSERT_EQ(label.count, 1);
    const int d = label.mnist_index[0], side = 6 + d % 10, x0 = 4 + d % 5, y0 = 5 + d % 3;
    const float ox = layout.digit[0].tx - 14.0f, oy = layout.digit[0].ty - 14.0f;
    ASSERT_EQ(ox, std::floor(ox));
    EXPECT_EQ(label.box[0][0], x0 + ox);
    EXPECT_EQ(label.box[0][1], y0 + oy);
    EXPECT_EQ(label.box[0][2], x0 + side + ox);
    EXPECT_EQ(label.box[0][3], y0 + side + oy);
    // The digit is copied pixel for pixel onto a black background.
    for (int y = 0; y < p.height; ++y)
      for (int x = 0; x < p.width; ++x) {
        bool in = x >= label.box[0][0] && x < label.box[0][2] && y >= label.box[0][1] && y < label.box[0][3];
        ASSERT_FLOAT_EQ(image[y * p.width + x], in ? (200 + d % 50) / 255.0f : 0.0f);
      }
  }
}

TEST(ScenePresets, AyulockinBoxIsThePatch) {
  DigitBank bank = synthetic_bank();
  Preset preset = find_preset("ayulockin-loc");
  SceneSource source(bank, preset, Split::kTest);
  SceneBatch batch;
  render_scenes_cpu(preset, Split::kTest, 5, source, 0, 100, &batch);
  for (int b = 0; b < batch.batch; ++b) {
    const SceneLabel& l = batch.labels[b];
    ASSERT_EQ(l.count, 1);
    EXPECT_EQ(l.box[0][2] - l.box[0][0], 28.0f);
    EXPECT_EQ(l.box[0][3] - l.box[0][1], 28.0f);
    EXPECT_EQ(l.box[0][0], std::floor(l.box[0][0]));
    EXPECT_GE(l.box[0][0], 0.0f);
    EXPECT_LE(l.box[0][2], 100.0f);
    auto xyxy = label_xyxy_normalized(l, 0, 100, 100);
    EXPECT_FLOAT_EQ(xyxy[2] - xyxy[0], 0.28f);
  }
}

TEST(SceneSplits, NoLeakageSynthetic) {
  DigitBank bank = synthetic_bank();
  Preset preset = find_preset("det10");
  for (Split split : {Split::kTrain, Split::kVal, Split::kTest}) {
    DigitRange range = split_digit_range(split, bank.train_count, bank.test_count);
    SceneSource source(bank, preset, split);
    SceneBatch batch;
    render_scenes_cpu(preset, split, 1, source, 0, 500, &batch);
    for (const auto& l : batch.labels)
      for (int k = 0; k < l.count; ++k) {
        ASSERT_GE(l.mnist_index[k], range.begin) << split_name(split);
        ASSERT_LT(l.mnist_index[k], range.end) << split_name(split);
      }
  }
}

TEST(SceneSplits, NoLeakageMnist) {
  LOCDET_REQUIRE_MNIST();
  EXPECT_EQ(split_digit_range(Split::kTrain).end, 55000);
  EXPECT_EQ(split_digit_range(Split::kVal).begin, 55000);
  EXPECT_EQ(split_digit_range(Split::kVal).end, 60000);
  EXPECT_EQ(split_digit_range(Split::kTest).begin, 60000);
  Preset preset = find_preset("det10");
  auto train = mnist->pool(Split::kTrain, preset.classes), val = mnist->pool(Split::kVal, preset.classes),
       test = mnist->pool(Split::kTest, preset.classes);
  EXPECT_GT(train.size(), 54000u);
  EXPECT_LT(train.back(), 55000);
  EXPECT_GE(val.front(), 55000);
  EXPECT_LT(val.back(), 60000);
  EXPECT_GE(test.front(), 60000);
  for (Split split : {Split::kTrain, Split::kVal, Split::kTest}) {
    DigitRange range = split_digit_range(split);
    SceneSource source(*mnist, preset, split);
    SceneBatch batch;
    render_scenes_cpu(preset, split, 7, source, 0, 2000, &batch);
    for (const auto& l : batch.labels)
      for (int k = 0; k < l.count; ++k) {
        ASSERT_GE(l.mnist_index[k], range.begin);
        ASSERT_LT(l.mnist_index[k], range.end);
        ASSERT_EQ(l.cls[k], mnist->labels[l.mnist_index[k]]);
      }
  }
}

// Label statistics follow the preset: no-object rate within 5 binomial standard
// deviations, digit counts in range, classes a subset, boxes disjoint when required.
void check_statistics(const Preset& preset, const DigitBank& bank, int n) {
  SceneSource source(bank, preset, Split::kTrain);
  SceneBatch batch;
  render_scenes_cpu(preset, Split::kTrain, 11, source, 0, n, &batch);
  DatasetStats stats;
  for (const auto& l : batch.labels) stats.add(l);
  const double p = preset.no_object_rate, sd = std::sqrt(p * (1 - p) / n);
  EXPECT_NEAR(stats.no_object_rate(), p, 5 * sd + 1e-9);
  for (const auto& [count, images] : stats.digits_per_image) {
    if (count == 0) continue;
    EXPECT_GE(count, preset.min_digits);
    EXPECT_LE(count, preset.max_digits);
  }
  for (int c = 0; c < 10; ++c) {
    if (stats.class_counts[c] > 0) {
      EXPECT_TRUE(std::count(preset.classes.begin(), preset.classes.end(), c)) << c;
    }
  }
  for (int c : preset.classes) EXPECT_GT(stats.class_counts[c], 0) << "class " << c << " never drawn";
  if (preset.max_digits > preset.min_digits) {
    // Rejection placement may drop a digit, but rarely: each count keeps >= 60% of its share.
    const double share = (1.0 - p) / (preset.max_digits - preset.min_digits + 1);
    for (int c = preset.min_digits; c <= preset.max_digits; ++c)
      EXPECT_GT(stats.digits_per_image[c], 0.6 * share * n) << c << " digits";
  }
  if (preset.max_iou == 0.0f) {
    for (const auto& l : batch.labels)
      for (int a = 0; a < l.count; ++a)
        for (int b = a + 1; b < l.count; ++b) {
          bool apart = l.box[a][2] <= l.box[b][0] || l.box[b][2] <= l.box[a][0] ||
                       l.box[a][3] <= l.box[b][1] || l.box[b][3] <= l.box[a][1];
          ASSERT_TRUE(apart) << "overlapping boxes";
        }
  }
}

TEST(SceneStatistics, MatchPresetsSynthetic) {
  DigitBank bank = synthetic_bank();
  for (const auto& preset : builtin_presets()) {
    SCOPED_TRACE(preset.name);
    check_statistics(preset, bank, 4000);
  }
}

TEST(SceneStatistics, MatchPresetsMnist) {
  LOCDET_REQUIRE_MNIST();
  for (const char* name : {"inf265-loc", "inf265-det"}) {
    SCOPED_TRACE(name);
    check_statistics(find_preset(name), *mnist, 4000);
  }
}

TEST(SceneModes, FixedRangeIsEnforcedEndlessIsNot) {
  DigitBank bank = synthetic_bank();
  Preset preset = find_preset("inf265-det");
  SceneSource source(bank, preset, Split::kVal);
  SceneBatch batch;
  EXPECT_NO_THROW(render_scenes_cpu(preset, Split::kVal, 1, source, 2999, 1, &batch));
  EXPECT_THROW(render_scenes_cpu(preset, Split::kVal, 1, source, 2999, 2, &batch), Error);
  EXPECT_NO_THROW(
      render_scenes_cpu(preset, Split::kVal, 1, source, 1ull << 40, 3, &batch, SceneMode::kEndless));
  EXPECT_EQ(split_size(find_preset("inf265-loc"), Split::kTrain), 60000);
  EXPECT_EQ(split_size(preset, Split::kTest), 5000);
}

TEST(SceneLabels, Conventions) {
  SceneLabel l{};
  l.count = 2;
  l.cls[0] = 1;
  l.cls[1] = 0;
  const float a[4] = {6, 12, 18, 36}, b[4] = {40, 30, 50, 46};  // image 48x60
  std::memcpy(l.box[0], a, sizeof a);
  std::memcpy(l.box[1], b, sizeof b);
  auto pc = label_pc_xywh(l, 48, 60);
  EXPECT_FLOAT_EQ(pc[0], 1.0f);
  EXPECT_FLOAT_EQ(pc[1], 12.0f / 60);
  EXPECT_FLOAT_EQ(pc[2], 24.0f / 48);
  EXPECT_FLOAT_EQ(pc[3], 12.0f / 60);
  EXPECT_FLOAT_EQ(pc[4], 24.0f / 48);
  EXPECT_FLOAT_EQ(pc[5], 1.0f);
  auto xyxy = label_xyxy_normalized(l, 1, 48, 60);
  EXPECT_FLOAT_EQ(xyxy[0], 40.0f / 60);
  EXPECT_FLOAT_EQ(xyxy[3], 46.0f / 48);
  SceneLabel empty{};
  EXPECT_EQ(label_pc_xywh(empty, 48, 60)[0], 0.0f);
  // 2x3 grid, cells 24 x 20 (HxW): box a centre (12, 24) -> row 1, col 0; box b centre (45, 38) -> row 1,
  // col 2.
  int dropped = -1;
  auto grid = label_grid(l, 48, 60, 2, 3, &dropped);
  ASSERT_EQ(grid.size(), 36u);
  EXPECT_EQ(dropped, 0);
  const float* c3 = &grid[3 * 6];
  EXPECT_FLOAT_EQ(c3[0], 1.0f);
  EXPECT_FLOAT_EQ(c3[1], 12.0f / 20);
  EXPECT_FLOAT_EQ(c3[2], 0.0f);
  EXPECT_FLOAT_EQ(c3[3], 12.0f / 60);
  EXPECT_FLOAT_EQ(c3[4], 24.0f / 48);
  EXPECT_FLOAT_EQ(c3[5], 1.0f);
  const float* c5 = &grid[5 * 6];
  EXPECT_FLOAT_EQ(c5[1], 5.0f / 20);
  EXPECT_FLOAT_EQ(c5[2], 14.0f / 24);
  EXPECT_FLOAT_EQ(c5[5], 0.0f);
  for (int cell : {0, 1, 2, 4}) EXPECT_EQ(grid[cell * 6], 0.0f);
  auto boxes = label_boxes(l);
  ASSERT_EQ(boxes.size(), 2u);
  EXPECT_EQ(boxes[1].cls, 0);
}

TEST(SceneLabels, InfDetGridRarelyCollides) {
  DigitBank bank = synthetic_bank();
  Preset preset = find_preset("inf265-det");
  SceneSource source(bank, preset, Split::kTrain);
  SceneBatch batch;
  render_scenes_cpu(preset, Split::kTrain, 2, source, 0, 2000, &batch);
  int dropped_total = 0, boxes = 0;
  for (const auto& l : batch.labels) {
    int dropped = 0;
    label_grid(l, 48, 60, 2, 3, &dropped);
    dropped_total += dropped;
    boxes += l.count;
  }
  EXPECT_LT(dropped_total, boxes / 100) << "grid encoding lost " << dropped_total << " of " << boxes;
}

TEST(ScenePresets, BadJsonGivesClearErrors) {
  expect_preset_error(R"({"name": "x", "colour": 3})", "unknown key 'colour'");
  expect_preset_error(R"({"name": "x", "scale_min": -1})", "scale");
  expect_preset_error(R"({"name": "x", "no_object_rate": 1.5})", "no_object_rate");
  expect_preset_error(
      R"({"name": "x", "max_digits": 8, "min_digits": 1, "scale_min": 1.2, "scale_max": 1.3})",
      "too many digits");
  expect_preset_error(R"({"name": "x", "max_digits": 9})", "max_digits");
  expect_preset_error(R"({"name": "x", "classes": [1, 12]})", "classes");
  expect_preset_error(R"({"name": "x", "height": "big"})", "wrong type");
  expect_preset_error(R"({"name": "x", "base": "nope"})", "unknown base");
  expect_preset_error(R"({"name": "x", "box": "circle"})", "box");
  expect_preset_error(R"({"name": "x", "base": "inf265-det", "grid_rows": 1, "grid_cols": 2})", "grid");
  expect_preset_error(R"({"name": "x", )", "not valid JSON");
  expect_preset_error(R"({"height": 48})", "name");
  EXPECT_THROW(find_preset("no-such-preset"), Error);
}

TEST(ScenePresets, UserPresetFile) {
  Preset p = preset_from_json(R"({"name": "mine", "base": "det10", "classes": [3, 4], "max_digits": 2})");
  EXPECT_EQ(p.height, 48);
  EXPECT_EQ(p.max_digits, 2);
  EXPECT_EQ(p.classes, (std::vector<int>{3, 4}));
  EXPECT_EQ(p.task, "detection");
  // A preset round-trips through its JSON form.
  Preset back = preset_from_json(preset_to_json(p));
  EXPECT_EQ(preset_to_json(back), preset_to_json(p));
  std::filesystem::path file = std::filesystem::temp_directory_path() / "locdet_test_presets.json";
  std::ofstream(file) << R"({"presets": [{"name": "big", "base": "inf265-loc", "height": 96, "width": 96},
                                         {"name": "big2", "base": "big", "smooth_max": 0.1}]})";
  Preset big2 = find_preset("big2", file.string());
  EXPECT_EQ(big2.height, 96);
  EXPECT_FLOAT_EQ(big2.smooth_max, 0.1f);
  EXPECT_EQ(find_preset("det10", file.string()).name, "det10");
  // Smooth noise renders and stays in [0, 1].
  DigitBank bank = synthetic_bank();
  SceneSource source(bank, big2, Split::kTrain);
  SceneBatch batch;
  render_scenes_cpu(big2, Split::kTrain, 1, source, 0, 16, &batch);
  for (float v : batch.images) ASSERT_TRUE(v >= 0.0f && v <= 1.0f);
}

TEST(SceneMath, SinCosPolynomial) {
  for (float deg = -180.0f; deg <= 180.0f; deg += 0.37f) {
    float s, c;
    hd_sincos_deg(deg, &s, &c);
    EXPECT_NEAR(s, std::sin(deg * M_PI / 180.0), 3e-7) << deg;
    EXPECT_NEAR(c, std::cos(deg * M_PI / 180.0), 3e-7) << deg;
  }
}

TEST(SceneExport, WritesCocoYoloPreviewAndStats) {
  namespace fs = std::filesystem;
  DigitBank bank = synthetic_bank();
  Preset preset = find_preset("det10");
  fs::path dir = fs::temp_directory_path() / "locdet_test_export";
  fs::remove_all(dir);
  ExportOptions options;
  options.formats = parse_formats("png,coco,yolo");
  DatasetStats stats = export_dataset(preset, Split::kTest, 3, 20, dir.string(), bank, options);
  EXPECT_EQ(stats.images, 20);
  EXPECT_TRUE(fs::exists(dir / "preview.png"));
  EXPECT_TRUE(fs::exists(dir / "images" / "test_000019.png"));
  EXPECT_TRUE(fs::exists(dir / "labels" / "test_000019.txt"));
  nlohmann::json coco = nlohmann::json::parse(std::ifstream(dir / "annotations.json"));
  EXPECT_EQ(coco["images"].size(), 20u);
  EXPECT_EQ(coco["categories"].size(), 10u);
  int64_t boxes = 0;
  for (auto& [n, c] : stats.digits_per_image) boxes += n * c;
  ASSERT_EQ(coco["annotations"].size(), static_cast<size_t>(boxes));
  for (const auto& a : coco["annotations"]) {
    EXPECT_GE(a["id"].get<int>(), 1);
    EXPECT_EQ(a["iscrowd"], 0);
    EXPECT_FLOAT_EQ(a["area"].get<float>(), a["bbox"][2].get<float>() * a["bbox"][3].get<float>());
  }
  // Re-rendering sample 0 reproduces the exported PNG's labels.
  SceneSource source(bank, preset, Split::kTest);
  SceneBatch batch;
  render_scenes_cpu(preset, Split::kTest, 3, source, 0, 1, &batch);
  std::ifstream yolo(dir / "labels" / "test_000000.txt");
  int lines = 0;
  for (std::string line; std::getline(yolo, line);) ++lines;
  EXPECT_EQ(lines, batch.labels[0].count);
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
  EXPECT_NE(stats.report().find("Counter({"), std::string::npos);
  EXPECT_THROW(parse_formats("png,tiff"), Error);
  EXPECT_THROW(export_dataset(preset, Split::kTest, 3, 6000, dir.string(), bank, options), Error);
}

TEST(SceneExport, RefusesUnwritableDir) {
  namespace fs = std::filesystem;
  fs::path file = fs::temp_directory_path() / "locdet_test_not_a_dir";
  std::ofstream(file) << "x";
  DigitBank bank = synthetic_bank();
  try {
    export_dataset(find_preset("det10"), Split::kTest, 3, 5, (file / "sub").string(), bank);
    FAIL() << "wrote under a regular file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--out"), std::string::npos) << e.what();
  }
}

}  // namespace
