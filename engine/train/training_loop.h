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
constexpr const char* kMetaEpoch = "locdet.epoch";  // epochs completed (validated)
constexpr const char* kMetaBest = "locdet.best_performance";
constexpr const char* kMetaBestEpoch = "locdet.best_epoch";        // the epoch that gave kMetaBest
constexpr const char* kMetaTrainSeconds = "locdet.train_seconds";  // over every session of the run

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
  // Continue from dir.last_checkpoint(), also mid-epoch. The task may plan more (or fewer)
  // epochs than the run had: it continues to task.epochs() (extending a run), with the
  // schedule the task's executor was built with.
  bool resume = false;
  // A new run starting from these weights (a checkpoint of the same model; optimizer state,
  // step counter and data stream start fresh). Ignored with `resume`.
  std::string init_from;
  int log_every = 50;  // steps between train records
  // Polled after every step: a non-empty answer ("signal 2") stops the loop after saving a
  // resumable checkpoint.
  std::function<std::string()> stop_requested;
  std::string resume_command;  // printed when stopped: how to continue
  // > 0: stop once the validation score has not improved for this many epochs (the best
  // checkpoint stays). The best epoch is checkpoint metadata, so a resumed run counts on.
  int patience = 0;
};

enum class TrainingEnd { kFinished, kStopped };  // kFinished: all epochs, or stopped early

struct TrainingResult {
  TrainingEnd end = TrainingEnd::kFinished;
  double train_seconds = 0;  // training and validation, over every session of the run
};

// Runs the remaining epochs of `task` into `dir`, writing config.json (task.run_json()) when
// the run starts or its configuration changed, metrics.jsonl and the checkpoints.
TrainingResult run_training_loop(TrainingTask& task, RunDir& dir, const TrainingLoopOptions& options);

// How far a run folder's last checkpoint got (its metadata; no tensor is read).
struct RunProgress {
  int epochs_done = 0;  // validated epochs
  int best_epoch = 0;   // the epoch of the best validation score (1-based; 0: none)
  double train_seconds = 0;
  // Whether early stopping with `patience` ended a run of `epochs` epochs here.
  bool stopped_early(int patience, int epochs) const;
};
RunProgress read_run_progress(const RunDir& dir);

}  // namespace locdet
