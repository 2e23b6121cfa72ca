#include "kernels/cuda/box_loss.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"

namespace locdet::cuda {
namespace {

__global__ void iou_loss_forward_kernel(int64_t n, IouKind kind, const float* pred, const float* target,
                                        float* loss) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) loss[i] = iou_loss_value(kind, pred + 4 * i, target + 4 * i);
}

__global__ void iou_loss_backward_kernel(int64_t n, IouKind kind, const float* pred, const float* target,
                                         const float* dloss, float* dpred) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  float g[4];
  iou_loss_grad(kind, pred + 4 * i, target + 4 * i, g);
  for (int k = 0; k < 4; ++k) dpred[4 * i + k] = dloss[i] * g[k];
}

__global__ void box_decode_forward_kernel(int64_t total, int64_t num_anchors, const float* raw,
                                          const float* anchors_xyxy, float center_range, float* boxes) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= total) return;
  float anchor[4];
  xyxy_to_cxcywh(anchors_xyxy + 4 * (i % num_anchors), anchor);
  decode_box(raw + 4 * i, anchor, center_range, boxes + 4 * i);
}

__global__ void box_decode_backward_kernel(int64_t total, int64_t num_anchors, const float* raw,
                                           const float* anchors_xyxy, float center_range, const float* dboxes,
                                           float* draw) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= total) return;
  float anchor[4];
  xyxy_to_cxcywh(anchors_xyxy + 4 * (i % num_anchors), anchor);
  decode_box_grad(raw + 4 * i, anchor, center_range, dboxes + 4 * i, draw + 4 * i);
}

}  // namespace

void iou_loss_forward(int64_t n, IouKind kind, const float* pred, const float* target, float* loss,
                      cudaStream_t stream) {
  if (n <= 0) return;
  LOCDET_LAUNCH(iou_loss_forward_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, n, kind, pred, target,
                loss);
  CUDA_CHECK_LAUNCH();
}

void iou_loss_backward(int64_t n, IouKind kind, const float* pred, const float* target, const float* dloss,
                       float* dpred, cudaStream_t stream) {
  if (n <= 0) return;
  LOCDET_LAUNCH(iou_loss_backward_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, n, kind, pred, target,
                dloss, dpred);
  CUDA_CHECK_LAUNCH();
}

void box_decode_forward(int64_t batch, int64_t num_anchors, const float* raw, const float* anchors_xyxy,
                        float center_range, float* boxes, cudaStream_t stream) {
  int64_t total = batch * num_anchors;
  if (total <= 0) return;
  LOCDET_LAUNCH(box_decode_forward_kernel, blocks_for(total), kThreadsPerBlock, 0, stream, total, num_anchors,
                raw, anchors_xyxy, center_range, boxes);
  CUDA_CHECK_LAUNCH();
}

void box_decode_backward(int64_t batch, int64_t num_anchors, const float* raw, const float* anchors_xyxy,
                         float center_range, const float* dboxes, float* draw, cudaStream_t stream) {
  int64_t total = batch * num_anchors;
  if (total <= 0) return;
  LOCDET_LAUNCH(box_decode_backward_kernel, blocks_for(total), kThreadsPerBlock, 0, stream, total,
                num_anchors, raw, anchors_xyxy, center_range, dboxes, draw);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
