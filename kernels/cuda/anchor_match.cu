#include "kernels/common/anchors.h"
#include "kernels/common/box.h"
#include "kernels/cuda/anchor_match.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"

namespace locdet::cuda {
namespace {

__global__ void generate_anchors_kernel(int64_t total, int grid_w, int num_sizes, float stride,
                                        const float* sizes, float* anchors) {
  int64_t a = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (a < total) anchor_box(a, grid_w, num_sizes, stride, sizes, anchors + 4 * a);
}

__device__ int64_t valid_gt_count(const int32_t* gt_count, int64_t b, int64_t max_gt) {
  int64_t c = gt_count[b] < 0 ? 0 : gt_count[b];
  return c < max_gt ? c : max_gt;
}

// One block per (image, GT slot): argmax over anchors of IoU (> 0), lowest index on ties.
__global__ void best_anchor_kernel(int64_t num_anchors, const float* anchors, int64_t max_gt,
                                   const float* gt_boxes, const int32_t* gt_count, int32_t* best_anchor) {
  const int64_t b = blockIdx.y, g = blockIdx.x;
  // Most GT slots of a label row (kLabelMaxBoxes) are empty: such a block leaves at once (the
  // condition is the same for the whole block, so no thread misses a barrier).
  if (g >= valid_gt_count(gt_count, b, max_gt)) {
    if (threadIdx.x == 0) best_anchor[b * max_gt + g] = -1;
    return;
  }
  __shared__ float s_iou[kThreadsPerBlock];
  __shared__ int32_t s_arg[kThreadsPerBlock];
  float best = 0.0f;
  int32_t arg = -1;
  {
    const float* gt = gt_boxes + 4 * (b * max_gt + g);
    for (int64_t a = threadIdx.x; a < num_anchors; a += blockDim.x) {
      float iou = box_iou(anchors + 4 * a, gt);
      if (iou > best) best = iou, arg = static_cast<int32_t>(a);  // each thread visits ascending a
    }
  }
  s_iou[threadIdx.x] = best;
  s_arg[threadIdx.x] = arg;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      float o = s_iou[threadIdx.x + s];
      int32_t oa = s_arg[threadIdx.x + s];
      float m = s_iou[threadIdx.x];
      int32_t ma = s_arg[threadIdx.x];
      if (oa >= 0 && (o > m || (o == m && (ma < 0 || oa < ma)))) {
        s_iou[threadIdx.x] = o;
        s_arg[threadIdx.x] = oa;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) best_anchor[b * max_gt + g] = s_arg[0];
}

__global__ void assign_kernel(int64_t batch, int64_t num_anchors, const float* anchors, int64_t max_gt,
                              const float* gt_boxes, const int32_t* gt_classes, const int32_t* gt_count,
                              float pos_iou, float neg_iou, const int32_t* best_anchor, int32_t* assigned,
                              float* targets, int32_t* target_class) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= batch * num_anchors) return;
  const int64_t b = i / num_anchors, a = i % num_anchors;
  const int64_t count = valid_gt_count(gt_count, b, max_gt);
  const float* gts = gt_boxes + 4 * max_gt * b;
  const float* anchor = anchors + 4 * a;
  float best = -1.0f;
  int32_t arg = -1;
  for (int64_t g = 0; g < count; ++g) {
    float iou = box_iou(anchor, gts + 4 * g);
    if (iou > best) best = iou, arg = static_cast<int32_t>(g);
  }
  if (count == 0) best = 0.0f;
  int32_t result = best >= pos_iou ? arg : (best < neg_iou ? -1 : -2);
  float forced_iou = -1.0f;
  for (int64_t g = 0; g < count; ++g) {
    if (best_anchor[b * max_gt + g] != a) continue;
    float iou = box_iou(anchor, gts + 4 * g);
    if (iou > forced_iou) forced_iou = iou, result = static_cast<int32_t>(g);
  }
  assigned[i] = result;
  target_class[i] = result >= 0 ? gt_classes[b * max_gt + result] : result;
  for (int k = 0; k < 4; ++k) targets[4 * i + k] = result >= 0 ? gts[4 * result + k] : 0.0f;
}

__global__ void count_positives_kernel(int64_t num_anchors, const int32_t* assigned, float* num_pos) {
  __shared__ int s_count[kThreadsPerBlock];
  const int64_t b = blockIdx.x;
  int n = 0;
  for (int64_t a = threadIdx.x; a < num_anchors; a += blockDim.x) n += assigned[b * num_anchors + a] >= 0;
  s_count[threadIdx.x] = n;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) s_count[threadIdx.x] += s_count[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) num_pos[b] = static_cast<float>(s_count[0]);
}

}  // namespace

void generate_anchors(int grid_h, int grid_w, int num_sizes, float stride, const float* sizes, float* anchors,
                      cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(grid_h) * grid_w * num_sizes;
  if (total <= 0) return;
  LOCDET_LAUNCH(generate_anchors_kernel,
                static_cast<unsigned>((total + kThreadsPerBlock - 1) / kThreadsPerBlock), kThreadsPerBlock, 0,
                stream, total, grid_w, num_sizes, stride, sizes, anchors);
  CUDA_CHECK_LAUNCH();
}

void match_anchors(int64_t batch, int64_t num_anchors, const float* anchors, int64_t max_gt,
                   const float* gt_boxes, const int32_t* gt_classes, const int32_t* gt_count, float pos_iou,
                   float neg_iou, int32_t* assigned, float* targets, int32_t* target_class,
                   int32_t* workspace, cudaStream_t stream) {
  if (batch <= 0 || num_anchors <= 0) return;
  LOCDET_CHECK(batch <= 65535, "anchor matching: batch ", batch,
               " exceeds 65535 images per call (a grid y limit); split the batch");
  if (max_gt > 0) {
    LOCDET_LAUNCH(best_anchor_kernel, dim3(static_cast<unsigned>(max_gt), static_cast<unsigned>(batch)),
                  kThreadsPerBlock, 0, stream, num_anchors, anchors, max_gt, gt_boxes, gt_count, workspace);
    CUDA_CHECK_LAUNCH();
  }
  const int64_t total = batch * num_anchors;
  LOCDET_LAUNCH(assign_kernel, static_cast<unsigned>((total + kThreadsPerBlock - 1) / kThreadsPerBlock),
                kThreadsPerBlock, 0, stream, batch, num_anchors, anchors, max_gt, gt_boxes, gt_classes,
                gt_count, pos_iou, neg_iou, workspace, assigned, targets, target_class);
  CUDA_CHECK_LAUNCH();
}

void count_positives(int64_t batch, int64_t num_anchors, const int32_t* assigned, float* num_pos,
                     cudaStream_t stream) {
  if (batch <= 0) return;
  LOCDET_LAUNCH(count_positives_kernel, static_cast<unsigned>(batch), kThreadsPerBlock, 0, stream,
                num_anchors, assigned, num_pos);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
