// CUDA twin of kernels/cpu/box_loss.h (float, same arguments + stream). One thread per box,
// calling the shared math in kernels/common/box.h.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/common/box.h"

namespace locdet::cuda {

void iou_loss_forward(int64_t n, IouKind kind, const float* pred, const float* target, float* loss,
                      cudaStream_t stream);
void iou_loss_backward(int64_t n, IouKind kind, const float* pred, const float* target, const float* dloss,
                       float* dpred, cudaStream_t stream);
void box_decode_forward(int64_t batch, int64_t num_anchors, const float* raw, const float* anchors_xyxy,
                        float center_range, float* boxes, cudaStream_t stream);
void box_decode_backward(int64_t batch, int64_t num_anchors, const float* raw, const float* anchors_xyxy,
                         float center_range, const float* dboxes, float* draw, cudaStream_t stream);

}  // namespace locdet::cuda
