// The localizer against its PyTorch twin (tools/torch_twin.py), an independent implementation:
// tests/golden/localizer_twin.safetensors is one of OUR checkpoints (width 4, 5 training steps,
// optimizer state stripped); tests/golden/localizer_twin.json holds, from PyTorch in float64,
// the eval-mode outputs on 4 fixed images and the train-mode loss and parameter gradients
// (tools/make_twin_fixture.py). This checks the model's meaning end to end: parameter names
// and layouts, BN in both modes, to_cells order, the head's channel split, decode_box, the
// targets, the seed-1 loss with GIoU, and every backward rule on the path.
//
// Tolerance: our float32 against float64 truth, with other summation orders (im2col + GEMM over
// up to 16*9 = 144 products per output, BN sums over 4*12*15..4*48*60 values):
//   outputs:   |got - ref| <= 1e-4 * |ref| + 1e-5 * max(1, max|ref|)
//   gradients: |got - ref| <= 1e-3 * |ref| + 1e-4 * max|ref of that tensor|
// Gradients get 10x the room: they pass through BN's backward, whose three-term difference
// cancels, and through sums over the whole batch. A wrong rule or layout is off by O(1).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/autodiff.h"
#include "engine/checkpoint.h"
#include "engine/executor.h"
#include "models/localizer/model.h"
#include "models/localizer/predictor.h"
#include "models/localizer/report.h"
#include "models/localizer/run.h"
#include "models/localizer/trainer.h"
#include "tests/test_paths.h"

namespace locdet {
namespace {

using nlohmann::json;

struct Fixture {
  json j;
  models::LocalizerConfig config;
  int batch = 0;
  std::vector<float> images;  // [batch, 1, H, W]
  std::vector<float> labels;  // [batch, 6]
  std::string checkpoint;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture f;
    const std::string path = test::source_path("tests/golden/localizer_twin.json");
    std::ifstream in(path);
    if (!in) throw std::runtime_error("missing " + path + " (regenerate with tools/make_twin_fixture.py)");
    f.j = json::parse(in);
    f.config = models::LocalizerConfig::from_json(f.j.at("model"));
    f.batch = f.j.at("batch").get<int>();
    for (const auto& image : f.j.at("images_u8"))
      for (int v : image) f.images.push_back(static_cast<float>(v) / 255.0f);
    for (const auto& label : f.j.at("labels"))
      for (float v : label) f.labels.push_back(v);
    f.checkpoint = test::source_path("tests/golden/localizer_twin.safetensors");
    return f;
  }();
  return f;
}

// Returns the number of mismatches (and reports the first few).
int compare(const std::vector<float>& got, const json& ref_json, double rel, double abs_scale,
            double abs_floor_min, const std::string& what) {
  const auto ref = ref_json.get<std::vector<double>>();
  EXPECT_EQ(got.size(), ref.size()) << what;
  if (got.size() != ref.size()) return 1;
  double scale = abs_floor_min;
  for (double r : ref) scale = std::max(scale, std::fabs(r));
  int bad = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double tol = rel * std::fabs(ref[i]) + abs_scale * scale;
    if (!(std::fabs(got[i] - ref[i]) <= tol)) {
      if (++bad <= 3)
        ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", PyTorch " << ref[i] << " (tol " << tol
                      << ")";
    }
  }
  return bad;
}

TEST(TwinLocalizer, EvalOutputsMatchPyTorch) {
  const Fixture& f = fixture();
  Graph g(false);
  Value images = g.input("image", {f.batch, 1, f.config.height, f.config.width});
  models::Localizer m = models::build_localizer(g, f.config, images, Value{});
  Executor ex(std::move(g));
  load_checkpoint(f.checkpoint, ex, /*strict=*/false);
  ex.write(images, f.images);
  ex.step();
  const json& ref = f.j.at("eval");
  EXPECT_EQ(compare(ex.read(m.presence_logit), ref.at("presence_logit"), 1e-4, 1e-5, 1.0, "presence_logit"),
            0);
  EXPECT_EQ(
      compare(ex.read(m.location_logits), ref.at("location_logits"), 1e-4, 1e-5, 1.0, "location_logits"), 0);
  EXPECT_EQ(compare(ex.read(m.class_logits), ref.at("class_logits"), 1e-4, 1e-5, 1.0, "class_logits"), 0);
  EXPECT_EQ(compare(ex.read(m.boxes), ref.at("boxes"), 1e-4, 1e-5, 1.0, "boxes"), 0);
}

