#include "models/digits/localization_eval.h"

#include <string>

#include "kernels/base/error.h"
#include "kernels/common/box.h"

namespace locdet::eval {

std::vector<std::string> digit_class_names() {
  std::vector<std::string> names;
  for (int d = 0; d < kNumDigits; ++d) names.push_back(std::to_string(d));
  return names;
}

LocalizationEvaluator::LocalizationEvaluator(std::vector<std::string> class_names)
    : class_names_(std::move(class_names)) {
  LOCDET_CHECK(!class_names_.empty(), "a localization evaluator needs at least one class");
  const size_t labels = class_names_.size() + 1;
  confusion_.assign(labels, std::vector<int64_t>(labels, 0));
}

void LocalizationEvaluator::add(float presence_logit, int predicted_class, const float* pred_box,
                                bool truth_present, int truth_class, const float* truth_box) {
  const int classes = static_cast<int>(class_names_.size());
  LOCDET_CHECK(predicted_class >= 0 && predicted_class < classes, "predicted class ", predicted_class,
               " is outside 0..", classes - 1);
  LOCDET_CHECK(!truth_present || (truth_class >= 0 && truth_class < classes), "truth class ", truth_class,
               " is outside 0..", classes - 1, " for an image that contains an object");
  const bool pred_present = presence_logit > 0.0f;  // sigmoid(p) > 0.5 without rounding issues
  ++images_;
  if (pred_present == truth_present) ++presence_correct_;
  const int truth_label = truth_present ? truth_class : classes;
  const int pred_label = pred_present ? predicted_class : classes;
  ++confusion_[truth_label][pred_label];
  if (!truth_present) return;
  ++with_digit_;
  if (pred_present && predicted_class == truth_class) ++correct_;
  double iou = 0.0;
  if (pred_present) {
    const double p[4] = {pred_box[0], pred_box[1], pred_box[2], pred_box[3]};
    const double t[4] = {truth_box[0], truth_box[1], truth_box[2], truth_box[3]};
    iou = box_iou(p, t);
  }
  iou_sum_ += iou;
  int bin = static_cast<int>(iou * 10.0);
  ++hist_[bin < 0 ? 0 : (bin > 9 ? 9 : bin)];
}

void LocalizationEvaluator::add_batch(int64_t n, const float* presence_logits, const float* class_logits,
                                      const float* pred_boxes, const uint8_t* truth_present,
                                      const int32_t* truth_class, const float* truth_boxes) {
  const int classes = static_cast<int>(class_names_.size());
  for (int64_t i = 0; i < n; ++i) {
    const float* logits = class_logits + classes * i;
    int best = 0;
    for (int c = 1; c < classes; ++c)
      if (logits[c] > logits[best]) best = c;
    add(presence_logits[i], best, pred_boxes + 4 * i, truth_present[i] != 0, truth_class[i],
        truth_boxes + 4 * i);
  }
}

void classification_scores(const std::vector<std::vector<int64_t>>& confusion,
                           std::vector<ClassScores>& per_class, ClassScores& macro, ClassScores& weighted) {
  const size_t n = confusion.size();
  per_class.assign(n, ClassScores{});
  macro = weighted = ClassScores{};
  int64_t total = 0;
  for (size_t c = 0; c < n; ++c) {
    int64_t tp = confusion[c][c], row = 0, col = 0;
    for (size_t k = 0; k < n; ++k) {
      row += confusion[c][k];
      col += confusion[k][c];
    }
    ClassScores& s = per_class[c];
    s.support = row;
    s.precision = col > 0 ? static_cast<double>(tp) / col : 0.0;
    s.recall = row > 0 ? static_cast<double>(tp) / row : 0.0;
    // sklearn: F1 = 2 tp / (2 tp + fp + fn), 0 when that is 0/0.
    const int64_t denom = 2 * tp + (col - tp) + (row - tp);
    s.f1 = denom > 0 ? 2.0 * tp / denom : 0.0;
    total += row;
  }
  for (const ClassScores& s : per_class) {
    macro.precision += s.precision / n;
    macro.recall += s.recall / n;
    macro.f1 += s.f1 / n;
    if (total > 0) {
      const double w = static_cast<double>(s.support) / total;
      weighted.precision += w * s.precision;
      weighted.recall += w * s.recall;
      weighted.f1 += w * s.f1;
    }
  }
  macro.support = weighted.support = total;
}

LocalizationReport LocalizationEvaluator::report() const {
  LocalizationReport r;
  r.class_names = class_names_;
  r.images = images_;
  r.images_with_digit = with_digit_;
  r.accuracy = with_digit_ > 0 ? static_cast<double>(correct_) / with_digit_ : 0.0;
  r.mean_iou = with_digit_ > 0 ? iou_sum_ / with_digit_ : 0.0;
  r.performance = 0.5 * (r.accuracy + r.mean_iou);
  r.presence_accuracy = images_ > 0 ? static_cast<double>(presence_correct_) / images_ : 0.0;
  r.confusion = confusion_;
  r.iou_histogram = hist_;
  classification_scores(confusion_, r.per_class, r.macro, r.weighted);
  return r;
}

namespace {
nlohmann::json scores_json(const ClassScores& s) {
  return {{"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}, {"support", s.support}};
}
}  // namespace

nlohmann::json LocalizationReport::to_json() const {
  nlohmann::json j;
  j["accuracy"] = accuracy;
  j["mean_iou"] = mean_iou;
  j["performance"] = performance;
  j["presence_accuracy"] = presence_accuracy;
  j["images"] = images;
  j["images_with_digit"] = images_with_digit;
  nlohmann::json cm = nlohmann::json::array();
  for (const auto& row : confusion) cm.push_back(row);
  j["confusion_matrix"] = cm;
  if (class_names != digit_class_names()) j["class_names"] = class_names;
  nlohmann::json pc = nlohmann::json::object();
  for (int c = 0; c <= none_label(); ++c)
    pc[c == none_label() ? "none" : class_names[c]] = scores_json(per_class[c]);
  pc["macro avg"] = scores_json(macro);
  pc["weighted avg"] = scores_json(weighted);
  j["per_class"] = pc;
  j["iou_histogram"] = iou_histogram;
  return j;
}

}  // namespace locdet::eval
