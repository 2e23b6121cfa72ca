#include "models/model_ops.h"

namespace locdet::models {

const std::vector<const OpDef*>& model_ops() {
  static const std::vector<const OpDef*> table = {
      &ops::to_cells,    &ops::cells_to_nchw,     &ops::decode_boxes,      &ops::decode_boxes_backward,
      &ops::iou_loss,    &ops::iou_loss_backward, &ops::localizer_targets, &ops::detection_targets,
      &ops::batched_nms, &ops::sample_feed,       &ops::localizer_labels};
  return table;
}

}  // namespace locdet::models
