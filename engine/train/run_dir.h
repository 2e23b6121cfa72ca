// A run folder, runs/NAME/: config.json, metrics.jsonl (one JSON object per logged step or
// epoch, appended and flushed line by line so a crash loses at most the line being
// written), TensorBoard event files (the same records as scalars, engine/train/tensorboard.h),
// checkpoints (atomic), eval.json, overlays/.
#pragma once

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/train/tensorboard.h"

namespace locdet {

class RunDir {
 public:
  // Opens `path` for a new run (refuses a folder that already holds a run unless
  // `resume`) or for resuming one (requires its config.json and last checkpoint). Nothing is
  // created or opened for writing until the first write (create()): a run that fails to start
  // (a bad flag, missing MNIST) leaves no folder, and a finished run looked at is unchanged;
  // that the folder could be created is checked here.
  RunDir(const std::string& path, bool resume);
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string last_checkpoint() const { return file("checkpoint.last.safetensors"); }
  std::string best_checkpoint() const { return file("checkpoint.safetensors"); }  // the model to use

  void write_json(const std::string& name, const nlohmann::json& value);  // atomic
  nlohmann::json read_json(const std::string& name) const;
  // Appends one line to metrics.jsonl and flushes it to the OS; also writes every numeric
  // field but "step" as a TensorBoard scalar KIND/FIELD (KIND = the record's "kind", e.g.
  // train/loss, val/accuracy) at the record's "step".
  void log_metrics(const nlohmann::json& record);
  // A PNG file (e.g. an overlay) as a TensorBoard image under `tag` at `step`.
  void log_image(const std::string& tag, const std::string& png_path, int64_t step);
  // The run continues from a checkpoint taken after `step` steps: TensorBoard is told to drop
  // what the earlier event files hold for later steps (logged before an interruption, then
  // computed again), so each curve stays one line. Call once, before logging anything else.
  void log_resume(int64_t step);
  // Creates the folder, overlays/, metrics.jsonl and the TensorBoard event file (done by the
  // first write; call it before writing files of your own there).
  void create();

 private:
  std::string path_;
  bool created_ = false;
  std::FILE* metrics_ = nullptr;
  std::unique_ptr<EventFileWriter> events_;
};

// One status line for a training loop: rewritten in place on a terminal, printed every
// `interval_s` seconds otherwise (logs, CI).
class ProgressLine {
 public:
  explicit ProgressLine(double interval_s = 10.0);
  // `done`/`total` steps; `text` e.g. "loss 0.123 acc 98.1% iou 0.87"; prints speed and ETA.
  void update(long done, long total, const std::string& text, double items_per_second);
  void finish();

 private:
  bool tty_;
  double interval_s_;
  double last_print_ = -1e9;
  double rate_start_ = -1;  // time and step of the first update, for the ETA
  long rate_done_ = 0;
  bool dirty_ = false;
};

}  // namespace locdet
