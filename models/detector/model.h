// The detector: every digit in the image, with class, box and score. A fully convolutional
// one-stage, anchor-based model (RetinaNet's loss on a single stride-4 level, which suits
// 48x60 scenes whose digits are 7..28 pixels tall):
//
//   backbone (models/backbone.h) -> F [N, C, H/4, W/4]
//   head: conv3x3-BN-ReLU (x head_convs) -> conv1x1 -> K * (classes + 4) channels per cell
//   to_cells -> per anchor (index (y * W + x) * K + k, kernels/common/anchors.h):
//     class logits [N, A, classes]  (a sigmoid per class; bias prior 0.01 as RetinaNet)
//     box: decode_box around the anchor (centre within center_range strides, size =
//          anchor * exp(t)), xyxy pixels                                   [N, A, 4]
//
// Why sigmoid-per-class with focal loss and no separate objectness: one score per (box,
// class) is exactly what class-aware NMS and COCO AP consume; focal loss already handles the
// ~99% negative anchors, and a separate objectness logit would only add a product of two
// probabilities to calibrate.
//
// Anchors: K sizes (w, h in pixels) per cell, chosen for a preset by k-means with IoU
// distance over the boxes of rendered training scenes (choose_detector_anchors in
// models/detector_task.h). They are stored in the config, so a checkpoint is self-contained.
//
// Training targets (detection_targets, one custom op with CPU and CUDA launches): scene
// labels -> GT boxes -> match_anchors (IoU >= pos_iou positive, < neg_iou negative, between
// ignored, each GT's best anchor forced positive) -> per-anchor one-hot class targets and
// weights 1 / (positives in the batch), all on the device.
// Loss = class_weight * sum(focal or BCE over non-ignored anchors) / positives
//      + box_weight * sum(1 - IoU/GIoU/DIoU/CIoU over positives) / positives.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph.h"
#include "kernels/common/detector_targets.h"
#include "kernels/cpu/nms.h"
#include "models/backbone.h"

namespace locdet::models {

struct DetectorConfig {
  BackboneConfig backbone;
  int height = 48, width = 60;                                // input size
  std::vector<int> classes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};  // class index -> label value (a digit,
                                                              // or a dataset's class index)
  std::vector<std::string> class_names;  // class index -> name; empty: the label values as text
  std::vector<std::pair<float, float>> anchor_sizes = {{8, 12}, {11, 16}, {15, 20}};  // (w, h) pixels
  int head_convs = 1;
  std::string class_loss = "focal";  // focal | bce
  std::string box_loss = "giou";     // iou | giou | diou | ciou
  float focal_alpha = 0.25f, focal_gamma = 2.0f;
  float class_weight = 1.0f, box_weight = 2.0f;
  float pos_iou = 0.5f, neg_iou = 0.4f;
  float center_range = 2.0f;  // how far (in strides) a box centre may move from its anchor
  float prior = 0.01f;        // initial class probability (RetinaNet's pi)
  NmsParams nms;              // inference: score threshold, IoU, top-k, max detections

  int num_classes() const { return static_cast<int>(classes.size()); }
  std::vector<std::string> names() const;  // class_names, or the label values as text
  // The names indexed by label value (overlays, predict; models/overlay.h class_label): values no
  // class has stay empty.
  std::vector<std::string> label_names() const;
  int anchors_per_cell() const { return static_cast<int>(anchor_sizes.size()); }
  DetectorClassMap class_map() const;
  nlohmann::json to_json() const;
  static DetectorConfig from_json(const nlohmann::json& j);  // throws on missing/invalid values
  void validate() const;
};

struct Detector {
  int grid_h = 0, grid_w = 0, stride = 4;
  int64_t num_anchors = 0;
  Value anchors;       // [A, 4] xyxy pixels (constant)
  Value class_logits;  // [N, A, classes]
  Value scores;        // [N, A, classes] sigmoid(class_logits)
  Value boxes;         // [N, A, 4] xyxy pixels
  // With labels: the loss and its parts ([1] each), and positives per image ([N]).
  Value loss, class_loss, box_loss, num_pos;
  // With labels, for tests and diagnostics: the matching.
  Value assigned, target_class;  // [N*A] i32
};

// images [N, 1, H, W]; scene_labels [N, kSceneLabelWords] i32 (raw SceneLabel rows, as the
// scene feed writes them) or Value{} for an inference graph. Marks outputs.
Detector build_detector(Graph& g, const DetectorConfig& config, Value images, Value scene_labels);

struct DetectionTargets {
  Value assigned;      // [N*A] i32: GT index, -1 negative, -2 ignore
  Value target_class;  // [N*A] i32: class index, -1 / -2 as assigned
  Value target_boxes;  // [N*A, 4] xyxy pixels (zeros unless positive)
  Value num_pos;       // [N] positives per image
  Value cls_target;    // [N*A, classes] one-hot
  Value cls_weight;    // [N*A] 1/positives in the batch unless ignored
  Value box_weight;    // [N*A] 1/positives in the batch for positives
};
// scene_labels [N, kSceneLabelWords] i32 + anchors [A, 4] -> the targets (no gradient).
DetectionTargets detection_targets(Graph& g, Value scene_labels, Value anchors, const DetectorConfig& config);

struct NmsOutputs {
  Value boxes;    // [N, max_det, 4]
  Value scores;   // [N, max_det]
  Value classes;  // [N, max_det] i32, -1 in unused slots
  Value count;    // [N] i32
};
// Batched class-aware NMS (kernels/cpu|cuda/nms) as a graph op, for inference graphs.
NmsOutputs batched_nms(Graph& g, Value boxes, Value scores, const NmsParams& params);

struct Detection {
  int cls = 0;    // class index
  int digit = 0;  // config.classes[cls]: the digit, or the dataset's class index
  float score = 0;
  float box[4] = {0, 0, 0, 0};  // xyxy pixels
};

// Host-side unpacking of the NMS outputs of one batch.
std::vector<std::vector<Detection>> unpack_detections(const DetectorConfig& config, int batch, int max_det,
                                                      const std::vector<float>& boxes,
                                                      const std::vector<float>& scores,
                                                      const std::vector<int32_t>& classes,
                                                      const std::vector<int32_t>& count);

}  // namespace locdet::models
