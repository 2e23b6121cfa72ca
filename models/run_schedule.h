// What every training run shares, whatever the task: the preset, batch, epochs, the AdamW
// warm-up/cosine schedule and the seeds. LocalizerRun and DetectorRun extend it with their
// model; config.json and the checkpoint metadata hold both parts.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "engine/data/scene.h"
#include "engine/graph.h"

namespace locdet::models {

struct RunSchedule {
  data::Preset preset;
  int batch = 64;
  int epochs = 10;
  int64_t steps_per_epoch = 0;  // 0: the train split's size / batch
  float lr = 2e-3f, min_lr_ratio = 0.02f, weight_decay = 1e-4f;
  int64_t warmup_steps = 200;
  uint64_t seed = 1;       // parameter init and the training scene stream
  uint64_t data_seed = 0;  // the fixed validation/test scenes (make_dataset's default seed)
  int64_t val_count = 0;   // 0: the whole validation split

  int64_t epoch_steps() const;
  int64_t total_steps() const { return epoch_steps() * epochs; }
  // AdamW with linear warm-up then cosine decay to lr * min_lr_ratio over the whole run.
  OptimizerConfig optimizer() const;

 protected:
  void schedule_to_json(nlohmann::json& j) const;    // adds "preset" and the schedule keys
  void schedule_from_json(const nlohmann::json& j);  // throws nlohmann exceptions on bad input
  void validate_schedule() const;                    // throws locdet::Error naming the flag
};

}  // namespace locdet::models
