// The localizer end to end on the CPU: built with the builder, differentiated, planned and
// trained by the executor on real inf265-loc scenes. A tiny run must overfit a handful of
// scenes; decoding must turn the outputs into the right digits and tight boxes.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/autodiff.h"
#include "engine/core/error.h"
#include "engine/data/mnist.h"
#include "engine/data/scene.h"
#include "engine/executor.h"
#include "engine/optim.h"
#include "kernels/common/box.h"
#include "models/localizer.h"

namespace locdet {
namespace {

struct Scenes {
  std::vector<float> images, labels;
};

Scenes render(int count, uint64_t first_index) {
  const std::string dir = data::default_mnist_dir();
  static const data::Mnist mnist = data::load_mnist(dir);
  static const data::DigitBank bank = data::DigitBank::from_mnist(mnist);
  const data::Preset preset = data::find_preset("inf265-loc");
  data::SceneSource source(bank, preset, data::Split::kTrain);
  data::SceneBatch batch;
  data::render_scenes_cpu(preset, data::Split::kTrain, 11, source, first_index, count, &batch);
  Scenes s;
  s.images = batch.images;
  for (const auto& label : batch.labels) {
    auto l = data::label_pc_xywh(label, batch.height, batch.width);
    s.labels.insert(s.labels.end(), l.begin(), l.end());
  }
  return s;
}

TEST(ModelLocalizer, BuildsWithBothBackbonesAndRejectsBadConfigs) {
  for (const char* kind : {"small", "resnet18"}) {
    Graph g(false);
    models::LocalizerConfig config;
    config.backbone.kind = kind;
    config.backbone.width = 4;
    Value images = g.input("image", {2, 1, 48, 60});
    models::Localizer m = models::build_localizer(g, config, images, Value{});
    EXPECT_EQ(m.grid_h, 12);
    EXPECT_EQ(m.grid_w, 15);
    EXPECT_EQ(g.shape(m.boxes), Shape({2, 180, 4}));
  }
  models::LocalizerConfig bad;
  bad.box_loss = "l2";
  EXPECT_THROW(bad.validate(), Error);
  bad = {};
  bad.backbone.kind = "vgg";
  Graph g;
  EXPECT_THROW(models::build_localizer(g, bad, g.input("image", {1, 1, 48, 60}), Value{}), Error);
  models::LocalizerConfig round_trip = models::LocalizerConfig::from_json(models::LocalizerConfig{}.to_json());
  EXPECT_EQ(round_trip.to_json(), models::LocalizerConfig{}.to_json());
}

TEST(ModelLocalizer, OverfitsAHandfulOfScenesOnCpu) {
  if (!std::filesystem::exists(data::default_mnist_dir())) GTEST_SKIP() << "no MNIST (run tools/bootstrap.sh)";
  constexpr int kBatch = 16;
  const Scenes scenes = render(kBatch, 0);

  Graph g(true);
  models::LocalizerConfig config;
  config.backbone.width = 8;
  Value images = g.input("image", {kBatch, 1, 48, 60});
  Value labels = g.input("labels", {kBatch, 6});
  models::Localizer m = models::build_localizer(g, config, images, labels);
  Gradients grads = build_backward(g, m.loss);
  OptimizerConfig optim;
  optim.schedule.base_lr = 3e-3f;
  optim.adamw.weight_decay = 0.0f;
  add_optimizer(g, grads, optim);
  Executor ex(std::move(g));
  ex.write(images, scenes.images);
  ex.write(labels, scenes.labels);

  float first = 0.0f, last = 0.0f;
  for (int step = 0; step < 150; ++step) {
    ex.step();
    last = ex.read_scalar(m.loss);
    if (step == 0) first = last;
    ASSERT_TRUE(std::isfinite(last)) << "step " << step;
  }
  EXPECT_LT(last, 0.25f * first) << "first loss " << first;

  const int cells = m.grid_h * m.grid_w;
  auto predictions = models::decode_localizer(kBatch, cells, ex.read(m.presence_logit), ex.read(m.location_logits),
                                              ex.read(m.class_logits), ex.read(m.boxes));
  int present = 0, correct = 0;
  double iou_sum = 0.0;
  for (int n = 0; n < kBatch; ++n) {
    const float* l = &scenes.labels[n * 6];
    const bool has_digit = l[0] > 0.5f;
    EXPECT_EQ(predictions[n].presence > 0.5f, has_digit) << "scene " << n;
    if (!has_digit) continue;
    ++present;
    const float truth[4] = {l[1] - l[3] / 2, l[2] - l[4] / 2, l[1] + l[3] / 2, l[2] + l[4] / 2};
    correct += predictions[n].digit == static_cast<int>(l[5]);
    iou_sum += box_iou(predictions[n].box, truth);
  }
  ASSERT_GT(present, 8);
  EXPECT_EQ(correct, present);
  EXPECT_GT(iou_sum / present, 0.75) << "mean IoU on the memorized scenes";
}

}  // namespace
}  // namespace locdet
