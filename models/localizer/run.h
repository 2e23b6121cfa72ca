// What defines a localizer training run: the shared schedule (models/run_schedule.h) plus the
// model's configuration. config.json and the checkpoint metadata hold it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "models/digits/scene.h"
#include "models/localizer/model.h"
#include "models/run_schedule.h"

namespace locdet::models {

struct LocalizerRun : RunSchedule {
  LocalizerConfig model;

  nlohmann::json to_json() const;
  static LocalizerRun from_json(const nlohmann::json& j);
  void validate() const;
};

// Sets the model's anchor (the box size the head starts from) to the median width and height of
// `boxes` ((w, h) in pixels of the model's input), e.g. TrainingData::training_box_sizes.
void fit_anchor_to_boxes(LocalizerConfig& config, const std::vector<std::pair<double, double>>& boxes);
// The same over the digit boxes of `samples` rendered training scenes (deterministic).
void fit_anchor_to_preset(LocalizerConfig& config, const data::DigitBank& bank, const data::Preset& preset,
                          int samples = 2000);

// Binned box edges (box_bins = N > 0) reach N - 1 pixels from a cell centre; a positive cell's
// edge may lie up to half the box's side + (positive_radius + 0.5) cells from it (a whole side
// at most: positive cells lie inside the box), and farther targets are clamped to the last bin.
// Throws when that clamps more than 1% of `boxes` ((w, h) in pixels of the model's input),
// naming the --box-bins that reaches them all; returns a warning when it clamps fewer, else ""
// (also for box_bins = 0).
std::string check_box_bins_reach(const LocalizerConfig& config,
                                 const std::vector<std::pair<double, double>>& boxes);

// The run a localizer checkpoint was trained with (its metadata), so a checkpoint alone rebuilds
// its model. Throws when the file is not a locdet localizer checkpoint.
LocalizerRun read_localizer_run(const std::string& checkpoint);

}  // namespace locdet::models
