#include "engine/eval/coco.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/base/error.h"

namespace locdet::eval {
namespace {

constexpr int kNumIouThresholds = 10;
constexpr int kNumRecallThresholds = 101;
constexpr int kMaxDets = 100;

// numpy.linspace(start, stop, num): y = arange(num) * ((stop - start) / (num - 1)) + start,
// last element set to stop. Built the same way so thresholds compare equal bit for bit.
std::vector<double> numpy_linspace(double start, double stop, int num) {
  std::vector<double> y(num);
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) y[i] = static_cast<double>(i) * step + start;
  y[num - 1] = stop;
  return y;
}

// Mean of the entries > -1 (pycocotools' summarize); -1 when there are none.
double mean_valid(const std::vector<double>& v) {
  double sum = 0;
  int64_t n = 0;
  for (double x : v)
    if (x > -1) sum += x, ++n;
  return n > 0 ? sum / n : -1.0;
}

}  // namespace

double coco_iou(const CocoBox& d, const CocoBox& g) {
  const double ga = g.w * g.h, da = d.w * d.h;
  const double w = std::fmin(d.w + d.x, g.w + g.x) - std::fmax(d.x, g.x);
  if (w <= 0) return 0.0;
  const double h = std::fmin(d.h + d.y, g.h + g.y) - std::fmax(d.y, g.y);
  if (h <= 0) return 0.0;
  const double i = w * h;
  const double u = da + ga - i;
  return i / u;
}

CocoEvaluator::CocoEvaluator(int num_classes) : num_classes_(num_classes) {
  LOCDET_CHECK(num_classes > 0, "CocoEvaluator needs at least one class, got ", num_classes);
}

void CocoEvaluator::add_image(int64_t image) {
  LOCDET_CHECK(image >= 0, "image index must be >= 0, got ", image);
  num_images_ = std::max(num_images_, image + 1);
}

void CocoEvaluator::add_ground_truth(int64_t image, int cls, const CocoBox& box) {
  LOCDET_CHECK(cls >= 0 && cls < num_classes_, "ground-truth class ", cls, " is outside 0..",
               num_classes_ - 1);
  add_image(image);
  gts_.push_back({image, cls, box});
}

void CocoEvaluator::add_detection(int64_t image, int cls, const CocoBox& box, double score) {
  LOCDET_CHECK(cls >= 0 && cls < num_classes_, "detection class ", cls, " is outside 0..", num_classes_ - 1);
  LOCDET_CHECK(std::isfinite(score), "detection score must be finite, got ", score);
  add_image(image);
  dts_.push_back({image, cls, box, score});
}

void CocoEvaluator::add_ground_truths_xyxy(int64_t image, int64_t n, const float* boxes,
                                           const int32_t* classes) {
  add_image(image);
  for (int64_t i = 0; i < n; ++i) {
    const float* b = boxes + 4 * i;
    add_ground_truth(image, classes[i], CocoBox::from_xyxy(b[0], b[1], b[2], b[3]));
  }
}

void CocoEvaluator::add_detections_xyxy(int64_t image, int64_t n, const float* boxes, const int32_t* classes,
                                        const float* scores) {
  add_image(image);
  for (int64_t i = 0; i < n; ++i) {
    const float* b = boxes + 4 * i;
    add_detection(image, classes[i], CocoBox::from_xyxy(b[0], b[1], b[2], b[3]), scores[i]);
  }
}

