// The training chain both tasks share, as a TrainingTask (engine/train/training_loop.h):
//   feed (a batch of rendered scenes, or of a dataset's images augmented on the device:
//   models/training_data.h) -> the task's model and loss -> backward -> AdamW with its LR
//   schedule -> the non-finite flag -> one executor.
// LocalizerTrainer and DetectorTrainer add their model, what they log and how they validate.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/executor.h"
#include "engine/train/training_loop.h"
#include "models/digits/scene.h"
#include "models/run_schedule.h"
#include "models/scene_feed.h"
#include "models/training_data.h"

namespace locdet::models {

class SceneTrainer : public TrainingTask {
 public:
  int epochs() const override { return schedule_.epochs; }
  int batch() const override { return schedule_.batch; }
  int64_t epoch_steps() const override { return schedule_.epoch_steps(); }
  void step() override { executor_->step(); }
  int64_t steps_done() const override;
  Executor& executor() override { return *executor_; }
  const Executor& executor() const { return *executor_; }
  std::string nonfinite_what() const override;
  float read_lr() const;
  const TrainingData& data() const { return data_; }

 protected:
  SceneTrainer(const RunSchedule& schedule, TrainingData data, Device device);
  // Builds the training graph: `add_model` adds the task's model on the feed's images and
  // labels and returns its loss ([1]). Call once, from the derived constructor.
  using ModelBuilder = std::function<Value(Graph& g, const SceneFeed& feed)>;
  void build(const ModelBuilder& add_model, bool cuda_graph);
  Device device() const { return device_; }

 private:
  RunSchedule schedule_;
  TrainingData data_;
  Device device_;
  Value step_, lr_, nonfinite_;
  std::unique_ptr<Executor> executor_;
};

}  // namespace locdet::models
