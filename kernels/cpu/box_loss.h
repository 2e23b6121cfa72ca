// IoU-family box losses and the detector head's box decode (CPU reference).
// Layout: boxes are [n, 4] row-major xyxy; raw head outputs are [batch, anchors, 4] (tx, ty, tw, th);
// anchors are [anchors, 4] xyxy. Per-element math lives in kernels/common/box.h (shared with CUDA).
// loss[i] = 1 - iou-variant(pred[i], target[i]) (see box.h for the exact torchvision formulas);
// masking and normalization are the graph's job (multiply by a mask). Outputs are overwritten.
#pragma once

#include <cstdint>

#include "kernels/common/box.h"

namespace locdet::cpu {

template <typename T>
void iou_loss_forward(int64_t n, IouKind kind, const T* pred, const T* target, T* loss);

// dpred[i, :] = dloss[i] * d(loss[i])/d(pred[i, :]).
template <typename T>
void iou_loss_backward(int64_t n, IouKind kind, const T* pred, const T* target, const T* dloss, T* dpred);

// boxes[b, a, :] = decode_box(raw[b, a, :], anchor a, center_range) in xyxy (box.h documents it).
template <typename T>
void box_decode_forward(int64_t batch, int64_t num_anchors, const T* raw, const T* anchors_xyxy,
                        T center_range, T* boxes);

// draw = d(loss)/d(raw) given dboxes = d(loss)/d(boxes).
template <typename T>
void box_decode_backward(int64_t batch, int64_t num_anchors, const T* raw, const T* anchors_xyxy,
                         T center_range, const T* dboxes, T* draw);

}  // namespace locdet::cpu
