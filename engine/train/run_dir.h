// A run folder, runs/NAME/: config.json, metrics.jsonl (one JSON object per logged step or
// epoch, appended and flushed line by line so a crash loses at most the line being
// written), checkpoints (atomic), eval.json, overlays/.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace locdet {

class RunDir {
 public:
  // Opens `path` for a new run (refuses a folder that already holds a run unless
  // `resume`) or for resuming one (requires its config.json and last checkpoint). A new
  // run's folder is created only when its first file is written, so a run that fails to
  // start (a bad flag, missing MNIST) leaves nothing behind; that it could be created is
  // checked here.
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
  // Appends one line to metrics.jsonl and flushes it to the OS.
  void log_metrics(const nlohmann::json& record);
  // Creates the folder and overlays/ (done by the first write; call it before writing
  // files of your own there).
  void create();

 private:
  std::string path_;
  bool created_ = false;
  std::FILE* metrics_ = nullptr;
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
