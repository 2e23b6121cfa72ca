// COCO-style detection evaluation with pycocotools' COCOeval semantics (bbox, iscrowd 0).
//
// Reproduced exactly: per (image, class) detections sorted by score (stable: insertion order
// breaks ties) and cut to the 100 best; IoU as maskUtils.bbIou (xywh, double); greedy matching
// per IoU threshold in score order, each detection taking the unmatched GT of highest IoU
// >= min(t, 1 - 1e-10) (the later GT wins an exact IoU tie, as in pycocotools); IoU thresholds
// and the 101 recall thresholds built as numpy.linspace builds them; per class, detections of
// all images pooled and stably sorted by score (image order, then per-image order break ties),
// precision made monotone (the envelope), sampled with searchsorted(side='left') and 0 past the
// last recall. A class without GT gets -1 and is left out of every mean.
// Reported: mAP@[.5:.95] (stats[0]), AP50, AP75, AR@100 (stats[8]), per-class AP and AR@100,
// the interpolated PR curve per class at IoU .5 (101 points, for plotting).
// Not reproduced: area ranges other than "all" (small/medium/large) and maxDets 1/10; crowd
// and ignore flags (our data has none); the first seed's "generalized" 2x3-grid metric.
//
// Detection confusion matrix (our own definition, ultralytics-like): per image, detections
// with score >= score_threshold in score order (stable) each take the unmatched GT of any class
// with the highest IoU >= 0.5 (lowest GT index on ties); matched -> [gt class][det class],
// unmatched detection -> [background][det class], unmatched GT -> [gt class][background].
// Rows = truth, columns = prediction, index num_classes = background.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace locdet::eval {

struct CocoBox {
  double x = 0, y = 0, w = 0, h = 0;  // top-left corner, width, height (COCO's bbox)
  static CocoBox from_xyxy(double x1, double y1, double x2, double y2) { return {x1, y1, x2 - x1, y2 - y1}; }
};

// maskUtils.bbIou for one pair (iscrowd 0): 0 unless both overlaps are > 0.
double coco_iou(const CocoBox& dt, const CocoBox& gt);

struct CocoReport {
  int num_classes = 0;
  double map = -1, map50 = -1, map75 = -1, ar100 = -1;
  std::vector<double> per_class_ap, per_class_ar100;  // -1 where the class has no GT
  std::vector<double> recall_thresholds;              // 101 points 0, .01, ..., 1
  std::vector<std::vector<double>> pr_curve50;        // [class][101]; -1 where no GT
  std::vector<std::vector<int64_t>> confusion;        // [truth][pred], (C+1) x (C+1)
  double confusion_score_threshold = 0;

  // Keys: map, map50, map75, ar100, per_class_ap, per_class_ar100, pr_curve50,
  // recall_thresholds, confusion_matrix, confusion_score_threshold.
  nlohmann::json to_json() const;
};

class CocoEvaluator {
 public:
  explicit CocoEvaluator(int num_classes);

  // Images are indices 0..N-1; an image counts once anything is added for it or add_image
  // names it (an image with neither GT nor detections changes no COCO number).
  void add_image(int64_t image);
  void add_ground_truth(int64_t image, int cls, const CocoBox& box);
  void add_detection(int64_t image, int cls, const CocoBox& box, double score);
  // Convenience for model outputs: n boxes xyxy [n,4] (pixels or normalized, as long as GT
  // uses the same unit), classes [n], scores [n].
  void add_ground_truths_xyxy(int64_t image, int64_t n, const float* boxes, const int32_t* classes);
  void add_detections_xyxy(int64_t image, int64_t n, const float* boxes, const int32_t* classes,
                           const float* scores);

  CocoReport evaluate(double confusion_score_threshold = 0.25) const;
  int num_classes() const { return num_classes_; }

 private:
  struct Gt {
    int64_t image;
    int cls;
    CocoBox box;
  };
  struct Dt {
    int64_t image;
    int cls;
    CocoBox box;
    double score;
  };
  int num_classes_;
  int64_t num_images_ = 0;
  std::vector<Gt> gts_;
  std::vector<Dt> dts_;
};

}  // namespace locdet::eval