TEST(TwinLocalizer, PredictorDecodesTheTwinsArgmax) {
  const Fixture& f = fixture();
  models::LocalizerPredictor predictor(f.config, f.batch, Device::kCpu);
  predictor.load_checkpoint(f.checkpoint);
  const auto predictions = predictor.predict(f.images.data(), f.batch);
  const json& ref = f.j.at("eval");
  const auto presence = ref.at("presence_logit").get<std::vector<double>>();
  const auto location = ref.at("location_logits").get<std::vector<double>>();
  const auto classes = ref.at("class_logits").get<std::vector<double>>();
  const auto boxes = ref.at("boxes").get<std::vector<double>>();
  const int cells = static_cast<int>(location.size()) / f.batch;
  for (int n = 0; n < f.batch; ++n) {
    const auto loc = location.begin() + static_cast<size_t>(n) * cells;
    const int cell = static_cast<int>(std::max_element(loc, loc + cells) - loc);
    const auto cls = classes.begin() + (static_cast<size_t>(n) * cells + cell) * 10;
    const int digit = static_cast<int>(std::max_element(cls, cls + 10) - cls);
    const auto& p = predictions[n];
    EXPECT_NEAR(p.presence_logit, presence[n], 1e-4 * std::fabs(presence[n]) + 1e-5) << "image " << n;
    EXPECT_EQ(p.digit, digit) << "image " << n;
    for (int k = 0; k < 4; ++k)
      EXPECT_NEAR(p.box[k], boxes[(static_cast<size_t>(n) * cells + cell) * 4 + k], 1e-5)
          << "image " << n << " box " << k;
  }
}

TEST(TwinLocalizer, TrainLossAndGradientsMatchPyTorch) {
  const Fixture& f = fixture();
  Graph g(true);
  Value images = g.input("image", {f.batch, 1, f.config.height, f.config.width});
  Value labels = g.input("labels", {f.batch, 6});
  models::Localizer m = models::build_localizer(g, f.config, images, labels);
  Gradients grads = build_backward(g, m.loss);
  const json& ref = f.j.at("train");
  const json& ref_grads = ref.at("gradients");
  std::vector<std::pair<std::string, Value>> wanted;
  for (Value p : g.parameters()) {
    const std::string name = g.info(p).name;
    ASSERT_TRUE(ref_grads.contains(name)) << "the twin has no parameter " << name;
    ASSERT_TRUE(grads[p]) << name << " got no gradient";
    g.mark_output(grads[p]);
    wanted.emplace_back(name, grads[p]);
  }
  EXPECT_EQ(wanted.size(), ref_grads.size()) << "parameter count differs from the twin's";
  Executor ex(std::move(g));
  load_checkpoint(f.checkpoint, ex, /*strict=*/false);
  ex.write(images, f.images);
  ex.write(labels, f.labels);
  ex.step();
  for (const char* part : {"loss", "presence_loss", "location_loss", "class_loss", "box_loss"}) {
    Value v = part == std::string("loss")            ? m.loss
              : part == std::string("presence_loss") ? m.presence_loss
              : part == std::string("location_loss") ? m.location_loss
              : part == std::string("class_loss")    ? m.class_loss
                                                     : m.box_loss;
    const double r = ref.at(part).get<double>();
    EXPECT_NEAR(ex.read_scalar(v), r, 1e-4 * std::fabs(r) + 1e-6) << part;
  }
  for (const auto& [name, value] : wanted)
    EXPECT_EQ(compare(ex.read(value), ref_grads.at(name), 1e-3, 1e-4, 0.0, "grad " + name), 0);
}

}  // namespace
}  // namespace locdet
