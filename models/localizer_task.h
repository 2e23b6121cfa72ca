// The localizer as a task: what defines a run, the training graph on a device, the
// inference graph, evaluation over a split and overlays. train_gpu, evaluate and
// predict are thin command-line layers over this.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/data/scene.h"
#include "engine/eval/localization.h"
#include "engine/executor.h"
#include "engine/tensor_dump.h"
#include "models/localizer.h"
#include "models/run_schedule.h"
#include "models/scene_feed.h"

namespace locdet::models {

// Everything that defines a localizer training run (config.json, checkpoint metadata).
struct LocalizerRun : RunSchedule {
  LocalizerConfig model;

  nlohmann::json to_json() const;
  static LocalizerRun from_json(const nlohmann::json& j);
  void validate() const;
};

// Sets the model's anchor (the box size the head starts from) to the median width and
// height of the digit boxes in `samples` rendered training scenes (deterministic).
void fit_anchor_to_preset(LocalizerConfig& config, const data::DigitBank& bank, const data::Preset& preset,
                          int samples = 2000);

// The training graph: scene feed -> localizer -> loss -> backward -> AdamW, one step per call.
class LocalizerTrainer {
 public:
  LocalizerTrainer(const LocalizerRun& run, const data::DigitBank& bank, Device device,
                   bool cuda_graph = true);
  void step() { executor_->step(); }
  Executor& executor() { return *executor_; }
  const Executor& executor() const { return *executor_; }
  const Localizer& model() const { return model_; }
  // Loss and its parts of the last step (a device-to-host read: call every N steps).
  nlohmann::json read_losses() const;
  // The seed's accuracy and mean IoU on the last training batch (also a device read).
  nlohmann::json read_batch_metrics() const;
  float read_lr() const;
  int64_t steps_done() const;  // the optimizer's step counter
  // Whether the loss or the gradients held a NaN/Inf in any step so far: a flag the device
  // sets inside the step (engine/nonfinite.h); reading it is one 4-byte read, so call it
  // every N steps. nonfinite_what() says which ("loss", "gradients"; empty: none).
  bool nonfinite_seen() const;
  std::string nonfinite_what() const;

 private:
  std::shared_ptr<SceneStream> stream_;
  SceneFeed feed_;
  Value labels_;
  Localizer model_;
  Value step_, lr_;
  Value nonfinite_;
  std::unique_ptr<Executor> executor_;
};

// The inference graph at a fixed batch size (batch norm with running statistics).
class LocalizerPredictor {
 public:
  LocalizerPredictor(const LocalizerConfig& config, int batch, Device device);
  int batch() const { return batch_; }
  const LocalizerConfig& config() const { return config_; }
  void copy_weights_from(const Executor& trained);
  void load_checkpoint(const std::string& path);  // weights only; optimizer state ignored
  // images: count x [H, W] in [0, 1] (count <= batch; the rest of the batch is padding).
  std::vector<LocalizerPrediction> predict(const float* images, int count);
  // Appends the raw outputs of the last predict() for its first `count` images: presence_logit
  // [1], location_logits [cells], class_logits [cells, 10], boxes [cells, 4] per image.
  void dump_outputs(TensorDump& dump, int count) const;

 private:
  LocalizerConfig config_;
  int batch_;
  Localizer model_;
  Value images_;
  std::unique_ptr<Executor> executor_;
  std::vector<float> input_;
};

struct SampleResult {
  std::vector<float> image;  // [H, W]
  SceneLabel label;
  LocalizerPrediction prediction;
};

// Renders `count` scenes of `split` (0: the whole split) with `data_seed`, predicts and
// scores them. The first `keep` scenes with their predictions land in *kept (overlays).
// With `dump`: every scene's image [1, H, W], label [6] (the seed's [p, cx, cy, w, h, class])
// and the model's raw outputs (LocalizerPredictor::dump_outputs) are appended to it.
eval::LocalizationReport evaluate_localizer(LocalizerPredictor& predictor, const data::DigitBank& bank,
                                            const data::Preset& preset, data::Split split, uint64_t data_seed,
                                            int64_t count, int keep = 0,
                                            std::vector<SampleResult>* kept = nullptr,
                                            TensorDump* dump = nullptr);

// A grid of scenes: ground truth box in green, prediction in red with "class confidence%".
void write_localizer_overlay(const std::string& path, const std::vector<SampleResult>& samples, int height,
                             int width, int columns = 8, int zoom = 3);

// The run a checkpoint was trained with (its metadata), so a checkpoint alone rebuilds its
// model. Throws when the file is not a locdet localizer checkpoint.
LocalizerRun read_run_from_checkpoint(const std::string& path);

// Checkpoint metadata keys.
constexpr const char* kMetaTask = "locdet.task";
constexpr const char* kMetaRun = "locdet.run";
constexpr const char* kMetaEpoch = "locdet.epoch";
constexpr const char* kMetaBest = "locdet.best_performance";
constexpr const char* kMetaBestEpoch = "locdet.best_epoch";  // the epoch that gave kMetaBest

}  // namespace locdet::models
