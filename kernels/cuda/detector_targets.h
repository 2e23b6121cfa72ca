// Detector training targets, CUDA twin of kernels/cpu/detector_targets.h (bit-identical:
// copies, comparisons and one sum in the same order as the CPU loop).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/common/detector_targets.h"

namespace locdet::cuda {

void scene_labels_to_gt(int batch, const SceneLabel* labels, const DetectorClassMap& map, float* gt_boxes,
                        int32_t* gt_classes, int32_t* gt_count, cudaStream_t stream);

void detector_anchor_targets(int batch, int64_t num_anchors, int num_classes, const int32_t* target_class,
                             const float* num_pos, float* cls_target, float* cls_weight, float* box_weight,
                             cudaStream_t stream);

}  // namespace locdet::cuda
