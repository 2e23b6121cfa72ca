// The localizer: one image in; "is there a digit, which one, and where" out.
//
// Backbone (models/backbone.h) -> stride-4 feature map F [N, C, H/4, W/4], then
//   presence:  global average pool(F) -> linear -> p_c logit            [N, 1]
//   per cell:  conv3x3-BN-ReLU (head_convs of them) -> conv1x1 -> 1 + C + 4 channels (C classes: the 10
//   digits, or a dataset's categories):
//     location logit (softmax over cells: "the object's centre is here")  [N, cells]
//     class logits                                                       [N, cells, C]
//       (class_head "global": plus image-level logits from the whole digit's view:
//        maxpool 2 -> conv3x3-BN-ReLU (2x channels) -> global average pool -> linear,
//        added to every cell's logits)
//     box: decode_box around the cell centre (centre within 1.5 cells,
//          size = anchor * exp(t)), normalized xyxy                       [N, cells, 4]
//          (box_bins > 0: 4 x box_bins channels instead of 4, each edge's distance from the
//          cell centre the expectation of a softmax over 1-pixel bins)
// Prediction = the box and class of the most likely cell, p_c = sigmoid(presence logit).
//
// Loss, as the first seed defines it (presence always; class and box only where a digit is):
//   w_p * BCE(p_c) + w_loc * CE(location, centre cell) + w_cls * CE(class, positive cells)
//   + w_box * box loss(positive cells), box loss = 1 - IoU/GIoU/DIoU/CIoU or MSE of xyxy
//   (box_bins > 0: + w_dfl * distribution focal loss of the four edges, their mean, positive cells).
// Positive cells and the normalization come from models/cell_ops localizer_targets.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "models/backbone.h"

namespace locdet::models {

struct LocalizerConfig {
  BackboneConfig backbone;
  int height = 48, width = 60;    // input size
  std::string box_loss = "giou";  // mse | iou | giou | diou | ciou
  // Class and box weighted up against presence and location (learnt first and easily): 6 and 8
  // instead of 1 and 2 read more digits right at the same training cost (docs/ARCHITECTURE.md
  // "Loss weights").
  float presence_weight = 1.0f, location_weight = 1.0f, class_weight = 6.0f, box_weight = 8.0f;
  int positive_radius = 1;
  int head_convs = 1;               // conv3x3-BN-ReLU layers of the per-cell head
  std::string class_head = "cell";  // cell | global: "global" adds image-level class logits
                                    // (a stride-8 conv over the features, pooled) to every cell's
  float label_smoothing = 0.0f;     // of the class loss
  // 0: the box is decode_box around the cell (offset and log-size). > 0: each of the box's four
  // edges is a distribution over this many 1-pixel bins of distance from the cell centre
  // (generalized focal loss; docs/ARCHITECTURE.md "Box edges as distributions"), its expectation
  // the edge, trained by the box loss plus dfl_weight x the distribution focal loss.
  int box_bins = 0;
  float dfl_weight = 1.5f;
  float anchor_w = 0.3f, anchor_h = 0.4f;  // typical box size, normalized (from the training boxes)
  // Class index -> name: the ten digits for the presets (configs without "classes" are digit
  // localizers), a dataset's categories otherwise.
  std::vector<std::string> class_names = default_class_names();

  int num_classes() const { return static_cast<int>(class_names.size()); }
  static std::vector<std::string> default_class_names();  // "0" .. "9"
  nlohmann::json to_json() const;
  static LocalizerConfig from_json(const nlohmann::json& j);  // throws on unknown/invalid values
  void validate() const;
};

struct Localizer {
  int grid_h = 0, grid_w = 0;
  Value presence_logit;   // [N, 1]
  Value location_logits;  // [N, cells]
  Value class_logits;     // [N, cells, C]
  Value boxes;            // [N, cells, 4] normalized xyxy
  // With labels: the total loss and its parts ([1] each).
  Value loss, presence_loss, location_loss, class_loss, box_loss;
  Value dfl_loss;  // box_bins > 0 only
};

// images [N, 1, H, W]; labels [N, 6] = [p_c, cx, cy, w, h, class] (normalized), or
// Value{} for an inference graph. Marks the predictions (and losses) as outputs.
Localizer build_localizer(Graph& g, const LocalizerConfig& config, Value images, Value labels);

struct LocalizerPrediction {
  float presence_logit = 0.0f;
  float presence = 0.0f;        // sigmoid(p_c logit)
  int digit = 0;                // argmax class (index into class_names) at the chosen cell
  float confidence = 0.0f;      // softmax probability of that class
  float box[4] = {0, 0, 0, 0};  // normalized xyxy

  bool present() const { return presence > 0.5f; }
  // How sure the model is that this digit is there: presence x class confidence (what
  // predict's JSON and every overlay show as the score).
  float score() const { return presence * confidence; }
};

// Host-side decoding of one batch of outputs (as read from the executor).
std::vector<LocalizerPrediction> decode_localizer(int batch, int cells, int classes,
                                                  const std::vector<float>& presence_logit,
                                                  const std::vector<float>& location_logits,
                                                  const std::vector<float>& class_logits,
                                                  const std::vector<float>& boxes);

}  // namespace locdet::models
