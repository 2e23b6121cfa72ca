// CUDA twin of kernels/cpu/anchor_match.h (float, same arguments + stream). Integer outputs
// (assigned, target_class) equal the CPU reference exactly: the IoU is the shared box_iou
// (FMA-free), and forced positives are resolved per anchor by scanning each GT's best anchor
// (computed by one block per GT into the workspace), so there are no atomics and no races.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace locdet::cuda {

void generate_anchors(int grid_h, int grid_w, int num_sizes, float stride, const float* sizes, float* anchors,
                      cudaStream_t stream);

inline int64_t match_anchors_workspace_elems(int64_t batch, int64_t max_gt) {
  return batch * max_gt;
}

void match_anchors(int64_t batch, int64_t num_anchors, const float* anchors, int64_t max_gt,
                   const float* gt_boxes, const int32_t* gt_classes, const int32_t* gt_count, float pos_iou,
                   float neg_iou, int32_t* assigned, float* targets, int32_t* target_class,
                   int32_t* workspace, cudaStream_t stream);

void count_positives(int64_t batch, int64_t num_anchors, const int32_t* assigned, float* num_pos,
                     cudaStream_t stream);

}  // namespace locdet::cuda
