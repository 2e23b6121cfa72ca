// Graph ops for per-cell heads (defined in models/cell_ops.cpp, listed by model_ops()), with
// CPU and CUDA kernels and backward rules:
//   to_cells      [N,C,H,W] -> [N,H*W,C]    (per-cell rows for class logits and boxes)
//   decode_boxes  raw [N,A,4] + anchors [A,4] -> boxes [N,A,4] xyxy (kernels/common/box.h)
//   iou_loss      pred [M,4], target [M,4] -> [M], 1 - IoU/GIoU/DIoU/CIoU
//   localizer_targets  labels [N,6] -> the localizer head's targets (no gradient)
// On the CPU they run in float or, when the executor computes in double for gradient
// checks, in double.
#pragma once

#include <string>

#include "engine/graph.h"
#include "kernels/common/box.h"
#include "kernels/common/localizer_targets.h"

namespace locdet::models {

Value to_cells(Graph& g, Value x);
Value decode_boxes(Graph& g, Value raw, Value anchors_xyxy, float center_range);
Value iou_loss(Graph& g, Value pred, Value target, IouKind kind);

struct LocalizerTargets {
  Value centre_cell;   // [N] i32, -1 when no digit
  Value presence;      // [N, 1]
  Value image_weight;  // [N]
  Value cell_class;    // [N*HW] i32, -1 outside positive cells
  Value cell_weight;   // [N*HW]
  Value target_box;    // [N*HW, 4] normalized xyxy
};
LocalizerTargets localizer_targets(Graph& g, Value labels, const LocalizerGrid& grid);

// "iou" | "giou" | "diou" | "ciou"; throws on anything else.
IouKind parse_iou_kind(const std::string& name);

}  // namespace locdet::models
