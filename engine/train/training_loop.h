// The training loop every task shares: epochs of steps with a progress line, metrics.jsonl
// and TensorBoard events, a stop on NaN/Inf, a clean stop on request (Ctrl-C) with a
// resumable checkpoint, validation after each epoch (its overlay as a TensorBoard image),
// the best and the last checkpoint, early stopping (patience). A task (models/ implements
// the localizer's and the detector's) says how to take a step, what to log and how to score.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/executor.h"
#include "engine/train/run_dir.h"

namespace locdet {

// Checkpoint metadata every training run writes: the task, the run's configuration (JSON,
// so a checkpoint alone rebuilds its model), the epochs done and the best validation score.
constexpr const char* kMetaTask = "locdet.task";
constexpr const char* kMetaRun = "locdet.run";
constexpr const char* kMetaEpoch = "locdet.epoch";
constexpr const char* kMetaBest = "locdet.best_performance";
constexpr const char* kMetaBestEpoch = "locdet.best_epoch";  // the epoch that gave kMetaBest

struct Validation {
  nlohmann::json record;  // logged as is; must hold "score" (higher is better)
  std::string summary;    // one line for the terminal
  // Optional: draws some validated scenes to a PNG at this path (the loop writes
  // overlays/val.png and logs it to TensorBoard as val/overlay).
  std::function<void(const std::string& png_path)> write_overlay;
};

class TrainingTask {
 public:
  virtual ~TrainingTask() = default;
  virtual std::string task_name() const = 0;  // the checkpoint's kMetaTask ("localize", "detect")
  virtual nlohmann::json run_json() const = 0;
  virtual int epochs() const = 0;
  virtual int batch() const = 0;
  virtual int64_t epoch_steps() const = 0;

  virtual void step() = 0;
  virtual int64_t steps_done() const = 0;  // the optimizer's step counter (a device read)
  virtual Executor& executor() = 0;
  // Losses and batch metrics of the last step (device reads); must hold "loss".
  virtual nlohmann::json train_record() const = 0;
  virtual std::string progress_text(const nlohmann::json& train_record) const = 0;
  // Scores the current weights on the validation split.
  virtual Validation validate() = 0;
  // What became NaN/Inf since the run started ("loss", "gradients"), empty while all is
  // finite: a device flag, so bad steps between two logged ones are caught too.
  virtual std::string nonfinite_what() const = 0;
};

struct TrainingLoopOptions {
  bool resume = false;  // continue from dir.last_checkpoint(), also mid-epoch
  int log_every = 50;   // steps between train records
  // Polled after every step: a non-empty answer ("signal 2") stops the loop after saving a
  // resumable checkpoint.
  std::function<std::string()> stop_requested;
  std::string resume_command;  // printed when stopped: how to continue
  // > 0: stop once the validation score has not improved for this many epochs (the best
  // checkpoint stays). The best epoch is checkpoint metadata, so a resumed run counts on.
  int patience = 0;
};

enum class TrainingEnd { kFinished, kStopped };  // kFinished: all epochs, or stopped early

// Runs the remaining epochs of `task` into `dir`.
TrainingEnd run_training_loop(TrainingTask& task, RunDir& dir, const TrainingLoopOptions& options);

}  // namespace locdet
