// The localizer end to end on the CPU: built with the builder, differentiated, planned and
// trained by the executor on real inf265-loc scenes. A tiny run must overfit a handful of
// scenes; decoding must turn the outputs into the right digits and tight boxes.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "engine/autodiff.h"
#include "engine/checkpoint.h"
#include "engine/executor.h"
#include "engine/optim.h"
#include "kernels/base/error.h"
#include "kernels/common/box.h"
#include "models/digits/mnist.h"
#include "models/digits/scene.h"
#include "models/localizer/model.h"
#include "models/localizer/predictor.h"
#include "models/localizer/report.h"
#include "models/localizer/run.h"
#include "models/localizer/trainer.h"
#include "tests/graph_grad_check.h"

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

TEST(ModelLocalizer, BuildsWithEveryBackboneAndRejectsBadConfigs) {
  for (const char* kind : {"small", "lean", "resnet18"}) {
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
  models::LocalizerConfig bad_loss;
  bad_loss.box_loss = "l2";
  EXPECT_THROW(bad_loss.validate(), Error);
  models::LocalizerConfig bad_model;
  bad_model.backbone.kind = "vgg";
  Graph g;
  EXPECT_THROW(models::build_localizer(g, bad_model, g.input("image", {1, 1, 48, 60}), Value{}), Error);
  const models::LocalizerConfig defaults;
  const models::LocalizerConfig round_trip = models::LocalizerConfig::from_json(defaults.to_json());
  EXPECT_EQ(round_trip.to_json(), defaults.to_json());
}

// The plain backbones' convolutions in order, [out, in] channels: small's names and shapes are
// what its checkpoints hold; lean moves one full-resolution convolution to the stride-4 stage.
TEST(ModelLocalizer, PlainBackbonesHaveTheirLayouts) {
  const std::vector<std::pair<const char*, std::vector<std::pair<int64_t, int64_t>>>> layouts = {
      {"small", {{4, 1}, {4, 4}, {8, 4}, {8, 8}, {16, 8}, {16, 16}}},
      {"lean", {{4, 1}, {8, 4}, {8, 8}, {16, 8}, {16, 16}, {16, 16}}}};
  for (const auto& [kind, convs] : layouts) {
    SCOPED_TRACE(kind);
    models::LocalizerConfig config;
    config.backbone.kind = kind;
    config.backbone.width = 4;
    Graph g(false);
    const models::Localizer m = models::build_localizer(g, config, g.input("image", {2, 1, 48, 60}), Value{});
    std::vector<std::pair<int64_t, int64_t>> found;
    for (Value p : g.parameters()) {
      const std::string& name = g.info(p).name;
      if (name.rfind("backbone.conv", 0) == 0 && name.size() > 12 &&
          name.substr(name.size() - 12) == ".conv.weight") {
        EXPECT_EQ(name, "backbone.conv" + std::to_string(found.size() + 1) + ".conv.weight");
        found.emplace_back(g.shape(p)[0], g.shape(p)[1]);
      }
    }
    EXPECT_EQ(found, convs);
    EXPECT_EQ(g.shape(g.find("head.out.weight"))[1], convs.back().first);  // the head reads the last stage
    EXPECT_EQ(m.grid_h, 12);
  }
}

TEST(ModelLocalizer, HeadOptionsBuildRoundTripAndDefaultForOldRuns) {
  models::LocalizerConfig config;
  config.backbone.width = 4;
  config.head_convs = 2;
  config.class_head = "global";
  config.label_smoothing = 0.1f;
  config.box_bins = 8;
  config.dfl_weight = 2.0f;
  Graph g(false);
  models::Localizer m = models::build_localizer(g, config, g.input("image", {2, 1, 48, 60}), Value{});
  EXPECT_EQ(g.shape(m.class_logits), Shape({2, 180, 10}));
  EXPECT_EQ(g.shape(g.find("head.out.weight")), Shape({1 + 10 + 4 * 8, 16, 1, 1}));
  EXPECT_EQ(g.shape(m.boxes), Shape({2, 180, 4}));
  EXPECT_EQ(g.shape(g.find("head.conv2.conv.weight")), Shape({16, 16, 3, 3}));
  EXPECT_EQ(g.shape(g.find("head.global.conv.conv.weight")), Shape({32, 16, 3, 3}));
  EXPECT_EQ(g.shape(g.find("head.global.weight")), Shape({10, 32}));
  EXPECT_EQ(models::LocalizerConfig::from_json(config.to_json()).to_json(), config.to_json());

  // A run from before these options: the head it was trained with.
  const models::LocalizerConfig defaults;
  nlohmann::json old = defaults.to_json();
  for (const char* key : {"head_convs", "class_head", "label_smoothing", "box_bins", "dfl_weight"})
    old.erase(key);
  const models::LocalizerConfig read = models::LocalizerConfig::from_json(old);
  EXPECT_EQ(read.head_convs, 1);
  EXPECT_EQ(read.class_head, "cell");
  EXPECT_EQ(read.label_smoothing, 0.0f);
  EXPECT_EQ(read.box_bins, 0);

  models::LocalizerConfig no_conv, unknown_head, full_smoothing, one_bin, negative_dfl;
  no_conv.head_convs = 0;
  unknown_head.class_head = "image";
  full_smoothing.label_smoothing = 1.0f;
  one_bin.box_bins = 1;
  negative_dfl.dfl_weight = -1.0f;
  for (const auto* bad : {&no_conv, &unknown_head, &full_smoothing, &one_bin, &negative_dfl})
    EXPECT_THROW(bad->validate(), Error);
}

// Box edges as distributions: with the head's weights zeroed, its biases alone choose each
// edge's bin, so every cell's box is its centre moved out by those bins: the left and top edges
// 3 px out, the right and bottom edges 6 px.
TEST(ModelLocalizer, BinnedEdgesAreDistancesFromTheCellCentre) {
  models::LocalizerConfig config;
  config.backbone.width = 4;
  config.box_bins = 8;
  Graph g(false);
  models::Localizer m = models::build_localizer(g, config, g.input("image", {1, 1, 48, 60}), Value{});
  Executor ex(std::move(g));
  const Graph& built = ex.graph();
  const Value w = built.find("head.out.weight"), b = built.find("head.out.bias");
  ex.write(w, std::vector<float>(built.shape(w).numel(), 0.0f));
  std::vector<float> bias(built.shape(b).numel(), 0.0f);
  for (int edge = 0; edge < 4; ++edge)
    bias[1 + 10 + edge * 8 + (edge < 2 ? 3 : 6)] = 40.0f;  // softmax ~ one-hot
  ex.write(b, bias);
  ex.write(built.find("image"), std::vector<float>(48 * 60, 0.5f));
  ex.step();
  const std::vector<float> boxes = ex.read(m.boxes);
  for (int cell : {0, 17, 179}) {
    const float cx = (cell % 15 + 0.5f) * 4, cy = (cell / 15 + 0.5f) * 4;
    const float* box = &boxes[cell * 4];
    EXPECT_NEAR(box[0] * 60, cx - 3, 1e-3) << "cell " << cell;
    EXPECT_NEAR(box[1] * 48, cy - 3, 1e-3) << "cell " << cell;
    EXPECT_NEAR(box[2] * 60, cx + 6, 1e-3) << "cell " << cell;
    EXPECT_NEAR(box[3] * 48, cy + 6, 1e-3) << "cell " << cell;
  }
}

TEST(ModelLocalizer, OverfitsAHandfulOfScenesOnCpu) {
  if (!std::filesystem::exists(data::default_mnist_dir()))
    GTEST_SKIP() << "no MNIST (run tools/bootstrap.sh)";
  constexpr int kBatch = 16;
  const Scenes scenes = render(kBatch, 0);
  for (int box_bins : {0, 32}) {  // offset boxes; edges as distributions
    SCOPED_TRACE(box_bins ? "box bins" : "offset boxes");
    Graph g(true);
    models::LocalizerConfig config;
    config.backbone.width = 8;
    config.box_bins = box_bins;
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
    auto predictions =
        models::decode_localizer(kBatch, cells, 10, ex.read(m.presence_logit), ex.read(m.location_logits),
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
}

TEST(ModelLocalizer, AnchorIsFittedToThePresetsBoxes) {
  if (!std::filesystem::exists(data::default_mnist_dir()))
    GTEST_SKIP() << "no MNIST (run tools/bootstrap.sh)";
  static const data::DigitBank bank =
      data::DigitBank::from_mnist(data::load_mnist(data::default_mnist_dir()));
  models::LocalizerConfig config;
  // ayulockin-loc: every box is the unscaled 28x28 patch on a 100x100 canvas.
  models::fit_anchor_to_preset(config, bank, data::find_preset("ayulockin-loc"), 200);
  EXPECT_FLOAT_EQ(config.anchor_w, 0.28f);
  EXPECT_FLOAT_EQ(config.anchor_h, 0.28f);
  // inf265-loc: tight ink boxes of digits scaled 0.6-1.3x on 48x60.
  models::fit_anchor_to_preset(config, bank, data::find_preset("inf265-loc"), 500);
  EXPECT_GT(config.anchor_w, 0.15f);
  EXPECT_LT(config.anchor_w, 0.5f);
  EXPECT_GT(config.anchor_h, 0.3f);
  EXPECT_LT(config.anchor_h, 0.7f);
}

// A positive cell's edge lies up to half the side + (radius + 0.5) cells of 4 px away, and at
// most a whole side (positive cells lie inside the box): 28x28 boxes with radius 1 reach
// 14 + 6 = 20 px, which 21 bins (0..20) cover and 20 do not; 8x8 boxes reach 8 px, not 4 + 6.
TEST(ModelLocalizer, BoxBinsMustReachTheTrainingBoxes) {
  models::LocalizerConfig config;
  config.positive_radius = 1;
  const std::vector<std::pair<double, double>> patches(200, {28.0, 28.0});
  EXPECT_EQ(models::check_box_bins_reach(config, patches), "");  // offset boxes: nothing to reach
  config.box_bins = 21;
  EXPECT_EQ(models::check_box_bins_reach(config, patches), "");
  config.box_bins = 20;
  try {
    models::check_box_bins_reach(config, patches);
    FAIL() << "20 bins cannot reach 20 px";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("200 of 200 sampled training boxes"), std::string::npos) << message;
    EXPECT_NE(message.find("use --box-bins 21"), std::string::npos) << message;
  }
  config.box_bins = 9;
  EXPECT_EQ(models::check_box_bins_reach(config, std::vector<std::pair<double, double>>(200, {8.0, 8.0})),
            "");
  config.box_bins = 8;
  EXPECT_THROW(models::check_box_bins_reach(config, std::vector<std::pair<double, double>>(200, {8.0, 8.0})),
               Error);
  // One box in a hundred beyond reach is a warning; the suggestion covers it.
  std::vector<std::pair<double, double>> mostly_small(99, {10.0, 12.0});
  mostly_small.emplace_back(40.0, 30.0);  // 20 + 6 = 26 px
  config.box_bins = 16;
  const std::string warning = models::check_box_bins_reach(config, mostly_small);
  EXPECT_NE(warning.find("1 of 100 "), std::string::npos) << warning;
  EXPECT_NE(warning.find("use --box-bins 27"), std::string::npos) << warning;
  mostly_small.emplace_back(40.0, 30.0);  // 2 of 101: refused
  EXPECT_THROW(models::check_box_bins_reach(config, mostly_small), Error);
}

// Autodiff through the whole localizer (backbone, per-cell head, custom cell ops, targets,
// every loss term) against finite differences in double, for each box loss. CIoU is left
// out on purpose: its gradient holds alpha constant (as torchvision and the paper do), so it
// is not the exact derivative of the loss; kernels/common/box.h documents it.
// Step h = 1e-7: the IoU losses have kinks where a predicted edge meets a target edge (the
// intersection and the enclosing box); with h = 1e-4..1e-6 one or two of ~200 checked
// elements straddle one and miss by ~1e-5 relative (measured), with MSE none do. In double,
// h = 1e-7 still leaves rounding error near 1e-8, far under the tolerance, so a wrong
// backward (errors of order 1e-2 and up) still fails.
TEST(ModelLocalizer, GradientsMatchFiniteDifferencesInDouble) {
  struct Case {
    const char* box_loss;
    bool global_head;  // two head convs, image-level class logits, label smoothing
    int box_bins;      // edges as distributions, with the distribution focal loss
  };
  for (const Case& c : {Case{"giou", false, 0}, Case{"diou", false, 0}, Case{"mse", false, 0},
                        Case{"giou", true, 0}, Case{"giou", false, 12}}) {
    SCOPED_TRACE(std::string(c.box_loss) + (c.global_head ? " + global head" : "") +
                 (c.box_bins ? " + box bins" : ""));
    Graph g(true);
    models::LocalizerConfig config;
    config.backbone.width = 2;
    config.height = 16;
    config.width = 20;
    config.box_loss = c.box_loss;
    config.box_bins = c.box_bins;
    if (c.global_head) {
      config.head_convs = 2;
      config.class_head = "global";
      config.label_smoothing = 0.1f;
    }
    Value images = g.input("image", {3, 1, 16, 20});
    Value labels = g.input("labels", {3, 6});
    models::Localizer m = models::build_localizer(g, config, images, labels);
    // Continuous random pixels: no exact ties for max pooling to break arbitrarily.
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> pixels(3 * 16 * 20);
    for (float& p : pixels) p = uniform(rng);
    const std::vector<float> label_values = {1, 0.45f, 0.5f, 0.3f, 0.5f,  3,   // a digit
                                             0, 0,     0,    0,    0,     0,   // none
                                             1, 0.7f,  0.3f, 0.2f, 0.35f, 8};  // another
    check_gradients(std::move(g), m.loss, {{images, pixels}, {labels, label_values}}, {}, 6, /*h=*/1e-7);
  }
}

// --resume on the CPU: k steps, checkpoint, a fresh trainer restores it and runs k more;
// the result must equal 2k uninterrupted steps bit for bit (same scenes from the cursor,
// same schedule position, same moments).
TEST(ModelLocalizer, ResumedTrainingEqualsUninterruptedTraining) {
  if (!std::filesystem::exists(data::default_mnist_dir()))
    GTEST_SKIP() << "no MNIST (run tools/bootstrap.sh)";
  static const data::DigitBank bank =
      data::DigitBank::from_mnist(data::load_mnist(data::default_mnist_dir()));
  models::LocalizerRun run;
  run.preset = data::find_preset("inf265-loc");
  run.model.backbone.width = 4;
  run.batch = 8;
  run.epochs = 1;
  run.steps_per_epoch = 6;
  run.warmup_steps = 2;
  const std::string path =
      (std::filesystem::temp_directory_path() / "locdet_resume_test.safetensors").string();

  models::LocalizerTrainer straight(run, bank, Device::kCpu);
  for (int s = 0; s < 6; ++s) straight.step();

  {
    models::LocalizerTrainer first(run, bank, Device::kCpu);
    for (int s = 0; s < 3; ++s) first.step();
    save_checkpoint(path, first.executor(), {});
  }
  models::LocalizerTrainer resumed(run, bank, Device::kCpu);
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
