// Batched, class-aware NMS for the detector's decoded outputs (CPU reference).
//
// Input per image b: boxes [B, N, 4] xyxy (decoded, e.g. by box_decode_forward) and scores
// [B, N, C] (probabilities). A candidate is a (box n, class c) pair with score > score_threshold
// (strict, as torchvision's RetinaNet postprocess). Per image:
//   1. candidates sorted by score descending, ties by flat index j = n * C + c ascending
//      (a total order: CPU and GPU agree exactly), cut to the first pre_nms_topk;
//   2. greedy NMS: a candidate is kept unless an earlier kept candidate of the SAME class has
//      IoU > iou_threshold with it (box_iou from kernels/common/box.h; classes never suppress
//      each other; a box may be kept for several classes);
//   3. the first max_det kept candidates are written out in that order.
// Outputs, all overwritten: out_boxes [B, max_det, 4], out_scores [B, max_det],
// out_classes [B, max_det] (-1 in unused slots; boxes and scores 0 there), out_count [B].
// Workspace: nms_workspace_bytes(...) bytes, any alignment of 8.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/common/op_params.h"

namespace locdet::cpu {

size_t nms_workspace_bytes(int64_t num_boxes, int num_classes, const NmsParams& params);

template <typename T>
void batched_nms(int64_t batch, int64_t num_boxes, int num_classes, const T* boxes, const T* scores,
                 const NmsParams& params, T* out_boxes, T* out_scores, int32_t* out_classes,
                 int32_t* out_count, void* workspace);

}  // namespace locdet::cpu
