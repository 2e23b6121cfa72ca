// Anchors on a feature grid, shared by both backends.
//
// A grid of grid_h x grid_w cells with `stride` pixels per cell carries num_sizes anchors per
// cell; sizes[k] = (w, h) are data (a preset's choice, see choose_anchor_sizes in
// kernels/cpu/anchor_match.h). Anchor index a = (y * grid_w + x) * num_sizes + k, i.e. the
// head's output must be laid out [B, grid_h, grid_w, num_sizes, ...] (NHWC order) before it
// meets the anchors. Centres sit at cell centres ((x + 0.5) * stride, (y + 0.5) * stride).
// Boxes are xyxy in the same unit as stride (pixels for the detector).
//
// Choosing sizes: run k-means on the training preset's GT (w, h) pairs with distance
// 1 - IoU(boxes aligned at a common centre) (YOLOv2's recipe; plain Euclidean k-means
// over-weights big boxes) and pick k so the mean best IoU of a GT with its closest anchor
// size is comfortably above the positive threshold (e.g. > 0.6 for pos_iou 0.5); more anchors
// help recall but dilute the positives.
#pragma once

#include <cstdint>

#include "kernels/common/hostdevice.h"

namespace locdet {

template <typename T>
LOCDET_HD void anchor_box(int64_t index, int grid_w, int num_sizes, T stride, const T* sizes, T* out_xyxy) {
  const int k = static_cast<int>(index % num_sizes);
  const int64_t cell = index / num_sizes;
  const T cx = (static_cast<T>(cell % grid_w) + T(0.5)) * stride;
  const T cy = (static_cast<T>(cell / grid_w) + T(0.5)) * stride;
  const T hw = sizes[2 * k] * T(0.5), hh = sizes[2 * k + 1] * T(0.5);
  out_xyxy[0] = cx - hw;
  out_xyxy[1] = cy - hh;
  out_xyxy[2] = cx + hw;
  out_xyxy[3] = cy + hh;
}

}  // namespace locdet
