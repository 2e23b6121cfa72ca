// The detector as a task: what defines a run, the training graph on a device, the inference
// graph with batched NMS, COCO-style evaluation over a split and overlays. train_gpu,
// evaluate and predict are thin command-line layers over this (as for the localizer).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/data/scene.h"
#include "engine/eval/coco.h"
#include "engine/executor.h"
#include "engine/io/image.h"
#include "engine/tensor_dump.h"
#include "models/detector.h"
#include "models/run_schedule.h"
#include "models/scene_feed.h"

namespace locdet::models {

// Everything that defines a detector training run (config.json, checkpoint metadata).
struct DetectorRun : RunSchedule {
  DetectorRun() { batch = 32; }

  DetectorConfig model;

  nlohmann::json to_json() const;
  static DetectorRun from_json(const nlohmann::json& j);
  void validate() const;
};

// Anchor sizes for a preset: the (w, h) of every digit box in the first `scenes` training
// scenes (data seed 0, fixed sample indices: deterministic) clustered by k-means with
// distance 1 - IoU of centre-aligned boxes (cpu::choose_anchor_sizes), sorted by area and
// rounded to 1/100 pixel. *mean_iou (optional) = mean best centre-aligned IoU of a box with
// its closest size.
std::vector<std::pair<float, float>> choose_detector_anchors(const data::DigitBank& bank,
                                                             const data::Preset& preset, int k,
                                                             int scenes = 2000, double* mean_iou = nullptr);

// The training graph: scene feed -> detector -> targets + loss -> backward -> AdamW.
class DetectorTrainer {
 public:
  DetectorTrainer(const DetectorRun& run, const data::DigitBank& bank, Device device, bool cuda_graph = true);
  void step() { executor_->step(); }
  Executor& executor() { return *executor_; }
  const Executor& executor() const { return *executor_; }
  const Detector& model() const { return model_; }
  // Loss, its parts and the mean positives per image of the last step (a device read).
  nlohmann::json read_losses() const;
  float read_lr() const;
  int64_t steps_done() const;
  // What became NaN/Inf since the start ("loss", "gradients"; empty if nothing): a device
  // flag set inside the step (engine/nonfinite.h), one 4-byte read.
  std::string nonfinite_what() const;

 private:
  std::shared_ptr<SceneStream> stream_;
  SceneFeed feed_;
  Detector model_;
  Value step_, lr_, nonfinite_;
  std::unique_ptr<Executor> executor_;
};

// The inference graph at a fixed batch size: detector + batched NMS (config.nms) on the device.
class DetectorPredictor {
 public:
  DetectorPredictor(const DetectorConfig& config, int batch, Device device);
  int batch() const { return batch_; }
  const DetectorConfig& config() const { return config_; }
  void copy_weights_from(const Executor& trained);
  void load_checkpoint(const std::string& path);  // weights only; optimizer state ignored
  // images: count x [H, W] in [0, 1] (count <= batch). Detections per image, score descending.
  std::vector<std::vector<Detection>> predict(const float* images, int count);
  // Appends the raw outputs of the last predict() for its first `count` images: boxes [A, 4]
  // (xyxy pixels) and scores [A, classes] before NMS, and the NMS outputs det_boxes
  // [max_det, 4], det_scores [max_det], det_classes [max_det] (i32 class index, -1 unused),
  // det_count [] (i32) per image.
  void dump_outputs(TensorDump& dump, int count) const;

 private:
  DetectorConfig config_;
  int batch_;
  Detector model_;
  NmsOutputs nms_;
  Value images_;
  std::unique_ptr<Executor> executor_;
  std::vector<float> input_;
};

struct DetectionSample {
  std::vector<float> image;  // [H, W]
  SceneLabel label;
  std::vector<Detection> detections;
};

struct DetectionEvaluation {
  eval::CocoReport coco;
  int64_t images = 0;
  // The first seed's "generalized" metric (presets with a 2x3 grid, i.e. inf265-det): per
  // cell, a prediction = the highest-scoring detection whose centre lies in the cell (score
  // > 0.5); the cell is right when presence agrees and, if present, the class is right; the
  // metric = (cell accuracy + mean IoU over cells with a digit) / 2. -1 when not applicable.
  double grid_accuracy = -1, grid_mean_iou = -1, grid_performance = -1;
  nlohmann::json to_json() const;
};

// Renders `count` scenes of `split` (0: the whole split) with `data_seed`, detects and scores
// them. The first `keep` scenes land in *kept (overlays). With `dump`: every scene's image
// [1, H, W], its digits' boxes gt_boxes [kSceneMaxDigits, 4] (xyxy pixels) and gt_digits
// [kSceneMaxDigits] (i32, -1 past the last) and the model's outputs (DetectorPredictor::dump_outputs).
DetectionEvaluation evaluate_detector(DetectorPredictor& predictor, const data::DigitBank& bank,
                                      const data::Preset& preset, data::Split split, uint64_t data_seed,
                                      int64_t count, int keep = 0,
                                      std::vector<DetectionSample>* kept = nullptr,
                                      TensorDump* dump = nullptr);

// A grid of scenes: ground truth in green, detections with score >= min_score in red with
// "digit score".
void write_detector_overlay(const std::string& path, const std::vector<DetectionSample>& samples, int height,
                            int width, float min_score = 0.3f, int columns = 8, int zoom = 3);
// One image with its detections (predict): boxes in the image's own pixels.
void draw_detections(io::RgbImage& image, const std::vector<Detection>& detections, int zoom,
                     float min_score);

// The detector run a checkpoint was trained with. Throws when it is not a detector checkpoint.
DetectorRun read_detector_run_from_checkpoint(const std::string& path);
// "localize" | "detect": the task a checkpoint was written by (throws when it is not locdet's).
std::string read_checkpoint_task(const std::string& path);

}  // namespace locdet::models
