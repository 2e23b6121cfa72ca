#include "models/detector/run.h"

#include <algorithm>
#include <cmath>

#include "kernels/base/error.h"
#include "kernels/cpu/anchor_match.h"

namespace locdet::models {

nlohmann::json DetectorRun::to_json() const {
  return to_json_as("detect", model.to_json());
}

DetectorRun DetectorRun::from_json(const nlohmann::json& j) {
  return from_json_as<DetectorRun>(j, "detect");
}

void DetectorRun::validate() const {
  model.validate();
  validate_data("detection", "det10, inf265-det", model.height, model.width, model.names());
  if (!on_files())
    for (int digit : preset.classes)
      LOCDET_CHECK(std::find(model.classes.begin(), model.classes.end(), digit) != model.classes.end(),
                   "preset '", preset.name, "' has digit ", digit, " but the model has no class for it");
  validate_schedule();
}

std::vector<std::pair<float, float>> choose_anchors_for_boxes(
    const std::vector<std::pair<double, double>>& boxes, int k, double* mean_iou) {
  LOCDET_CHECK(k >= 1 && k <= 16, "--anchors must be 1..16, got ", k);
  LOCDET_CHECK(!boxes.empty(), "no boxes in the training images to choose anchors from");
  const auto sizes = cpu::choose_anchor_sizes(boxes, k);
  if (mean_iou) *mean_iou = cpu::mean_best_anchor_iou(boxes, sizes);
  std::vector<std::pair<float, float>> out;
  for (const auto& [w, h] : sizes)
    out.emplace_back(static_cast<float>(std::round(w * 100) / 100),
                     static_cast<float>(std::round(h * 100) / 100));
  return out;
}

std::vector<std::pair<float, float>> choose_detector_anchors(const data::DigitBank& bank,
                                                             const data::Preset& preset, int k, int scenes,
                                                             double* mean_iou) {
  LOCDET_CHECK(k >= 1 && k <= 16, "--anchors must be 1..16, got ", k);
  return choose_anchors_for_boxes(TrainingData(bank, preset, 0).training_box_sizes(scenes), k, mean_iou);
}

DetectorRun read_detector_run(const std::string& checkpoint) {
  return DetectorRun::from_json(
      read_checkpoint_run(checkpoint, "detect", "a detector (train_gpu --task detect)"));
}

}  // namespace locdet::models
