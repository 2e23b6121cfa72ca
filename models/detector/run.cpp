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
  LOCDET_CHECK(preset.task == "detection", "preset '", preset.name, "' is a ", preset.task,
               " preset; the detector trains on detection presets (det10, inf265-det)");
  LOCDET_CHECK(preset.height == model.height && preset.width == model.width, "preset '", preset.name, "' is ",
               preset.height, "x", preset.width, " but the model expects ", model.height, "x", model.width);
  for (int digit : preset.classes)
    LOCDET_CHECK(std::find(model.classes.begin(), model.classes.end(), digit) != model.classes.end(),
                 "preset '", preset.name, "' has digit ", digit, " but the model has no class for it");
  validate_schedule();
}

std::vector<std::pair<float, float>> choose_detector_anchors(const data::DigitBank& bank,
                                                             const data::Preset& preset, int k, int scenes,
                                                             double* mean_iou) {
  LOCDET_CHECK(k >= 1 && k <= 16, "--anchors must be 1..16, got ", k);
  scenes = static_cast<int>(std::min<int64_t>(scenes, data::split_size(preset, data::Split::kTrain)));
  data::SceneSource source(bank, preset, data::Split::kTrain);
  data::SceneBatch batch;
  data::render_scenes_cpu(preset, data::Split::kTrain, 0, source, 0, scenes, &batch);
  std::vector<std::pair<double, double>> wh;
  for (const SceneLabel& label : batch.labels)
    for (int i = 0; i < label.count; ++i)
      wh.emplace_back(label.box[i][2] - label.box[i][0], label.box[i][3] - label.box[i][1]);
  const auto sizes = cpu::choose_anchor_sizes(wh, k);
  if (mean_iou) *mean_iou = cpu::mean_best_anchor_iou(wh, sizes);
  std::vector<std::pair<float, float>> out;
  for (const auto& [w, h] : sizes)
    out.emplace_back(static_cast<float>(std::round(w * 100) / 100),
                     static_cast<float>(std::round(h * 100) / 100));
  return out;
}

DetectorRun read_detector_run(const std::string& checkpoint) {
  return DetectorRun::from_json(
      read_checkpoint_run(checkpoint, "detect", "a detector (train_gpu --task detect)"));
}

}  // namespace locdet::models
