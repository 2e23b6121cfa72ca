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
#include "models/overlay.h"
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

// Detections below this score are not drawn, nor counted as mistakes, in overlays.
constexpr float kOverlayMinScore = 0.3f;

// Which detections (score >= min_score) are right and which true objects were found: each
// detection, in score order, takes the unclaimed true object of its label value with the highest
// IoU >= 0.5; a detection that claims none is wrong, an object no detection claims was missed.
struct DetectionMatch {
  std::vector<bool> right;  // per detection (false also below min_score)
  std::vector<bool> found;  // per true object of the label
  int wrong = 0, missed = 0;
  bool mistake() const { return wrong > 0 || missed > 0; }
};
DetectionMatch match_detections(const SceneLabel& label, const std::vector<Detection>& detections,
                                float min_score = kOverlayMinScore);

// Detects and scores the first `count` of `images` (0: all); the grid metric when they are the
// scenes of a preset with a grid. The images `pick` asks for land in *first_scenes and
// *mistake_scenes (overlays). With `dump`: every image [1, H, W], its boxes gt_boxes
// [kLabelMaxBoxes, 4] (xyxy pixels) and their label values gt_digits [kLabelMaxBoxes] (i32, -1
// past the last) and the model's outputs (DetectorPredictor::dump_outputs).
DetectionEvaluation evaluate_detector(DetectorPredictor& predictor, const LabeledImages& images,
                                      int64_t count, OverlayPick pick = {},
                                      std::vector<DetectionSample>* first_scenes = nullptr,
                                      std::vector<DetectionSample>* mistake_scenes = nullptr,
                                      TensorDump* dump = nullptr);
// The same on `count` scenes of `split` (0: the whole split) rendered with `data_seed`.
DetectionEvaluation evaluate_detector(DetectorPredictor& predictor, const data::DigitBank& bank,
                                      const data::Preset& preset, data::Split split, uint64_t data_seed,
                                      int64_t count, OverlayPick pick = {},
                                      std::vector<DetectionSample>* first_scenes = nullptr,
                                      std::vector<DetectionSample>* mistake_scenes = nullptr,
                                      TensorDump* dump = nullptr);

// A grid of scenes (models/overlay.h): true objects in green with their class, detections with
// score >= min_score in red with "class score"; a wrong detection in yellow, a missed object in
// yellow as "MISS 7"; under each scene the counts ("TRUE 3 FOUND 3", "X MISSED 1 WRONG 1").
// Classes are shown by `label_names` (indexed by label value: DetectorConfig::label_names()),
// else as their label values.
void write_detector_overlay(const std::string& path, const std::vector<DetectionSample>& samples, int height,
                            int width, float min_score = kOverlayMinScore, int columns = 8, int zoom = 4,
                            const std::vector<std::string>& label_names = {});
// predict's JSON for one detection (its box in the image's pixels): "digit" (the label value),
// "class" (its name in `label_names`, else the value as text), "score", "box_xyxy".
nlohmann::json detection_json(const Detection& detection, const std::vector<std::string>& label_names = {});
// predict: one image with its detections, boxes in the image's own pixels.
io::RgbImage draw_detections(io::RgbImage image, const std::vector<Detection>& detections,
                             const std::vector<std::string>& label_names = {});

}  // namespace locdet::models
