// The models' ops: defined like the engine's (engine/op.h), with a shape rule, CPU and CUDA
// kernels and backward rules, and listed by model_ops() so the op-table test walks them too.
// Their builders (to_cells(), iou_loss(), batched_nms(), add_scene_feed() ...) are declared in
// the headers of the files that define them.
#pragma once

#include <vector>

#include "engine/op.h"

namespace locdet::models {

namespace ops {
// models/cell_ops.cpp: per-cell heads
extern const OpDef to_cells, cells_to_nchw, decode_boxes, decode_boxes_backward, iou_loss, iou_loss_backward,
    localizer_targets;
// models/detection_ops.cpp: training targets (anchor matching) and batched NMS
extern const OpDef detection_targets, batched_nms;
// models/scene_feed.cpp: the training graph's data source (rendered scenes or a dataset's images)
extern const OpDef sample_feed, localizer_labels;
}  // namespace ops

const std::vector<const OpDef*>& model_ops();

}  // namespace locdet::models
