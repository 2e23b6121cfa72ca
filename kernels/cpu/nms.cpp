#include "kernels/cpu/nms.h"

#include <algorithm>

#include "kernels/base/error.h"
#include "kernels/common/box.h"

namespace locdet::cpu {

size_t nms_workspace_bytes(int64_t num_boxes, int num_classes, const NmsParams& params) {
  const int64_t nc = num_boxes * num_classes;
  const int64_t k = std::min<int64_t>(nc, std::max(params.pre_nms_topk, 0));
  return static_cast<size_t>(nc) * sizeof(int64_t) + static_cast<size_t>(k);
}

template <typename T>
void batched_nms(int64_t batch, int64_t num_boxes, int num_classes, const T* boxes, const T* scores,
                 const NmsParams& params, T* out_boxes, T* out_scores, int32_t* out_classes,
                 int32_t* out_count, void* workspace) {
  LOCDET_CHECK(params.max_det >= 0 && params.pre_nms_topk >= 0, "NMS: max_det and pre_nms_topk must be >= 0");
  const int64_t nc = num_boxes * num_classes;
  int64_t* cand = static_cast<int64_t*>(workspace);
  uint8_t* removed = reinterpret_cast<uint8_t*>(cand + nc);
  for (int64_t b = 0; b < batch; ++b) {
    const T* s = scores + b * nc;
    const T* bx = boxes + b * num_boxes * 4;
    int64_t n = 0;
    for (int64_t j = 0; j < nc; ++j)
      if (s[j] > static_cast<T>(params.score_threshold)) cand[n++] = j;
    std::stable_sort(cand, cand + n, [&](int64_t a, int64_t c) { return s[a] > s[c]; });  // ties: j ascending
    n = std::min<int64_t>(n, params.pre_nms_topk);
    std::fill(removed, removed + n, uint8_t{0});
    int32_t kept = 0;
    for (int64_t i = 0; i < n && kept < params.max_det; ++i) {
      if (removed[i]) continue;
      const int64_t ji = cand[i];
      const T* box_i = bx + 4 * (ji / num_classes);
      const int64_t slot = b * params.max_det + kept;
      for (int k = 0; k < 4; ++k) out_boxes[4 * slot + k] = box_i[k];
      out_scores[slot] = s[ji];
      out_classes[slot] = static_cast<int32_t>(ji % num_classes);
      ++kept;
      for (int64_t j = i + 1; j < n; ++j) {
        if (removed[j] || cand[j] % num_classes != ji % num_classes) continue;
        if (box_iou(box_i, bx + 4 * (cand[j] / num_classes)) > static_cast<T>(params.iou_threshold))
          removed[j] = 1;
      }
    }
    out_count[b] = kept;
    for (int64_t k = kept; k < params.max_det; ++k) {
      const int64_t slot = b * params.max_det + k;
      for (int c = 0; c < 4; ++c) out_boxes[4 * slot + c] = T(0);
      out_scores[slot] = T(0);
      out_classes[slot] = -1;
    }
  }
}

template void batched_nms<float>(int64_t, int64_t, int, const float*, const float*, const NmsParams&, float*,
                                 float*, int32_t*, int32_t*, void*);
template void batched_nms<double>(int64_t, int64_t, int, const double*, const double*, const NmsParams&,
                                  double*, double*, int32_t*, int32_t*, void*);

}  // namespace locdet::cpu
