// Localizer head targets on hand-made labels (known answers) and invariants on random ones.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/cpu/localizer_targets.h"

namespace locdet {
namespace {

struct Targets {
  std::vector<int32_t> centre_cell, cell_class;
  std::vector<float> presence, image_weight, cell_weight, target_box;
};

Targets run(const std::vector<float>& labels, const LocalizerGrid& grid) {
  const int batch = static_cast<int>(labels.size()) / kLocalizerLabelSize;
  const int cells = grid.height * grid.width;
  Targets t;
  t.centre_cell.resize(batch);
  t.presence.resize(batch);
  t.image_weight.resize(batch);
  t.cell_class.resize(batch * cells);
  t.cell_weight.resize(batch * cells);
  t.target_box.resize(batch * cells * 4);
  cpu::localizer_targets(batch, grid, labels.data(), t.centre_cell.data(), t.presence.data(),
                         t.image_weight.data(), t.cell_class.data(), t.cell_weight.data(),
                         t.target_box.data());
  return t;
}

TEST(LocalizerTargets, HandMadeBatch) {
  const LocalizerGrid grid{12, 15, 1};
  const std::vector<float> labels = {
      1, 0.5f, 0.5f, 0.4f,  0.4f,  7,   // big digit in the middle: a full 3x3 neighbourhood
      0, 0,    0,    0,     0,     0,   // no digit
      1, 0.1f, 0.9f, 0.02f, 0.02f, 3};  // tiny digit: only its centre cell
  const Targets t = run(labels, grid);
  const int cells = 12 * 15;
  EXPECT_EQ(t.centre_cell, (std::vector<int32_t>{6 * 15 + 7, -1, 10 * 15 + 1}));
  EXPECT_EQ(t.presence, (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(t.image_weight, (std::vector<float>{0.5f, 0, 0.5f}));
  int positives[3] = {0, 0, 0};
  for (int n = 0; n < 3; ++n) {
    for (int cell = 0; cell < cells; ++cell) {
      const int i = n * cells + cell;
      if (t.cell_class[i] >= 0) {
        ++positives[n];
        EXPECT_EQ(t.cell_class[i], n == 0 ? 7 : 3);
      } else {
        EXPECT_EQ(t.cell_weight[i], 0.0f);
      }
    }
  }
  EXPECT_EQ(positives[0], 9);
  EXPECT_EQ(positives[1], 0);
  EXPECT_EQ(positives[2], 1);
  EXPECT_FLOAT_EQ(t.cell_weight[6 * 15 + 7], 1.0f / 18.0f);
  EXPECT_FLOAT_EQ(t.cell_weight[2 * cells + 10 * 15 + 1], 0.5f);
  const float* box = &t.target_box[4 * (6 * 15 + 7)];
  EXPECT_FLOAT_EQ(box[0], 0.3f);
  EXPECT_FLOAT_EQ(box[1], 0.3f);
  EXPECT_FLOAT_EQ(box[2], 0.7f);
  EXPECT_FLOAT_EQ(box[3], 0.7f);
}

TEST(LocalizerTargets, WeightsSumToOneAndTheCentreCellIsAlwaysPositive) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int trial = 0; trial < 50; ++trial) {
    const LocalizerGrid grid{12, 15, trial % 3};
    std::vector<float> labels;
    for (int n = 0; n < 16; ++n) {
      const float w = 0.05f + 0.5f * u(rng), h = 0.05f + 0.5f * u(rng);
      labels.insert(labels.end(), {u(rng) < 0.9f ? 1.0f : 0.0f, w / 2 + (1 - w) * u(rng),
                                   h / 2 + (1 - h) * u(rng), w, h, static_cast<float>(n % 10)});
    }
    const Targets t = run(labels, grid);
    double total = 0.0;
    for (float w : t.cell_weight) total += w;
    double image_total = 0.0;
    for (float w : t.image_weight) image_total += w;
    const bool any_present = image_total > 0.0;
    EXPECT_NEAR(total, any_present ? 1.0 : 0.0, 1e-5);
    EXPECT_NEAR(image_total, any_present ? 1.0 : 0.0, 1e-5);
    for (int n = 0; n < 16; ++n) {
      if (t.centre_cell[n] >= 0) {
        EXPECT_GE(t.cell_class[n * 180 + t.centre_cell[n]], 0);
      }
    }
  }
}

}  // namespace
}  // namespace locdet