CocoReport CocoEvaluator::evaluate(double confusion_score_threshold) const {
  const int C = num_classes_;
  const int64_t N = num_images_;
  const std::vector<double> iou_thr = numpy_linspace(0.5, 0.95, kNumIouThresholds);
  const std::vector<double> rec_thr = numpy_linspace(0.0, 1.0, kNumRecallThresholds);

  // Bucket GT and detections by (class, image), keeping insertion order.
  std::vector<std::vector<int64_t>> gt_of(static_cast<size_t>(C * N)), dt_of(static_cast<size_t>(C * N));
  for (size_t i = 0; i < gts_.size(); ++i) gt_of[gts_[i].cls * N + gts_[i].image].push_back(i);
  for (size_t i = 0; i < dts_.size(); ++i) dt_of[dts_[i].cls * N + dts_[i].image].push_back(i);

  // precision[t][k][r], recall[t][k]; -1 = class without GT.
  std::vector<double> precision(static_cast<size_t>(kNumIouThresholds) * C * kNumRecallThresholds, -1.0);
  std::vector<double> recall(static_cast<size_t>(kNumIouThresholds) * C, -1.0);
  auto P = [&](int t, int k, int r) -> double& {
    return precision[(static_cast<size_t>(t) * C + k) * kNumRecallThresholds + r];
  };

  for (int k = 0; k < C; ++k) {
    // Pooled over images in index order: score and matched flag per threshold.
    std::vector<double> scores;
    std::vector<std::vector<char>> matched(kNumIouThresholds);
    int64_t num_gt = 0;
    for (int64_t img = 0; img < N; ++img) {
      const auto& g = gt_of[k * N + img];
      std::vector<int64_t> d = dt_of[k * N + img];
      num_gt += static_cast<int64_t>(g.size());
      if (d.empty()) continue;
      std::stable_sort(d.begin(), d.end(),
                       [&](int64_t a, int64_t b) { return dts_[a].score > dts_[b].score; });
      if (d.size() > static_cast<size_t>(kMaxDets)) d.resize(kMaxDets);
      std::vector<double> ious(d.size() * g.size());
      for (size_t di = 0; di < d.size(); ++di)
        for (size_t gi = 0; gi < g.size(); ++gi)
          ious[di * g.size() + gi] = coco_iou(dts_[d[di]].box, gts_[g[gi]].box);
      for (int t = 0; t < kNumIouThresholds; ++t) {
        std::vector<char> gt_taken(g.size(), 0);
        for (size_t di = 0; di < d.size(); ++di) {
          double best = std::min(iou_thr[t], 1.0 - 1e-10);
          int64_t m = -1;
          for (size_t gi = 0; gi < g.size(); ++gi) {
            if (gt_taken[gi]) continue;
            const double iou = ious[di * g.size() + gi];
            if (iou < best) continue;
            best = iou;
            m = static_cast<int64_t>(gi);
          }
          if (m >= 0) gt_taken[m] = 1;
          matched[t].push_back(m >= 0 ? 1 : 0);
        }
      }
      for (int64_t di : d) scores.push_back(dts_[di].score);
    }
    if (num_gt == 0) continue;  // stays -1: excluded from the means
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    const size_t nd = order.size();
    const double eps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
    for (int t = 0; t < kNumIouThresholds; ++t) {
      std::vector<double> rc(nd), pr(nd);
      double tp = 0, fp = 0;
      for (size_t i = 0; i < nd; ++i) {
        if (matched[t][order[i]])
          tp += 1;
        else
          fp += 1;
        rc[i] = tp / num_gt;
        pr[i] = tp / (fp + tp + eps);
      }
      recall[t * C + k] = nd > 0 ? rc[nd - 1] : 0.0;
      for (size_t i = nd; i-- > 1;)
        if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
      for (int r = 0; r < kNumRecallThresholds; ++r) {
        const size_t idx = std::lower_bound(rc.begin(), rc.end(), rec_thr[r]) - rc.begin();
        P(t, k, r) = idx < nd ? pr[idx] : 0.0;
      }
    }
  }

  CocoReport rep;
  rep.num_classes = C;
  rep.recall_thresholds = rec_thr;
  rep.map = mean_valid(precision);
  auto map_at = [&](double thr) {
    for (int t = 0; t < kNumIouThresholds; ++t) {
      if (iou_thr[t] != thr) continue;  // pycocotools selects with ==, as here
      std::vector<double> v(precision.begin() + static_cast<size_t>(t) * C * kNumRecallThresholds,
                            precision.begin() + static_cast<size_t>(t + 1) * C * kNumRecallThresholds);
      return mean_valid(v);
    }
    return -1.0;
  };
  rep.map50 = map_at(0.5);
  rep.map75 = map_at(0.75);
  rep.ar100 = mean_valid(recall);
  rep.per_class_ap.assign(C, -1.0);
  rep.per_class_ar100.assign(C, -1.0);
  rep.pr_curve50.assign(C, std::vector<double>(kNumRecallThresholds, -1.0));
  for (int k = 0; k < C; ++k) {
    std::vector<double> v, rv;
    for (int t = 0; t < kNumIouThresholds; ++t) {
      rv.push_back(recall[t * C + k]);
      for (int r = 0; r < kNumRecallThresholds; ++r) v.push_back(P(t, k, r));
    }
    rep.per_class_ap[k] = mean_valid(v);
    rep.per_class_ar100[k] = mean_valid(rv);
    for (int r = 0; r < kNumRecallThresholds; ++r) rep.pr_curve50[k][r] = P(0, k, r);
  }

  // Detection confusion matrix at IoU 0.5 (class-agnostic greedy matching, see header).
  rep.confusion_score_threshold = confusion_score_threshold;
  rep.confusion.assign(C + 1, std::vector<int64_t>(C + 1, 0));
  std::vector<std::vector<int64_t>> gt_img(N), dt_img(N);
  for (size_t i = 0; i < gts_.size(); ++i) gt_img[gts_[i].image].push_back(i);
  for (size_t i = 0; i < dts_.size(); ++i)
    if (dts_[i].score >= confusion_score_threshold) dt_img[dts_[i].image].push_back(i);
  for (int64_t img = 0; img < N; ++img) {
    auto& d = dt_img[img];
    const auto& g = gt_img[img];
    std::stable_sort(d.begin(), d.end(), [&](int64_t a, int64_t b) { return dts_[a].score > dts_[b].score; });
    std::vector<char> taken(g.size(), 0);
    for (int64_t di : d) {
      double best = 0.5;
      int64_t m = -1;
      for (size_t gi = 0; gi < g.size(); ++gi) {
        if (taken[gi]) continue;
        const double iou = coco_iou(dts_[di].box, gts_[g[gi]].box);
        if (iou > best || (m < 0 && iou >= best)) best = iou, m = static_cast<int64_t>(gi);
      }
      if (m >= 0) {
        taken[m] = 1;
        ++rep.confusion[gts_[g[m]].cls][dts_[di].cls];
      } else {
        ++rep.confusion[C][dts_[di].cls];
      }
    }
    for (size_t gi = 0; gi < g.size(); ++gi)
      if (!taken[gi]) ++rep.confusion[gts_[g[gi]].cls][C];
  }
  return rep;
}

nlohmann::json CocoReport::to_json() const {
  nlohmann::json j;
  j["map"] = map;
  j["map50"] = map50;
  j["map75"] = map75;
  j["ar100"] = ar100;
  j["per_class_ap"] = per_class_ap;
  j["per_class_ar100"] = per_class_ar100;
  j["recall_thresholds"] = recall_thresholds;
  j["pr_curve50"] = pr_curve50;
  j["confusion_matrix"] = confusion;
  j["confusion_score_threshold"] = confusion_score_threshold;
  j["area_range"] = "all";
  j["max_detections"] = kMaxDets;
  return j;
}

}  // namespace locdet::eval
