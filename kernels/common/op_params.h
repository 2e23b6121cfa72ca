// The parameter structs of the layer and post-processing kernels, shared by both backends
// (kernels/cpu and kernels/cuda take the same struct) and by the engine that fills them.
#pragma once

#include "kernels/common/hostdevice.h"

namespace locdet {

// 2-D convolution, NCHW input [n, c, h, w], filters [k, c, r, s].
struct Conv2dDims {
  int n, c, h, w;  // input
  int k, r, s;     // output channels, filter height, filter width
  int stride = 1, pad = 0;
  LOCDET_HD int out_h() const { return (h + 2 * pad - r) / stride + 1; }
  LOCDET_HD int out_w() const { return (w + 2 * pad - s) / stride + 1; }
};

// Pooling, NCHW.
struct Pool2dDims {
  int n, c, h, w;
  int kernel, stride, pad;
  LOCDET_HD int out_h() const { return (h + 2 * pad - kernel) / stride + 1; }
  LOCDET_HD int out_w() const { return (w + 2 * pad - kernel) / stride + 1; }
};

// Batch normalization per channel over (N, H, W): x viewed as [n, c, hw].
struct BatchNormDims {
  int n, c, hw;
};

// Batched class-aware NMS (semantics: kernels/cpu/nms.h).
struct NmsParams {
  float score_threshold = 0.05f;
  float iou_threshold = 0.5f;
  int pre_nms_topk = 1000;
  int max_det = 100;
};

enum class BinaryKind { kAdd, kSub, kMul };

}  // namespace locdet
