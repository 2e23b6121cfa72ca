// COCO evaluator against pycocotools: tests/fixtures/coco/*.json were made by
// tools/make_coco_fixtures.py (pycocotools COCOeval on synthetic sets with misses, false
// positives, duplicates, score ties, an image without GT, a class without GT, > 100 detections
// per image). We require agreement to 1e-9: the evaluator reproduces COCOeval's arithmetic, so
// only summation order (numpy's pairwise sums in the means) can differ, at the 1e-16 level.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "engine/eval/coco.h"
#include "kernels/base/error.h"
#include "tests/test_paths.h"

namespace locdet::eval {
namespace {

constexpr double kTol = 1e-9;

nlohmann::json load_fixture(const std::string& name) {
  std::ifstream in(test::source_path("tests/fixtures/coco/" + name + ".json"));
  EXPECT_TRUE(in.good()) << "missing fixture " << name << " (run tools/make_coco_fixtures.py)";
  nlohmann::json j;
  if (in.good()) in >> j;
  return j;
}

CocoBox box_of(const nlohmann::json& b) {
  return {b[0].get<double>(), b[1].get<double>(), b[2].get<double>(), b[3].get<double>()};
}

class CocoFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(CocoFixture, MatchesPycocotools) {
  nlohmann::json f = load_fixture(GetParam());
  ASSERT_FALSE(f.is_null());
  CocoEvaluator ev(f["num_classes"].get<int>());
  ev.add_image(f["num_images"].get<int64_t>() - 1);
  for (const auto& g : f["gt"]) ev.add_ground_truth(g["image"], g["class"], box_of(g["bbox"]));
  for (const auto& d : f["dt"]) ev.add_detection(d["image"], d["class"], box_of(d["bbox"]), d["score"]);
  CocoReport r = ev.evaluate();
  const auto& e = f["expected"];
  EXPECT_NEAR(r.map, e["map"].get<double>(), kTol);
  EXPECT_NEAR(r.map50, e["map50"].get<double>(), kTol);
  EXPECT_NEAR(r.map75, e["map75"].get<double>(), kTol);
  EXPECT_NEAR(r.ar100, e["ar100"].get<double>(), kTol);
  ASSERT_EQ(r.per_class_ap.size(), e["per_class_ap"].size());
  for (size_t k = 0; k < r.per_class_ap.size(); ++k) {
    EXPECT_NEAR(r.per_class_ap[k], e["per_class_ap"][k].get<double>(), kTol) << "class " << k;
    EXPECT_NEAR(r.per_class_ar100[k], e["per_class_ar100"][k].get<double>(), kTol) << "class " << k;
    for (size_t i = 0; i < 101; ++i)
      ASSERT_NEAR(r.pr_curve50[k][i], e["pr50"][k][i].get<double>(), kTol) << "class " << k << " point " << i;
  }
  nlohmann::json j = r.to_json();
  for (const char* key : {"map", "map50", "map75", "per_class_ap", "ar100"})
    EXPECT_TRUE(j.contains(key)) << key;
}

INSTANTIATE_TEST_SUITE_P(Pycocotools, CocoFixture,
                         ::testing::Values("basic", "noisy", "ties", "empty_and_missing_class", "perfect",
                                           "crowded"));

TEST(EvalCoco, ClassWithoutGtIsMinusOneAndExcluded) {
  CocoEvaluator ev(3);
  ev.add_ground_truth(0, 0, {0, 0, 10, 10});
  ev.add_detection(0, 0, {0, 0, 10, 10}, 0.9);
  ev.add_detection(0, 2, {20, 20, 5, 5}, 0.8);  // class 2 has no GT: a false positive nowhere counted
  CocoReport r = ev.evaluate();
  EXPECT_DOUBLE_EQ(r.per_class_ap[0], 1.0);
  EXPECT_EQ(r.per_class_ap[1], -1.0);
  EXPECT_EQ(r.per_class_ap[2], -1.0);
  EXPECT_DOUBLE_EQ(r.map, 1.0);
  EXPECT_DOUBLE_EQ(r.ar100, 1.0);
}

TEST(EvalCoco, IouMatchesBbIou) {
  EXPECT_DOUBLE_EQ(coco_iou({0, 0, 2, 2}, {1, 1, 2, 2}), 1.0 / 7.0);
  EXPECT_EQ(coco_iou({0, 0, 1, 1}, {1, 0, 1, 1}), 0.0);
}

TEST(EvalCoco, HalfPrecisionCurve) {
  // One GT, two detections: the wrong one scores higher. Precision at recall 1 is 1/2, so
  // every interpolated point is 0.5 at every threshold and AP = 0.5.
  CocoEvaluator ev(1);
  ev.add_ground_truth(0, 0, {0, 0, 10, 10});
  ev.add_detection(0, 0, {30, 30, 5, 5}, 0.9);
  ev.add_detection(0, 0, {0, 0, 10, 10}, 0.5);
  CocoReport r = ev.evaluate();
  EXPECT_NEAR(r.map, 0.5, 1e-12);
  EXPECT_NEAR(r.pr_curve50[0][100], 0.5, 1e-12);
}

TEST(EvalCoco, DetectionConfusionMatrix) {
  // Image 0: GT class 0 and class 1; detections: class 0 on GT0 (right), class 0 on GT1
  // (confused), class 1 in empty space (background), one below the score threshold.
  // Image 1: a GT class 1 that nothing detects.
  CocoEvaluator ev(2);
  ev.add_ground_truth(0, 0, {0, 0, 10, 10});
  ev.add_ground_truth(0, 1, {20, 0, 10, 10});
  ev.add_ground_truth(1, 1, {0, 0, 10, 10});
  ev.add_detection(0, 0, {0, 0, 10, 9}, 0.9);
  ev.add_detection(0, 0, {20, 0, 10, 10}, 0.8);
  ev.add_detection(0, 1, {40, 30, 5, 5}, 0.7);
  ev.add_detection(0, 1, {0, 0, 10, 10}, 0.1);
  CocoReport r = ev.evaluate(0.25);
  std::vector<std::vector<int64_t>> expected = {{1, 0, 0}, {1, 0, 1}, {0, 1, 0}};
  EXPECT_EQ(r.confusion, expected);
}

TEST(EvalCoco, RejectsBadInput) {
  CocoEvaluator ev(2);
  EXPECT_THROW(ev.add_ground_truth(0, 2, {0, 0, 1, 1}), locdet::Error);
  EXPECT_THROW(ev.add_detection(-1, 0, {0, 0, 1, 1}, 0.5), locdet::Error);
  EXPECT_THROW(CocoEvaluator(0), locdet::Error);
}

}  // namespace
}  // namespace locdet::eval
