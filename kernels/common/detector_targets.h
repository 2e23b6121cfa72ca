// Training targets of the anchor-based detector (models/detector), shared by both backends.
//
// The detector's targets op runs four steps on the device, with no host sync:
//   1. scene_label_to_gt: a raw SceneLabel row -> up to kLabelMaxBoxes ground
//      truths (xyxy pixels, class index) and their count. Digits map to class indices through
//      DetectorClassMap (inf265-det has classes {0, 1}; det10 all ten).
//   2. match_anchors (kernels/cpu|cuda/anchor_match): positive / negative / ignore per anchor.
//   3. count_positives: positives per image.
//   4. detector_anchor_targets (below): per anchor, the one-hot class target and the loss
//      weights. RetinaNet's normalization: every term is divided by the number of positive
//      anchors in the whole batch (at least 1). Each anchor recomputes that total from the
//      per-image counts (O(batch) reads), so no reduction kernel or atomics are needed and the
//      CPU and GPU give bit-identical weights.
// Classification covers positives and negatives (ignored anchors, -2, get weight 0); the box
// loss covers positives only.
#pragma once

#include <cstdint>

#include "kernels/common/hostdevice.h"
#include "kernels/common/scene.h"

namespace locdet {

constexpr int kDetectorMaxGt = kLabelMaxBoxes;

// label class value (a digit for scenes, a dataset class index) -> class index of the model, or
// -1 when the model has no such class.
struct DetectorClassMap {
  int32_t index_of_label[kMaxClasses];
};

// gt_boxes [kDetectorMaxGt, 4] (zeros past the count), gt_classes [kDetectorMaxGt] (-1 past
// the count). A label the model has no class for is dropped (never happens with the data the
// model was trained on; the evaluation ignores such labels the same way).
template <typename T>
LOCDET_HD void scene_label_to_gt(const SceneLabel& label, const DetectorClassMap& map, T* gt_boxes,
                                 int32_t* gt_classes, int32_t* gt_count) {
  int count = 0;
  const int n = label.count < 0 ? 0 : (label.count > kDetectorMaxGt ? kDetectorMaxGt : label.count);
  for (int k = 0; k < n; ++k) {
    const int value = label.cls[k];
    const int32_t cls = value >= 0 && value < kMaxClasses ? map.index_of_label[value] : -1;
    if (cls < 0) continue;
    for (int j = 0; j < 4; ++j) gt_boxes[4 * count + j] = T(label.box[k][j]);
    gt_classes[count] = cls;
    ++count;
  }
  for (int k = count; k < kDetectorMaxGt; ++k) {
    for (int j = 0; j < 4; ++j) gt_boxes[4 * k + j] = T(0);
    gt_classes[k] = -1;
  }
  *gt_count = count;
}

// One anchor i of image b: cls_target [num_classes] one-hot (all zeros unless positive),
// cls_weight and box_weight (see the header comment).
template <typename T>
LOCDET_HD void detector_anchor_targets(int batch, const T* num_pos, int32_t target_class, int num_classes,
                                       T* cls_target, T* cls_weight, T* box_weight) {
  T total = T(0);
  for (int b = 0; b < batch; ++b) total += num_pos[b];
  const T norm = T(1) / (total > T(1) ? total : T(1));
  for (int c = 0; c < num_classes; ++c) cls_target[c] = target_class == c ? T(1) : T(0);
  *cls_weight = target_class == -2 ? T(0) : norm;
  *box_weight = target_class >= 0 ? norm : T(0);
}

}  // namespace locdet
