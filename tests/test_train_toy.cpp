// End to end on the CPU: a small CNN, built with the builder, differentiated by autodiff,
// planned, and trained by the executor with the fused AdamW section, learns whether a
// bright square is in the left or right half of a noisy image. Chance-level cross entropy
// is ln 2 = 0.69; a model that does not learn cannot get the late loss under 0.2 nor the
// accuracy over 90%.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/autodiff.h"
#include "engine/executor.h"
#include "engine/optim.h"

namespace locdet {
namespace {

constexpr int kBatch = 16, kH = 12, kW = 16;

struct ToyModel {
  Graph g;
  Value image, labels, logits, loss;
};

ToyModel build_toy(bool training) {
  ToyModel m{Graph(training), {}, {}, {}, {}};
  Graph& g = m.g;
  m.image = g.input("image", {kBatch, 1, kH, kW});
  m.labels = g.input("labels", {kBatch}, DType::kI32);
  Value h = g.conv2d(m.image, g.parameter("conv1.weight", {8, 1, 3, 3}, Init::kKaimingUniform), {}, 1, 1);
  h = g.maxpool2d(g.relu(g.batchnorm(h, "bn1")), 2, 2);
  h = g.conv2d(h, g.parameter("conv2.weight", {8, 8, 3, 3}, Init::kKaimingUniform),
               g.parameter("conv2.bias", {8}, Init::kZeros), 1, 1);
  h = g.relu(h);  // [B, 8, 6, 8]
  m.logits = g.linear(h, g.parameter("fc.weight", {2, 8 * 6 * 8}, Init::kXavierUniform),
                      g.parameter("fc.bias", {2}, Init::kZeros));
  m.loss = g.mean(g.softmax_cross_entropy(m.logits, m.labels));
  g.mark_output(m.loss);
  g.mark_output(m.logits);
  return m;
}

void make_batch(std::mt19937& rng, std::vector<float>* image, std::vector<int32_t>* labels) {
  std::normal_distribution<float> noise(0.0f, 0.3f);
  image->assign(kBatch * kH * kW, 0.0f);
  labels->resize(kBatch);
  for (int b = 0; b < kBatch; ++b) {
    float* im = image->data() + b * kH * kW;
    for (int i = 0; i < kH * kW; ++i) im[i] = noise(rng);
    int right = static_cast<int>(rng() % 2);
    int y0 = static_cast<int>(rng() % (kH - 3)),
        x0 = right * (kW / 2) + static_cast<int>(rng() % (kW / 2 - 3));
    for (int y = y0; y < y0 + 3; ++y)
      for (int x = x0; x < x0 + 3; ++x) im[y * kW + x] += 2.0f;
    (*labels)[b] = right;
  }
}

TEST(TrainToy, SmallCnnLearnsLeftVersusRightOnCpu) {
  ToyModel m = build_toy(true);
  Gradients grads = build_backward(m.g, m.loss);
  OptimizerConfig cfg;
  cfg.schedule.base_lr = 0.01f;
  cfg.adamw.weight_decay = 1e-4f;
  add_optimizer(m.g, grads, cfg);
  Executor ex(std::move(m.g));

  std::mt19937 rng(123);
  std::vector<float> image;
  std::vector<int32_t> labels;
  double late_loss = 0.0;
  int correct = 0, seen = 0;
  const int steps = 80, late = 20;
  float first_loss = 0.0f;
  for (int s = 0; s < steps; ++s) {
    make_batch(rng, &image, &labels);
    ex.write(m.image, image);
    ex.write_i32(m.labels, labels);
    ex.step();
    float loss = ex.read_scalar(m.loss);
    ASSERT_TRUE(std::isfinite(loss)) << "step " << s;
    if (s == 0) first_loss = loss;
    if (s >= steps - late) {
      late_loss += loss / late;
      std::vector<float> logits = ex.read(m.logits);  // computed before this step's update
      for (int b = 0; b < kBatch; ++b, ++seen)
        correct += (logits[2 * b + 1] > logits[2 * b]) == (labels[b] == 1);
    }
  }
  double accuracy = static_cast<double>(correct) / seen;
  std::printf("toy: first loss %.3f, mean loss over the last %d steps %.3f, accuracy %.3f\n", first_loss,
              late, late_loss, accuracy);
  EXPECT_LT(late_loss, 0.2);
  EXPECT_GT(accuracy, 0.9);
  // The schedule and step counter ran on the "device" (the arena), not on the host.
  EXPECT_EQ(*ex.tensor("optim.step").as<int64_t>(), steps);
}

}  // namespace
}  // namespace locdet
