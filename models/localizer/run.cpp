#include "models/localizer/run.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "kernels/base/error.h"
#include "models/backbone.h"

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

std::string check_box_bins_reach(const LocalizerConfig& config,
                                 const std::vector<std::pair<double, double>>& boxes) {
  if (config.box_bins == 0 || boxes.empty()) return "";
  const double cell = Features{}.stride;  // every backbone's
  const double reachable = config.box_bins - 1;
  // Along one side: the centre cell's centre lies within half a cell of the box centre; the
  // other positive cells' centres lie inside the box (kernels/common/localizer_targets.h) and
  // within positive_radius cells of the centre cell.
  auto side_reach = [&](double side) {
    return std::max(0.5 * side + 0.5 * cell,
                    std::min(side, 0.5 * side + (config.positive_radius + 0.5) * cell));
  };
  double farthest = 0.0;
  size_t clamped = 0;
  for (const auto& [w, h] : boxes) {
    const double reach = std::max(side_reach(w), side_reach(h));
    farthest = std::max(farthest, reach);
    clamped += reach > reachable;
  }
  if (clamped == 0) return "";
  const int needed = static_cast<int>(std::ceil(farthest)) + 1;
  std::ostringstream message;
  message << clamped << " of " << boxes.size() << " sampled training boxes have edges up to " << farthest
          << " px from a positive cell's centre, beyond the " << reachable << " px that --box-bins "
          << config.box_bins << " reaches (those edges are clamped there): use --box-bins " << needed;
  if (needed > 256) message << " (256 at most: or a smaller --input)";
  LOCDET_CHECK(clamped * 100 <= boxes.size(), message.str());
  return message.str();
}

LocalizerRun read_localizer_run(const std::string& checkpoint) {
  return LocalizerRun::from_json(
      read_checkpoint_run(checkpoint, "localize", "a localizer (train_gpu --task localize)"));
}

}  // namespace locdet::models
