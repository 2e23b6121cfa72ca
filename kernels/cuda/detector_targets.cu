// One thread per image (labels -> GT) and one thread per anchor (targets and weights).
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/detector_targets.h"
#include "kernels/cuda/launch.cuh"

namespace locdet::cuda {

namespace {
__global__ void scene_labels_to_gt_kernel(int batch, const SceneLabel* labels, DetectorClassMap map,
                                          float* gt_boxes, int32_t* gt_classes, int32_t* gt_count) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= batch) return;
  scene_label_to_gt(labels[b], map, gt_boxes + b * kDetectorMaxGt * 4, gt_classes + b * kDetectorMaxGt,
                    gt_count + b);
}

__global__ void detector_anchor_targets_kernel(int batch, int64_t num_anchors, int num_classes,
                                               const int32_t* target_class, const float* num_pos,
                                               float* cls_target, float* cls_weight, float* box_weight) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= batch * num_anchors) return;
  ::locdet::detector_anchor_targets(batch, num_pos, target_class[i], num_classes,
                                    cls_target + i * num_classes, cls_weight + i, box_weight + i);
}
}  // namespace

void scene_labels_to_gt(int batch, const SceneLabel* labels, const DetectorClassMap& map, float* gt_boxes,
                        int32_t* gt_classes, int32_t* gt_count, cudaStream_t stream) {
  LOCDET_LAUNCH(scene_labels_to_gt_kernel, (batch + 127) / 128, 128, 0, stream, batch, labels, map, gt_boxes,
                gt_classes, gt_count);
  CUDA_CHECK_LAUNCH();
}

void detector_anchor_targets(int batch, int64_t num_anchors, int num_classes, const int32_t* target_class,
                             const float* num_pos, float* cls_target, float* cls_weight, float* box_weight,
                             cudaStream_t stream) {
  const int64_t total = batch * num_anchors;
  LOCDET_LAUNCH(detector_anchor_targets_kernel, blocks_for(total), kThreadsPerBlock, 0, stream, batch,
                num_anchors, num_classes, target_class, num_pos, cls_target, cls_weight, box_weight);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
