// Localization metrics on eight hand-made images whose answers are worked out below.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/base/error.h"
#include "models/digits/localization_eval.h"

namespace locdet::eval {
namespace {

// image  truth            prediction (logit, class, box)           outcome
//  1     3 (0,0,.5,.5)    +2, 3, (0,0,.5,.5)                       correct, IoU 1
//  2     3 (0,0,.5,.5)    +1, 5, (0,0,.25,.5)                      wrong class, IoU .5
//  3     5 (.5,.5,1,1)    -1, 5                                    missed, IoU 0
//  4     none             -3                                       none/none
//  5     none             +.5, 5                                   false presence -> (none, 5)
//  6     5 (.25,.25,.75,.75) +3, 5, (.25,.25,.75,.5)              correct, IoU .5
//  7     none             -1                                       none/none
//  8     3 (0,0,.5,.5)    +1, 3, (.5,.5,1,1)                       correct class, IoU 0 (touching)
// accuracy = 3/5, mean IoU = 2/5, performance = .5, presence accuracy = 6/8.
// confusion: (3,3)=2 (3,5)=1 (5,5)=1 (5,none)=1 (none,none)=2 (none,5)=1.
// label 3: tp 2, row 3, col 2 -> P 1, R 2/3, F1 = 2tp/(2tp+fp+fn) = 4/5
// label 5: tp 1, row 2, col 3 -> P 1/3, R 1/2, F1 = 2/5
// none:    tp 2, row 3, col 3 -> P 2/3, R 2/3, F1 2/3
// macro over 11 labels: P = 2/11, R = (11/6)/11 = 1/6, F1 = (28/15)/11 = 28/165
// weighted (supports 3, 2, 3 of 8): P = (3 + 2/3 + 2)/8 = 17/24, R = 5/8, F1 = 5.2/8 = .65
LocalizationEvaluator make_case() {
  LocalizationEvaluator ev;
  const float a[4] = {0, 0, .5f, .5f}, b[4] = {.5f, .5f, 1, 1}, c[4] = {.25f, .25f, .75f, .75f};
  const float half[4] = {0, 0, .25f, .5f}, c_half[4] = {.25f, .25f, .75f, .5f}, z[4] = {0, 0, 0, 0};
  ev.add(2.0f, 3, a, true, 3, a);
  ev.add(1.0f, 5, half, true, 3, a);
  ev.add(-1.0f, 5, b, true, 5, b);
  ev.add(-3.0f, 0, z, false, 0, z);
  ev.add(0.5f, 5, b, false, 0, z);
  ev.add(3.0f, 5, c_half, true, 5, c);
  ev.add(-1.0f, 2, z, false, 0, z);
  ev.add(1.0f, 3, b, true, 3, a);
  return ev;
}

TEST(EvalLocalization, HeadlineMetrics) {
  LocalizationReport r = make_case().report();
  EXPECT_EQ(r.images, 8);
  EXPECT_EQ(r.images_with_digit, 5);
  EXPECT_NEAR(r.accuracy, 0.6, 1e-12);
  EXPECT_DOUBLE_EQ(r.mean_iou, 0.4);
  EXPECT_DOUBLE_EQ(r.performance, 0.5);
  EXPECT_NEAR(r.presence_accuracy, 0.75, 1e-12);
  std::array<int64_t, 10> hist{2, 0, 0, 0, 0, 2, 0, 0, 0, 1};
  EXPECT_EQ(r.iou_histogram, hist);
}

TEST(EvalLocalization, ConfusionAndClassificationReport) {
  LocalizationReport r = make_case().report();
  EXPECT_EQ(r.confusion[3][3], 2);
  EXPECT_EQ(r.confusion[3][5], 1);
  EXPECT_EQ(r.confusion[5][5], 1);
  EXPECT_EQ(r.confusion[5][kNoneLabel], 1);
  EXPECT_EQ(r.confusion[kNoneLabel][kNoneLabel], 2);
  EXPECT_EQ(r.confusion[kNoneLabel][5], 1);
  int64_t sum = 0;
  for (auto& row : r.confusion)
    for (auto v : row) sum += v;
  EXPECT_EQ(sum, 8);
  EXPECT_DOUBLE_EQ(r.per_class[3].precision, 1.0);
  EXPECT_DOUBLE_EQ(r.per_class[3].recall, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.per_class[3].f1, 0.8);
  EXPECT_DOUBLE_EQ(r.per_class[5].precision, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.per_class[5].f1, 0.4);
  EXPECT_DOUBLE_EQ(r.per_class[kNoneLabel].f1, 2.0 / 3.0);
  EXPECT_EQ(r.per_class[0].support, 0);
  EXPECT_EQ(r.per_class[0].f1, 0.0);
  EXPECT_NEAR(r.macro.precision, 2.0 / 11.0, 1e-12);
  EXPECT_NEAR(r.macro.recall, 1.0 / 6.0, 1e-12);
  EXPECT_NEAR(r.macro.f1, 28.0 / 165.0, 1e-12);
  EXPECT_NEAR(r.weighted.precision, 17.0 / 24.0, 1e-12);
  EXPECT_NEAR(r.weighted.recall, 5.0 / 8.0, 1e-12);
  EXPECT_NEAR(r.weighted.f1, 0.65, 1e-12);
  EXPECT_EQ(r.macro.support, 8);
}

TEST(EvalLocalization, JsonKeys) {
  nlohmann::json j = make_case().report().to_json();
  for (const char* key : {"accuracy", "mean_iou", "performance", "presence_accuracy", "confusion_matrix",
                          "per_class", "iou_histogram"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["confusion_matrix"].size(), 11u);
  EXPECT_EQ(j["confusion_matrix"][10][5], 1);
  EXPECT_TRUE(j["per_class"].contains("none"));
  EXPECT_TRUE(j["per_class"].contains("weighted avg"));
  EXPECT_NEAR(j["per_class"]["macro avg"]["f1"].get<double>(), 28.0 / 165.0, 1e-12);
}

TEST(EvalLocalization, BatchUsesArgmaxAndRejectsBadClasses) {
  LocalizationEvaluator ev;
  std::vector<float> logits(2, 1.0f), cls(20, 0.0f), boxes = {0, 0, 1, 1, 0, 0, 1, 1};
  cls[7] = 2.0f;       // image 0 -> class 7
  cls[10 + 1] = 0.5f;  // image 1 -> class 1
  std::vector<uint8_t> present = {1, 1};
  std::vector<int32_t> truth = {7, 2};
  ev.add_batch(2, logits.data(), cls.data(), boxes.data(), present.data(), truth.data(), boxes.data());
  LocalizationReport r = ev.report();
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(r.mean_iou, 1.0);
  EXPECT_EQ(r.confusion[2][1], 1);
  const float box[4] = {0, 0, 1, 1};
  EXPECT_THROW(ev.add(1.0f, 10, box, true, 3, box), locdet::Error);
  EXPECT_THROW(ev.add(1.0f, 3, box, true, -1, box), locdet::Error);
}

// A dataset's named classes: N = 3, label 3 = "none"; the JSON uses the names.
TEST(EvalLocalization, NamedClassesOfADataset) {
  LocalizationEvaluator ev({"cat", "dog", "owl"});
  const float a[4] = {0, 0, .5f, .5f}, z[4] = {0, 0, 0, 0};
  ev.add(2.0f, 2, a, true, 2, a);    // owl, right
  ev.add(1.0f, 0, a, true, 1, a);    // dog seen as cat
  ev.add(-1.0f, 0, z, false, 0, z);  // none, right
  const LocalizationReport r = ev.report();
  EXPECT_EQ(r.none_label(), 3);
  ASSERT_EQ(r.confusion.size(), 4u);
  EXPECT_EQ(r.confusion[2][2], 1);
  EXPECT_EQ(r.confusion[1][0], 1);
  EXPECT_EQ(r.confusion[3][3], 1);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5);
  const nlohmann::json j = r.to_json();
  EXPECT_TRUE(j["per_class"].contains("owl"));
  EXPECT_TRUE(j["per_class"].contains("none"));
  EXPECT_EQ(j["class_names"], nlohmann::json({"cat", "dog", "owl"}));
  EXPECT_FALSE(make_case().report().to_json().contains("class_names"));  // the digits' JSON is unchanged
  EXPECT_THROW(ev.add(1.0f, 3, a, true, 0, a), locdet::Error);
}

}  // namespace
}  // namespace locdet::eval
