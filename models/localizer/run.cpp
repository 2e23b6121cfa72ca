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
  validate_data("localization", "inf265-loc, ayulockin-loc", model.height, model.width, model.class_names);
  LOCDET_CHECK(on_files() || model.num_classes() == 10, "a localizer of preset '", preset.name,
               "' has the 10 digit classes");
  validate_schedule();
}

void fit_anchor_to_boxes(LocalizerConfig& config, const std::vector<std::pair<double, double>>& boxes) {
  LOCDET_CHECK(!boxes.empty(), "no boxes in the training images to fit the anchor to");
  std::vector<float> widths, heights;
  for (const auto& [w, h] : boxes) {
    widths.push_back(static_cast<float>(w / config.width));
    heights.push_back(static_cast<float>(h / config.height));
  }
  auto median = [](std::vector<float>& v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  config.anchor_w = median(widths);
  config.anchor_h = median(heights);
}

void fit_anchor_to_preset(LocalizerConfig& config, const data::DigitBank& bank, const data::Preset& preset,
                          int samples) {
  LocalizerConfig sized = config;
  sized.height = preset.height;
  sized.width = preset.width;
  fit_anchor_to_boxes(sized, TrainingData(bank, preset, 0).training_box_sizes(samples));
  config.anchor_w = sized.anchor_w;
  config.anchor_h = sized.anchor_h;
}

LocalizerRun read_localizer_run(const std::string& checkpoint) {
  return LocalizerRun::from_json(
      read_checkpoint_run(checkpoint, "localize", "a localizer (train_gpu --task localize)"));
}

}  // namespace locdet::models
