#include "kernels/cpu/detector_targets.h"

namespace locdet::cpu {

template <typename T>
void scene_labels_to_gt(int batch, const SceneLabel* labels, const DetectorClassMap& map, T* gt_boxes,
                        int32_t* gt_classes, int32_t* gt_count) {
  for (int b = 0; b < batch; ++b) {
    scene_label_to_gt(labels[b], map, gt_boxes + b * kDetectorMaxGt * 4, gt_classes + b * kDetectorMaxGt,
                      gt_count + b);
  }
}

template <typename T>
void detector_anchor_targets(int batch, int64_t num_anchors, int num_classes, const int32_t* target_class,
                             const T* num_pos, T* cls_target, T* cls_weight, T* box_weight) {
  const int64_t total = batch * num_anchors;
  for (int64_t i = 0; i < total; ++i) {
    locdet::detector_anchor_targets(batch, num_pos, target_class[i], num_classes,
                                    cls_target + i * num_classes, cls_weight + i, box_weight + i);
  }
}

#define LOCDET_INSTANTIATE(T)                                                                        \
  template void scene_labels_to_gt<T>(int, const SceneLabel*, const DetectorClassMap&, T*, int32_t*, \
                                      int32_t*);                                                     \
  template void detector_anchor_targets<T>(int, int64_t, int, const int32_t*, const T*, T*, T*, T*);
LOCDET_INSTANTIATE(float)
LOCDET_INSTANTIATE(double)
#undef LOCDET_INSTANTIATE

}  // namespace locdet::cpu
