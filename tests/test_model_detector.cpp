// The detector end to end on the CPU: config validation, the detection targets op on
// hand-made scenes, a whole-graph gradient check in double, an overfit run on a few det10
// scenes scored with the COCO evaluator, and resume equality.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <random>

#include "engine/autodiff.h"
#include "engine/checkpoint.h"
#include "engine/eval/coco.h"
#include "engine/executor.h"
#include "engine/optim.h"
#include "kernels/base/error.h"
#include "kernels/common/box.h"
#include "models/detector/model.h"
#include "models/detector/predictor.h"
#include "models/detector/report.h"
#include "models/detector/run.h"
#include "models/detector/trainer.h"
#include "models/digits/mnist.h"
#include "models/digits/scene.h"
#include "models/scene_feed.h"
#include "tests/graph_grad_check.h"

namespace locdet {
namespace {

SceneLabel make_label(std::initializer_list<std::pair<int, std::array<float, 4>>> digits) {
  SceneLabel l;
  std::memset(&l, 0, sizeof(l));
  for (const auto& [cls, box] : digits) {
    l.cls[l.count] = cls;
    l.mnist_index[l.count] = 0;
    for (int k = 0; k < 4; ++k) l.box[l.count][k] = box[k];
    ++l.count;
  }
  return l;
}

std::vector<int32_t> label_words(const std::vector<SceneLabel>& labels) {
  std::vector<int32_t> words(labels.size() * models::kSceneLabelWords);
  std::memcpy(words.data(), labels.data(), labels.size() * sizeof(SceneLabel));
  return words;
}

const data::DigitBank& bank() {
  static const data::DigitBank b = data::DigitBank::from_mnist(data::load_mnist(data::default_mnist_dir()));
  return b;
}

TEST(ModelDetector, BuildsAndRejectsBadConfigs) {
  for (const char* kind : {"small", "lean", "resnet18"}) {
    Graph g(false);
    models::DetectorConfig config;
    config.backbone.kind = kind;
    config.backbone.width = 4;
    Value images = g.input("image", {2, 1, 48, 60});
    models::Detector m = models::build_detector(g, config, images, Value{});
    EXPECT_EQ(m.grid_h, 12);
    EXPECT_EQ(m.grid_w, 15);
    EXPECT_EQ(m.num_anchors, 12 * 15 * 3);
    EXPECT_EQ(g.shape(m.boxes), Shape({2, 540, 4}));
    EXPECT_EQ(g.shape(m.class_logits), Shape({2, 540, 10}));
  }
  auto expect_invalid = [](auto change) {
    models::DetectorConfig c;
    change(c);
    EXPECT_THROW(c.validate(), Error);
  };
  expect_invalid([](models::DetectorConfig& c) { c.box_loss = "l2"; });
  expect_invalid([](models::DetectorConfig& c) { c.class_loss = "softmax"; });
  expect_invalid([](models::DetectorConfig& c) { c.classes = {1, 1}; });
  expect_invalid([](models::DetectorConfig& c) { c.classes = {kMaxClasses}; });  // label values 0..127
  expect_invalid([](models::DetectorConfig& c) { c.class_names = {"only one name"}; });
  expect_invalid([](models::DetectorConfig& c) { c.anchor_sizes.clear(); });
  expect_invalid([](models::DetectorConfig& c) { c.anchor_sizes = {{0.0f, 3.0f}}; });
  expect_invalid([](models::DetectorConfig& c) { c.neg_iou = 0.6f; });
  expect_invalid([](models::DetectorConfig& c) { c.prior = 1.0f; });
  expect_invalid([](models::DetectorConfig& c) { c.nms.max_det = 0; });
  models::DetectorConfig defaults;
  defaults.classes = {0, 1};
  defaults.anchor_sizes = {{7.5f, 12.25f}};
  const auto round_trip = models::DetectorConfig::from_json(defaults.to_json());
  EXPECT_EQ(round_trip.to_json(), defaults.to_json());
  nlohmann::json broken = defaults.to_json();
  broken.erase("anchor_sizes");
  EXPECT_THROW(models::DetectorConfig::from_json(broken), Error);
  // A run on a localization preset, or with a model missing one of the preset's digits, is refused.
  models::DetectorRun run;
  run.preset = data::find_preset("inf265-loc");
  EXPECT_THROW(run.validate(), Error);
  run.preset = data::find_preset("det10");
  run.model.classes = {0, 1};
  EXPECT_THROW(run.validate(), Error);
}

// Hand-made scenes on a 16x20 image (grid 4x5, stride 4), one anchor size 8x8 per cell:
// anchor a = y * 5 + x is centred at (4x + 2, 4y + 2). pos 0.5, neg 0.3.
TEST(ModelDetector, DetectionTargetsOnHandMadeScenes) {
  models::DetectorConfig config;
  config.height = 16;
  config.width = 20;
  config.classes = {3, 7};
  config.anchor_sizes = {{8.0f, 8.0f}};
  config.neg_iou = 0.3f;
  Graph g(false);
  Value labels = g.input("labels", {3, models::kSceneLabelWords}, DType::kI32);
  std::vector<float> anchors;
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x)
      anchors.insert(anchors.end(), {4.0f * x - 2, 4.0f * y - 2, 4.0f * x + 6, 4.0f * y + 6});
  Value anchor_values = g.constant("anchors", {20, 4}, anchors);
  models::DetectionTargets t = models::detection_targets(g, labels, anchor_values, config);
  for (Value v :
       {t.assigned, t.target_class, t.target_boxes, t.num_pos, t.cls_target, t.cls_weight, t.box_weight})
    g.mark_output(v);
  Executor ex(std::move(g));
  // Image 0: digit 7 exactly on anchor 7 = (1, 2) (IoU 1; its four side neighbours have IoU
  // 1/3: ignored), and a digit 5 the model has no class for (dropped).
  // Image 1: empty: every anchor negative.
  // Image 2: digit 3, a 4x4 box centred between anchors 12 and 13 (IoU 0.25 with both, below
  // neg_iou): only its best anchor is forced positive, the lower index on the tie.
  const std::vector<SceneLabel> scenes = {make_label({{7, {6, 2, 14, 10}}, {5, {0, 0, 4, 4}}}),
                                          make_label({}), make_label({{3, {10, 8, 14, 12}}})};
  ex.write_i32(labels, label_words(scenes));
  ex.step();
  const auto assigned = ex.read_i32(t.assigned), cls = ex.read_i32(t.target_class);
  const auto num_pos = ex.read(t.num_pos), cls_weight = ex.read(t.cls_weight),
             box_weight = ex.read(t.box_weight);
  const auto onehot = ex.read(t.cls_target), boxes = ex.read(t.target_boxes);
  EXPECT_EQ(num_pos, std::vector<float>({1, 0, 1}));
  const float gt0[4] = {6, 2, 14, 10};
  int ignored = 0;
  for (int a = 0; a < 20; ++a) {
    SCOPED_TRACE(a);
    const float iou = box_iou(&anchors[4 * a], gt0);
    const int expected = iou >= 0.5f ? 0 : (iou < 0.3f ? -1 : -2);
    ignored += expected == -2;
    EXPECT_EQ(assigned[a], expected);
    EXPECT_EQ(cls[a], expected == 0 ? 1 : expected);
    EXPECT_FLOAT_EQ(cls_weight[a], expected == -2 ? 0.0f : 0.5f);  // 1 / (2 positives in the batch)
    EXPECT_FLOAT_EQ(box_weight[a], expected == 0 ? 0.5f : 0.0f);
    EXPECT_EQ(onehot[2 * a + 1], expected == 0 ? 1.0f : 0.0f);
    EXPECT_EQ(onehot[2 * a], 0.0f);
    EXPECT_EQ(assigned[20 + a], -1);
    EXPECT_FLOAT_EQ(cls_weight[20 + a], 0.5f);
    EXPECT_FLOAT_EQ(box_weight[20 + a], 0.0f);
    EXPECT_EQ(assigned[40 + a], a == 12 ? 0 : -1);
    EXPECT_EQ(cls[40 + a], a == 12 ? 0 : -1);
  }
  EXPECT_EQ(ignored, 4);
  EXPECT_EQ(assigned[7], 0);
  EXPECT_EQ(std::vector<float>(boxes.begin() + 28, boxes.begin() + 32), std::vector<float>({6, 2, 14, 10}));
  EXPECT_EQ(std::vector<float>(boxes.begin() + 4 * 52, boxes.begin() + 4 * 53),
            std::vector<float>({10, 8, 14, 12}));
}

// Autodiff through the whole detector (backbone, head, decode, targets, focal/BCE and IoU
// losses) against finite differences in double. h = 1e-7 for the reason given in
// tests/test_model_localizer.cpp (IoU kinks); CIoU is left out because its gradient holds
// alpha constant by definition.
TEST(ModelDetector, GradientsMatchFiniteDifferencesInDouble) {
  struct Case {
    const char* class_loss;
    const char* box_loss;
  };
  for (const Case& c : {Case{"focal", "giou"}, Case{"bce", "diou"}}) {
    SCOPED_TRACE(std::string(c.class_loss) + " " + c.box_loss);
    Graph g(true);
    models::DetectorConfig config;
    config.backbone.width = 2;
    config.height = 16;
    config.width = 20;
    config.classes = {0, 4, 9};
    config.anchor_sizes = {{6.0f, 8.0f}, {9.0f, 11.0f}};
    config.class_loss = c.class_loss;
    config.box_loss = c.box_loss;
    Value images = g.input("image", {2, 1, 16, 20});
    Value labels = g.input("labels", {2, models::kSceneLabelWords}, DType::kI32);
    models::Detector m = models::build_detector(g, config, images, labels);
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> pixels(2 * 16 * 20);
    for (float& p : pixels) p = uniform(rng);
    const auto words = label_words(
        {make_label({{4, {2, 1, 9, 10}}, {9, {11, 5, 19, 15}}}), make_label({{0, {5.5f, 3, 12, 12.5f}}})});
    check_gradients(std::move(g), m.loss, {{images, pixels}}, {{labels, words}}, 6, /*h=*/1e-7);
  }
}

TEST(ModelDetector, OverfitsAHandfulOfScenesOnCpu) {
  if (!std::filesystem::exists(data::default_mnist_dir()))
    GTEST_SKIP() << "no MNIST (run tools/bootstrap.sh)";
  constexpr int kBatch = 8;
  const data::Preset preset = data::find_preset("det10");
  data::SceneSource source(bank(), preset, data::Split::kTrain);
  data::SceneBatch scenes;
  data::render_scenes_cpu(preset, data::Split::kTrain, 11, source, 0, kBatch, &scenes);

  models::DetectorConfig config;
  config.backbone.width = 8;
  config.anchor_sizes = models::choose_detector_anchors(bank(), preset, 3, 200);
  Graph g(true);
  Value images = g.input("image", {kBatch, 1, 48, 60});
  Value labels = g.input("labels", {kBatch, models::kSceneLabelWords}, DType::kI32);
  models::Detector m = models::build_detector(g, config, images, labels);
  OptimizerConfig optim;
  optim.schedule.base_lr = 3e-3f;
  optim.adamw.weight_decay = 0.0f;
  add_optimizer(g, build_backward(g, m.loss), optim);
  Executor ex(std::move(g));
  ex.write(images, scenes.images);
  ex.write_i32(labels, label_words(scenes.labels));
  float first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    ex.step();
    last = ex.read_scalar(m.loss);
    if (step == 0) first = last;
    ASSERT_TRUE(std::isfinite(last)) << "step " << step;
  }
  EXPECT_LT(last, 0.2f * first) << "first loss " << first;

