// Localization metrics (the first seed's definitions), accumulated image by image.
//
// Per image the model gives a presence logit p, N class logits (or a predicted class) and one
// box; the truth is (present?, class, box). N = 10 digits by default; a dataset's named classes
// otherwise (classes 0..N-1, label N = "none"). Boxes are normalized xyxy in [0,1] (convert a
// cxcywh prediction with cxcywh_to_xyxy from kernels/common/box.h first).
//   accuracy     over images that contain a digit: correct when sigmoid(p) > 0.5 (p > 0) and
//                the predicted class is right
//   mean_iou     over the same images: IoU(pred box, truth box) when presence was predicted
//                (whatever the class), 0 when the digit was missed
//   performance  (accuracy + mean_iou) / 2
//   presence_accuracy  over all images: (p > 0) == present
//   confusion    (N+1)x(N+1), label N = "none"; rows = truth, cols = prediction; the predicted
//                label is argmax(class logits) when p > 0, else N
//   per_class    precision/recall/F1/support for the N+1 labels plus macro and weighted
//                averages, as sklearn.metrics.classification_report(labels=range(N+1),
//                zero_division=0) computes them from that confusion matrix
//   iou_histogram  10 equal bins over [0,1] of the IoUs that enter mean_iou (1.0 in the last)
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace locdet::eval {

// The digit presets' labels: classes "0".."9", label 10 = "none".
constexpr int kNumDigits = 10;
constexpr int kNoneLabel = 10;
constexpr int kNumLocLabels = 11;
std::vector<std::string> digit_class_names();  // "0" .. "9"

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

struct LocalizationReport {
  std::vector<std::string> class_names;  // N; label N is "none"
  int64_t images = 0, images_with_digit = 0;
  double accuracy = 0, mean_iou = 0, performance = 0, presence_accuracy = 0;
  std::vector<std::vector<int64_t>> confusion;  // [truth][pred], (N+1) x (N+1)
  std::vector<ClassScores> per_class;           // N+1
  ClassScores macro, weighted;                  // support = total images
  std::array<int64_t, 10> iou_histogram{};

  int none_label() const { return static_cast<int>(class_names.size()); }
  // Keys: accuracy, mean_iou, performance, presence_accuracy, confusion_matrix, per_class
  // (the class names, "none", "macro avg", "weighted avg"), iou_histogram, images,
  // images_with_digit; and class_names when they are not the ten digits.
  nlohmann::json to_json() const;
};

class LocalizationEvaluator {
 public:
  explicit LocalizationEvaluator(std::vector<std::string> class_names = digit_class_names());

  // One image. pred_box/truth_box: normalized xyxy; truth_class/truth_box ignored when absent.
  void add(float presence_logit, int predicted_class, const float* pred_box, bool truth_present,
           int truth_class, const float* truth_box);
  // A batch of n images: class_logits [n,N] (argmax, lowest index on ties), boxes [n,4] xyxy,
  // truth_present [n] (0/1), truth_class [n], truth_boxes [n,4].
  void add_batch(int64_t n, const float* presence_logits, const float* class_logits, const float* pred_boxes,
                 const uint8_t* truth_present, const int32_t* truth_class, const float* truth_boxes);

  LocalizationReport report() const;
  void reset() { *this = LocalizationEvaluator(class_names_); }

 private:
  std::vector<std::string> class_names_;
  int64_t images_ = 0, with_digit_ = 0, correct_ = 0, presence_correct_ = 0;
  double iou_sum_ = 0;
  std::vector<std::vector<int64_t>> confusion_;
  std::array<int64_t, 10> hist_{};
};

// sklearn-style per-class scores and macro/weighted averages from an n x n confusion matrix
// (rows truth, cols prediction); shared with the detection report.
void classification_scores(const std::vector<std::vector<int64_t>>& confusion,
                           std::vector<ClassScores>& per_class, ClassScores& macro, ClassScores& weighted);

}  // namespace locdet::eval
