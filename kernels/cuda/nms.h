// CUDA twin of kernels/cpu/nms.h: same semantics, identical keep lists (float only).
//   1. keys: one uint64 per (box, class) = ordered score bits << 32 | (0xFFFFFFFF - j), 0 below
//      the threshold, so a descending sort gives score desc / index asc without relying on sort
//      stability (cub::DeviceSegmentedRadixSort, one segment per image);
//   2. gather the first pre_nms_topk candidates per image;
//   3. bitmask kernel: blocks of 64 candidates, one thread per row box computing a 64-bit
//      "suppresses" mask against one column block (same class, IoU > threshold, later index);
//   4. one warp per image walks the candidates in order, keeping those not yet removed and
//      OR-ing their mask rows, until max_det are kept.
// No allocation and no host sync: the caller passes nms_workspace_bytes(...) of device memory.
// Limits: batch * num_boxes * num_classes < 2^31 and pre_nms_topk <= 65536 (checked).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/common/op_params.h"

namespace locdet::cuda {

size_t nms_workspace_bytes(int64_t batch, int64_t num_boxes, int num_classes, const NmsParams& params);

void batched_nms(int64_t batch, int64_t num_boxes, int num_classes, const float* boxes, const float* scores,
                 const NmsParams& params, float* out_boxes, float* out_scores, int32_t* out_classes,
                 int32_t* out_count, void* workspace, size_t workspace_bytes, cudaStream_t stream);

}  // namespace locdet::cuda
