#include "models/localizer/run.h"

#include <algorithm>
#include <vector>

#include "kernels/base/error.h"

namespace locdet::models {

nlohmann::json LocalizerRun::to_json() const {
  return to_json_as("localize", model.to_json());
}

LocalizerRun LocalizerRun::from_json(const nlohmann::json& j) {
  return from_json_as<LocalizerRun>(j, "localize");
}

void LocalizerRun::validate() const {
  model.validate();
  LOCDET_CHECK(preset.task == "localization", "preset '", preset.name, "' is a ", preset.task,
               " preset; the localizer trains on localization presets (inf265-loc, ayulockin-loc)");
  LOCDET_CHECK(preset.height == model.height && preset.width == model.width, "preset '", preset.name, "' is ",
               preset.height, "x", preset.width, " but the model expects ", model.height, "x", model.width);
  validate_schedule();
}

void fit_anchor_to_preset(LocalizerConfig& config, const data::DigitBank& bank, const data::Preset& preset,
                          int samples) {
  data::SceneSource source(bank, preset, data::Split::kTrain);
  data::SceneBatch scenes;
  data::render_scenes_cpu(preset, data::Split::kTrain, /*seed=*/0, source, 0, samples, &scenes,
                          data::SceneMode::kEndless);
  std::vector<float> widths, heights;
  for (const SceneLabel& label : scenes.labels) {
    for (int k = 0; k < label.count; ++k) {
      widths.push_back((label.box[k][2] - label.box[k][0]) / preset.width);
      heights.push_back((label.box[k][3] - label.box[k][1]) / preset.height);
    }
  }
  LOCDET_CHECK(!widths.empty(), "preset '", preset.name, "' rendered no digits in ", samples, " scenes");
  auto median = [](std::vector<float>& v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  config.anchor_w = median(widths);
  config.anchor_h = median(heights);
}

LocalizerRun read_localizer_run(const std::string& checkpoint) {
  return LocalizerRun::from_json(
      read_checkpoint_run(checkpoint, "localize", "a localizer (train_gpu --task localize)"));
}

}  // namespace locdet::models
