// What defines a detector training run: the shared schedule (models/run_schedule.h) plus the
// model's configuration (backbone, anchors chosen from the preset, losses, matching, NMS).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "models/detector/model.h"
#include "models/digits/scene.h"
#include "models/run_schedule.h"

namespace locdet::models {

struct DetectorRun : RunSchedule {
  DetectorRun() { batch = 32; }

  DetectorConfig model;

  nlohmann::json to_json() const;
  static DetectorRun from_json(const nlohmann::json& j);
  void validate() const;
};

// Anchor sizes for `boxes` ((w, h) in pixels, e.g. TrainingData::training_box_sizes): k-means
// with distance 1 - IoU of centre-aligned boxes (cpu::choose_anchor_sizes), sorted by area and
// rounded to 1/100 pixel. *mean_iou (optional) = mean best centre-aligned IoU of a box with its
// closest size.
std::vector<std::pair<float, float>> choose_anchors_for_boxes(
    const std::vector<std::pair<double, double>>& boxes, int k, double* mean_iou = nullptr);
// Anchor sizes for a preset: the (w, h) of every digit box in the first `scenes` training
// scenes (data seed 0, fixed sample indices: deterministic) clustered by k-means with
// distance 1 - IoU of centre-aligned boxes (cpu::choose_anchor_sizes), sorted by area and
// rounded to 1/100 pixel. *mean_iou (optional) = mean best centre-aligned IoU of a box with
// its closest size.
std::vector<std::pair<float, float>> choose_detector_anchors(const data::DigitBank& bank,
                                                             const data::Preset& preset, int k,
                                                             int scenes = 2000, double* mean_iou = nullptr);

// The run a detector checkpoint was trained with. Throws when it is not a detector checkpoint.
DetectorRun read_detector_run(const std::string& checkpoint);

}  // namespace locdet::models
