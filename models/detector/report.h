// Scoring a detector on labeled images (a preset's rendered split or a dataset's images:
// COCO-style AP, engine/eval/coco.h, and the first seed's 2x3-grid metric where the preset has
// one) and drawing its detections.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/eval/coco.h"
#include "engine/io/image.h"
#include "models/detector/predictor.h"
#include "models/digits/scene.h"
#include "models/training_data.h"

namespace locdet::models {

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

// Detects and scores the first `count` of `images` (0: all); the grid metric when they are the
// scenes of a preset with a grid. The first `keep` images land in *kept (overlays). With `dump`:
// every image [1, H, W], its boxes gt_boxes [kLabelMaxBoxes, 4] (xyxy pixels) and their label
// values gt_digits [kLabelMaxBoxes] (i32, -1 past the last) and the model's outputs
// (DetectorPredictor::dump_outputs).
DetectionEvaluation evaluate_detector(DetectorPredictor& predictor, const LabeledImages& images,
                                      int64_t count, int keep = 0,
                                      std::vector<DetectionSample>* kept = nullptr,
                                      TensorDump* dump = nullptr);
// The same on `count` scenes of `split` rendered with `data_seed`.
DetectionEvaluation evaluate_detector(DetectorPredictor& predictor, const data::DigitBank& bank,
                                      const data::Preset& preset, data::Split split, uint64_t data_seed,
                                      int64_t count, int keep = 0,
                                      std::vector<DetectionSample>* kept = nullptr,
                                      TensorDump* dump = nullptr);

// A grid of scenes: ground truth in green, detections with score >= min_score in red with
// "digit score" (the class by its name when `class_names` is given).
void write_detector_overlay(const std::string& path, const std::vector<DetectionSample>& samples, int height,
                            int width, float min_score = 0.3f, int columns = 8, int zoom = 3,
                            const std::vector<std::string>& class_names = {});
// One image with its detections (predict): boxes in the image's own pixels.
void draw_detections(io::RgbImage& image, const std::vector<Detection>& detections, int zoom, float min_score,
                     const std::vector<std::string>& class_names = {});

}  // namespace locdet::models
