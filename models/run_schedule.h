// What every training run shares, whatever the task: the data (a preset's rendered scenes, or a
// dataset on disk: `data`), batch, epochs, the AdamW warm-up/cosine schedule and the seeds. LocalizerRun and
// DetectorRun extend it with their model; config.json and the checkpoint metadata hold both parts.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/graph.h"
#include "kernels/base/error.h"
#include "models/digits/scene.h"
#include "models/training_data.h"

namespace locdet::models {

struct RunSchedule {
  data::Preset preset;  // the rendered scenes, unless `data` names a dataset
  DatasetSpec data;     // a dataset on disk ("data" in config.json; absent in scene runs)
  int batch = 64;
  int epochs = 10;
  int64_t steps_per_epoch = 0;  // 0: the train split's size / batch
  float lr = 2e-3f, min_lr_ratio = 0.02f, weight_decay = 1e-4f;
  float ema_decay = 0.0f;  // > 0: a weight average with this decay (OptimizerConfig::ema_decay)
  int64_t warmup_steps = 200;
  uint64_t seed = 1;       // parameter init and the training scene stream
  uint64_t data_seed = 0;  // the fixed validation/test scenes (make_dataset's default seed); a
                           // dataset's held-out validation images
  int64_t val_count = 0;   // 0: the whole validation split
  int64_t test_count = 0;  // scenes of the final test (0: the whole test split)
  std::string init_from;   // the checkpoint whose weights the run started from (--init-from)
  int patience = 0;        // > 0: stop when the validation score has not improved for this many epochs

  bool on_files() const { return !data.empty(); }
  int input_height() const { return on_files() ? data.height : preset.height; }
  int input_width() const { return on_files() ? data.width : preset.width; }
  std::string data_name() const;  // the preset's name, or "data:DIR"
  int64_t epoch_steps() const;
  int64_t total_steps() const { return epoch_steps() * epochs; }
  // AdamW with linear warm-up then cosine decay to lr * min_lr_ratio over the whole run.
  OptimizerConfig optimizer() const;

 protected:
  // A task's run as JSON: {"task", "model", "preset", the schedule keys}; and back, for a Run
  // (a RunSchedule with a `model` whose config type has from_json, and validate()). Reading
  // checks the task and turns a missing or mistyped key into one clear error.
  nlohmann::json to_json_as(const char* task, nlohmann::json model) const;
  template <class Run>
  static Run from_json_as(const nlohmann::json& j, const char* task);

  void schedule_to_json(nlohmann::json& j) const;    // adds "preset" and the schedule keys
  void schedule_from_json(const nlohmann::json& j);  // throws nlohmann exceptions on bad input
  void validate_schedule() const;                    // throws locdet::Error naming the flag
  // The data against a model of `height` x `width` with `class_names`: a dataset's input and
  // classes, or a preset of task `preset_task` (e.g. "detection"; `examples` names some) and size.
  void validate_data(const char* preset_task, const char* examples, int height, int width,
                     const std::vector<std::string>& class_names) const;
};

// The task a checkpoint was trained for ("localize" | "detect"); throws when the file is not a
// locdet checkpoint.
std::string read_checkpoint_task(const std::string& path);
// The run configuration a checkpoint carries (its metadata), so that a checkpoint alone rebuilds
// its model; throws when it was trained for another task than `task` (`command_hint` says how
// to train one).
nlohmann::json read_checkpoint_run(const std::string& path, const std::string& task,
                                   const std::string& command_hint);

template <class Run>
Run RunSchedule::from_json_as(const nlohmann::json& j, const char* task) {
  Run r;
  try {
    LOCDET_CHECK(j.at("task") == task, "the run's task is '", j.at("task").get<std::string>(), "', not '",
                 task, "'");
    r.schedule_from_json(j);
    r.model = decltype(r.model)::from_json(j.at("model"));
  } catch (const nlohmann::json::exception& e) {
    fail("the run configuration is incomplete or malformed (", e.what(), ")");
  }
  r.validate();
  return r;
}

}  // namespace locdet::models