  // Inference through the predictor (running BN statistics of the same 8 scenes) + NMS.
  models::DetectorPredictor predictor(config, kBatch, Device::kCpu);
  predictor.copy_weights_from(ex);
  const auto detections = predictor.predict(scenes.images.data(), kBatch);
  eval::CocoEvaluator coco(10);
  for (int b = 0; b < kBatch; ++b) {
    const SceneLabel& l = scenes.labels[b];
    coco.add_image(b);
    for (int k = 0; k < l.count; ++k)
      coco.add_ground_truth(b, l.cls[k],
                            eval::CocoBox::from_xyxy(l.box[k][0], l.box[k][1], l.box[k][2], l.box[k][3]));
    for (const auto& d : detections[b])
      coco.add_detection(b, d.cls, eval::CocoBox::from_xyxy(d.box[0], d.box[1], d.box[2], d.box[3]), d.score);
  }
  const eval::CocoReport report = coco.evaluate();
  EXPECT_GT(report.map50, 0.95) << "AP50 on the memorized scenes";
  EXPECT_GT(report.map, 0.6) << "AP@[.5:.95] on the memorized scenes";
}

TEST(ModelDetector, AnchorSizesAreDeterministicAndCoverTheBoxes) {
  if (!std::filesystem::exists(data::default_mnist_dir()))
    GTEST_SKIP() << "no MNIST (run tools/bootstrap.sh)";
  const data::Preset preset = data::find_preset("det10");
  double mean_iou = 0;
  const auto a = models::choose_detector_anchors(bank(), preset, 3, 300, &mean_iou);
  const auto b = models::choose_detector_anchors(bank(), preset, 3, 300);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_LT(a[0].first * a[0].second, a[2].first * a[2].second);
  EXPECT_GT(mean_iou, 0.6);
}

