#include "models/run_schedule.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine/checkpoint.h"
#include "engine/train/training_loop.h"
#include "kernels/base/error.h"

namespace locdet::models {

std::string RunSchedule::data_name() const {
  return on_files() ? "data:" + data.dir : preset.name;
}

int64_t RunSchedule::epoch_steps() const {
  if (steps_per_epoch > 0) return steps_per_epoch;
  const int64_t train = on_files() ? data.train_images : data::split_size(preset, data::Split::kTrain);
  return std::max<int64_t>(1, train / batch);
}

OptimizerConfig RunSchedule::optimizer() const {
  OptimizerConfig optim;
  optim.schedule.kind = LrSchedule::kWarmupCosine;
  optim.schedule.base_lr = lr;
  optim.schedule.min_lr = lr * min_lr_ratio;
  optim.schedule.warmup_steps = std::min(warmup_steps, total_steps());
  optim.schedule.total_steps = total_steps();
  optim.adamw.weight_decay = weight_decay;
  optim.ema_decay = ema_decay;
  return optim;
}

nlohmann::json RunSchedule::to_json_as(const char* task, nlohmann::json model) const {
  nlohmann::json j = {{"task", task}, {"model", std::move(model)}};
  schedule_to_json(j);
  return j;
}

void RunSchedule::schedule_to_json(nlohmann::json& j) const {
  if (on_files())
    j["data"] = data.to_json();
  else
    j["preset"] = nlohmann::json::parse(data::preset_to_json(preset));
  j["batch"] = batch;
  j["epochs"] = epochs;
  j["steps_per_epoch"] = epoch_steps();
  j["lr"] = lr;
  j["min_lr_ratio"] = min_lr_ratio;
  j["weight_decay"] = weight_decay;
  j["ema_decay"] = ema_decay;
  j["warmup_steps"] = warmup_steps;
  j["seed"] = seed;
  j["data_seed"] = data_seed;
  j["val_count"] = val_count;
  j["test_count"] = test_count;
  if (!init_from.empty()) j["init_from"] = init_from;
  j["patience"] = patience;
}

void RunSchedule::schedule_from_json(const nlohmann::json& j) {
  if (j.contains("data"))
    data = DatasetSpec::from_json(j.at("data"));
  else
    preset = data::preset_from_json(j.at("preset").dump(), "the run's preset");
  batch = j.at("batch").get<int>();
  epochs = j.at("epochs").get<int>();
  steps_per_epoch = j.at("steps_per_epoch").get<int64_t>();
  lr = j.at("lr").get<float>();
  min_lr_ratio = j.at("min_lr_ratio").get<float>();
  weight_decay = j.at("weight_decay").get<float>();
  warmup_steps = j.at("warmup_steps").get<int64_t>();
  seed = j.at("seed").get<uint64_t>();
  data_seed = j.at("data_seed").get<uint64_t>();
  val_count = j.at("val_count").get<int64_t>();
  // Runs written before these keys existed tested on the whole split and started from scratch.
  test_count = j.value("test_count", int64_t{0});
  init_from = j.value("init_from", std::string());
  patience = j.value("patience", 0);       // runs from before --patience existed: off
  ema_decay = j.value("ema_decay", 0.0f);  // runs from before --ema: no weight average
}

void RunSchedule::validate_schedule() const {
  LOCDET_CHECK(batch >= 1 && batch <= 4096, "--batch must be 1..4096, got ", batch);
  LOCDET_CHECK(epochs >= 1, "--epochs must be >= 1, got ", epochs);
  LOCDET_CHECK(lr > 0 && std::isfinite(lr), "--lr must be > 0, got ", lr);
  LOCDET_CHECK(weight_decay >= 0, "--weight-decay must be >= 0, got ", weight_decay);
  LOCDET_CHECK(ema_decay >= 0 && ema_decay < 1, "--ema must be in [0, 1) (0: off; e.g. 0.999), got ",
               ema_decay);
  LOCDET_CHECK(val_count >= 0, "--val-count must be >= 0, got ", val_count);
  LOCDET_CHECK(test_count >= 0, "--test-count must be >= 0, got ", test_count);
  LOCDET_CHECK(patience >= 0, "--patience must be >= 0 (0: off), got ", patience);
  if (on_files()) data.validate();
}

void RunSchedule::validate_data(const char* preset_task, const char* examples, int height, int width,
                                const std::vector<std::string>& class_names) const {
  if (on_files()) {
    LOCDET_CHECK(data.height == height && data.width == width, "the dataset's input is ", data.height, "x",
                 data.width, " but the model expects ", height, "x", width);
    LOCDET_CHECK(data.classes == class_names, "the model's classes differ from the dataset's");
    return;
  }
  LOCDET_CHECK(preset.task == preset_task, "preset '", preset.name, "' is a ", preset.task,
               " preset; this model trains on ", preset_task, " presets (", examples, ")");
  LOCDET_CHECK(preset.height == height && preset.width == width, "preset '", preset.name, "' is ",
               preset.height, "x", preset.width, " but the model expects ", height, "x", width);
}

namespace {

std::map<std::string, std::string> locdet_metadata(const std::string& path) {
  SafeTensorsFile file = read_safetensors(path);
  LOCDET_CHECK(
      file.metadata.count(kMetaTask) && file.metadata.count(kMetaRun), "'", path,
      "' is a safetensors file without locdet's run metadata; pass a checkpoint written by train_gpu");
  return std::move(file.metadata);
}

}  // namespace

std::string read_checkpoint_task(const std::string& path) {
  return locdet_metadata(path).at(kMetaTask);
}

nlohmann::json read_checkpoint_run(const std::string& path, const std::string& task,
                                   const std::string& command_hint) {
  const auto metadata = locdet_metadata(path);
  const std::string& found = metadata.at(kMetaTask);
  LOCDET_CHECK(found == task, "'", path, "' is a checkpoint of a '", found, "' model; this needs ",
               command_hint);
  try {
    return nlohmann::json::parse(metadata.at(kMetaRun));
  } catch (const nlohmann::json::exception& e) {
    fail("'", path, "' has unreadable run metadata (", e.what(), ")");
  }
}

}  // namespace locdet::models
