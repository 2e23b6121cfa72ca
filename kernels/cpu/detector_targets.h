// Detector training targets, CPU reference (kernels/common/detector_targets.h documents the
// steps). Outputs are overwritten; float or double (the gradient checks run in double).
#pragma once

#include <cstdint>

#include "kernels/common/detector_targets.h"

namespace locdet::cpu {

// labels [batch] raw scene labels -> gt_boxes [batch, kDetectorMaxGt, 4], gt_classes
// [batch, kDetectorMaxGt], gt_count [batch].
template <typename T>
void scene_labels_to_gt(int batch, const SceneLabel* labels, const DetectorClassMap& map, T* gt_boxes,
                        int32_t* gt_classes, int32_t* gt_count);

// target_class [batch, anchors] (from match_anchors), num_pos [batch] -> cls_target
// [batch, anchors, num_classes], cls_weight and box_weight [batch, anchors].
template <typename T>
void detector_anchor_targets(int batch, int64_t num_anchors, int num_classes, const int32_t* target_class,
                             const T* num_pos, T* cls_target, T* cls_weight, T* box_weight);

}  // namespace locdet::cpu
