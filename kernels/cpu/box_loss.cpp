#include "kernels/cpu/box_loss.h"

namespace locdet::cpu {

template <typename T>
void iou_loss_forward(int64_t n, IouKind kind, const T* pred, const T* target, T* loss) {
#pragma omp parallel for if (n > 4096)
  for (int64_t i = 0; i < n; ++i) loss[i] = iou_loss_value(kind, pred + 4 * i, target + 4 * i);
}

template <typename T>
void iou_loss_backward(int64_t n, IouKind kind, const T* pred, const T* target, const T* dloss, T* dpred) {
#pragma omp parallel for if (n > 4096)
  for (int64_t i = 0; i < n; ++i) {
    T g[4];
    iou_loss_grad(kind, pred + 4 * i, target + 4 * i, g);
    for (int k = 0; k < 4; ++k) dpred[4 * i + k] = dloss[i] * g[k];
  }
}

template <typename T>
void box_decode_forward(int64_t batch, int64_t num_anchors, const T* raw, const T* anchors_xyxy,
                        T center_range, T* boxes) {
  const int64_t total = batch * num_anchors;
#pragma omp parallel for if (total > 4096)
  for (int64_t i = 0; i < total; ++i) {
    T anchor[4];
    xyxy_to_cxcywh(anchors_xyxy + 4 * (i % num_anchors), anchor);
    decode_box(raw + 4 * i, anchor, center_range, boxes + 4 * i);
  }
}

template <typename T>
void box_decode_backward(int64_t batch, int64_t num_anchors, const T* raw, const T* anchors_xyxy,
                         T center_range, const T* dboxes, T* draw) {
  const int64_t total = batch * num_anchors;
#pragma omp parallel for if (total > 4096)
  for (int64_t i = 0; i < total; ++i) {
    T anchor[4];
    xyxy_to_cxcywh(anchors_xyxy + 4 * (i % num_anchors), anchor);
    decode_box_grad(raw + 4 * i, anchor, center_range, dboxes + 4 * i, draw + 4 * i);
  }
}

#define LOCDET_INSTANTIATE(T)                                                             \
  template void iou_loss_forward<T>(int64_t, IouKind, const T*, const T*, T*);            \
  template void iou_loss_backward<T>(int64_t, IouKind, const T*, const T*, const T*, T*); \
  template void box_decode_forward<T>(int64_t, int64_t, const T*, const T*, T, T*);       \
  template void box_decode_backward<T>(int64_t, int64_t, const T*, const T*, T, const T*, T*);
LOCDET_INSTANTIATE(float)
LOCDET_INSTANTIATE(double)
#undef LOCDET_INSTANTIATE

}  // namespace locdet::cpu