// --resume on the CPU, as for the localizer: 3 + 3 steps through a checkpoint equal 6 steps.
TEST(ModelDetector, ResumedTrainingEqualsUninterruptedTraining) {
  if (!std::filesystem::exists(data::default_mnist_dir()))
    GTEST_SKIP() << "no MNIST (run tools/bootstrap.sh)";
  models::DetectorRun run;
  run.preset = data::find_preset("inf265-det");
  run.model.classes = {0, 1};
  run.model.backbone.width = 4;
  run.batch = 8;
  run.epochs = 1;
  run.steps_per_epoch = 6;
  run.warmup_steps = 2;
  const std::string path =
      (std::filesystem::temp_directory_path() / "locdet_detector_resume.safetensors").string();

  models::DetectorTrainer straight(run, bank(), Device::kCpu);
  for (int s = 0; s < 6; ++s) straight.step();
  {
    models::DetectorTrainer first(run, bank(), Device::kCpu);
    for (int s = 0; s < 3; ++s) first.step();
    save_checkpoint(path, first.executor(), {});
  }
  models::DetectorTrainer resumed(run, bank(), Device::kCpu);
  load_checkpoint(path, resumed.executor(), /*strict=*/true);
  EXPECT_EQ(resumed.steps_done(), 3);
  for (int s = 0; s < 3; ++s) resumed.step();
  std::filesystem::remove(path);
  EXPECT_EQ(resumed.steps_done(), 6);
  EXPECT_EQ(resumed.read_losses().dump(), straight.read_losses().dump());
  for (Value v : straight.executor().graph().persistent_state()) {
    const std::string& name = straight.executor().graph().info(v).name;
    EXPECT_EQ(straight.executor().read_bytes(v),
              resumed.executor().read_bytes(resumed.executor().graph().find(name)))
        << name;
  }
}

}  // namespace
}  // namespace locdet
