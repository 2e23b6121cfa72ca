#include "kernels/cpu/anchor_match.h"

#include <algorithm>

#include "kernels/base/error.h"
#include "kernels/common/anchors.h"
#include "kernels/common/box.h"

namespace locdet::cpu {

template <typename T>
void generate_anchors(int grid_h, int grid_w, int num_sizes, T stride, const T* sizes, T* anchors) {
  const int64_t total = static_cast<int64_t>(grid_h) * grid_w * num_sizes;
  for (int64_t a = 0; a < total; ++a) anchor_box(a, grid_w, num_sizes, stride, sizes, anchors + 4 * a);
}

template <typename T>
void match_anchors(int64_t batch, int64_t num_anchors, const T* anchors, int64_t max_gt, const T* gt_boxes,
                   const int32_t* gt_classes, const int32_t* gt_count, T pos_iou, T neg_iou,
                   int32_t* assigned, T* targets, int32_t* target_class, int32_t* workspace) {
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t count = std::min<int64_t>(std::max<int32_t>(gt_count[b], 0), max_gt);
    const T* gts = gt_boxes + 4 * max_gt * b;
    int32_t* best_anchor = workspace + max_gt * b;
    // Each GT's best anchor (strict > keeps the lowest index on ties); -1 when no overlap.
    for (int64_t g = 0; g < count; ++g) {
      T best = T(0);
      int32_t arg = -1;
      for (int64_t a = 0; a < num_anchors; ++a) {
        T iou = box_iou(anchors + 4 * a, gts + 4 * g);
        if (iou > best) best = iou, arg = static_cast<int32_t>(a);
      }
      best_anchor[g] = arg;
    }
    for (int64_t a = 0; a < num_anchors; ++a) {
      const T* anchor = anchors + 4 * a;
      T best = T(-1);
      int32_t arg = -1;
      for (int64_t g = 0; g < count; ++g) {
        T iou = box_iou(anchor, gts + 4 * g);
        if (iou > best) best = iou, arg = static_cast<int32_t>(g);
      }
      if (count == 0) best = T(0);
      int32_t result = best >= pos_iou ? arg : (best < neg_iou ? -1 : -2);
      T forced_iou = T(-1);
      for (int64_t g = 0; g < count; ++g) {
        if (best_anchor[g] != a) continue;
        T iou = box_iou(anchor, gts + 4 * g);
        if (iou > forced_iou) forced_iou = iou, result = static_cast<int32_t>(g);
      }
      const int64_t i = b * num_anchors + a;
      assigned[i] = result;
      target_class[i] = result >= 0 ? gt_classes[b * max_gt + result] : result;
      for (int k = 0; k < 4; ++k) targets[4 * i + k] = result >= 0 ? gts[4 * result + k] : T(0);
    }
  }
}

template <typename T>
void count_positives(int64_t batch, int64_t num_anchors, const int32_t* assigned, T* num_pos) {
  for (int64_t b = 0; b < batch; ++b) {
    int64_t n = 0;
    for (int64_t a = 0; a < num_anchors; ++a) n += assigned[b * num_anchors + a] >= 0;
    num_pos[b] = static_cast<T>(n);
  }
}

namespace {
double centred_iou(const std::pair<double, double>& a, const std::pair<double, double>& b) {
  const double inter = std::min(a.first, b.first) * std::min(a.second, b.second);
  const double uni = a.first * a.second + b.first * b.second - inter;
  return uni > 0 ? inter / uni : 0.0;
}
int best_size(const std::pair<double, double>& box, const std::vector<std::pair<double, double>>& sizes) {
  int best = 0;
  double best_iou = -1;
  for (size_t c = 0; c < sizes.size(); ++c) {
    const double iou = centred_iou(box, sizes[c]);
    if (iou > best_iou) best_iou = iou, best = static_cast<int>(c);
  }
  return best;
}
}  // namespace

std::vector<std::pair<double, double>> choose_anchor_sizes(const std::vector<std::pair<double, double>>& wh,
                                                           int k, int max_iterations) {
  LOCDET_CHECK(k >= 1, "choose_anchor_sizes: k must be >= 1, got ", k);
  LOCDET_CHECK(static_cast<int64_t>(wh.size()) >= k, "choose_anchor_sizes: need at least k = ", k,
               " boxes, got ", wh.size());
  for (const auto& b : wh)
    LOCDET_CHECK(b.first > 0 && b.second > 0, "choose_anchor_sizes: box sizes must be positive, got (",
                 b.first, ", ", b.second, ")");
  std::vector<std::pair<double, double>> boxes = wh;
  auto by_area = [](const std::pair<double, double>& a, const std::pair<double, double>& b) {
    const double aa = a.first * a.second, ab = b.first * b.second;
    return aa < ab || (aa == ab && a < b);
  };
  std::sort(boxes.begin(), boxes.end(), by_area);
  const size_t n = boxes.size();
  std::vector<std::pair<double, double>> centres(k);
  for (int c = 0; c < k; ++c) centres[c] = boxes[(2 * c + 1) * n / (2 * k)];
  std::vector<int> label(n, -1);
  for (int it = 0; it < max_iterations; ++it) {
    bool changed = false;
    for (size_t i = 0; i < n; ++i) {
      const int l = best_size(boxes[i], centres);
      changed |= l != label[i];
      label[i] = l;
    }
    if (!changed) break;
    std::vector<double> sw(k, 0), sh(k, 0);
    std::vector<int64_t> cnt(k, 0);
    for (size_t i = 0; i < n; ++i)
      sw[label[i]] += boxes[i].first, sh[label[i]] += boxes[i].second, ++cnt[label[i]];
    for (int c = 0; c < k; ++c)
      if (cnt[c] > 0) centres[c] = {sw[c] / cnt[c], sh[c] / cnt[c]};
  }
  std::sort(centres.begin(), centres.end(), by_area);
  return centres;
}

double mean_best_anchor_iou(const std::vector<std::pair<double, double>>& wh,
                            const std::vector<std::pair<double, double>>& sizes) {
  if (wh.empty() || sizes.empty()) return 0.0;
  double sum = 0;
  for (const auto& b : wh) sum += centred_iou(b, sizes[best_size(b, sizes)]);
  return sum / wh.size();
}

#define LOCDET_INSTANTIATE(T)                                                                   \
  template void generate_anchors<T>(int, int, int, T, const T*, T*);                            \
  template void match_anchors<T>(int64_t, int64_t, const T*, int64_t, const T*, const int32_t*, \
                                 const int32_t*, T, T, int32_t*, T*, int32_t*, int32_t*);       \
  template void count_positives<T>(int64_t, int64_t, const int32_t*, T*);
LOCDET_INSTANTIATE(float)
LOCDET_INSTANTIATE(double)
#undef LOCDET_INSTANTIATE

}  // namespace locdet::cpu
