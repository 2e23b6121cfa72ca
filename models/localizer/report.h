// Scoring a localizer on labeled images (a preset's rendered split or a dataset's images: the
// first seed's metrics, presence accuracy, the (N+1)x(N+1) confusion matrix;
// models/digits/localization_eval.h) and drawing its predictions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/io/image.h"
#include "models/digits/localization_eval.h"
#include "models/digits/scene.h"
#include "models/localizer/predictor.h"
#include "models/overlay.h"
#include "models/training_data.h"

namespace locdet::models {

struct SampleResult {
  std::vector<float> image;  // [H, W]
  SceneLabel label;
  LocalizerPrediction prediction;
};

// A mistake, as the overlays mark it: presence wrong, or an object present and predicted with
// the wrong class or a box of IoU < 0.5 with the truth.
bool localizer_mistake(const SceneLabel& label, const LocalizerPrediction& prediction, int height, int width);

// Predicts and scores the first `count` of `images` (0: all). The images `pick` asks for, with
// their predictions, land in *first_scenes and *mistake_scenes (overlays). With `dump`: every
// image [1, H, W], label [6] (the INF265 project's [p, cx, cy, w, h, class]) and the model's raw
// outputs (LocalizerPredictor::dump_outputs) are appended to it.
eval::LocalizationReport evaluate_localizer(LocalizerPredictor& predictor, const LabeledImages& images,
                                            int64_t count, OverlayPick pick = {},
                                            std::vector<SampleResult>* first_scenes = nullptr,
                                            std::vector<SampleResult>* mistake_scenes = nullptr,
                                            TensorDump* dump = nullptr);
// The same on `count` scenes of `split` (0: the whole split) rendered with `data_seed`.
eval::LocalizationReport evaluate_localizer(LocalizerPredictor& predictor, const data::DigitBank& bank,
                                            const data::Preset& preset, data::Split split, uint64_t data_seed,
                                            int64_t count, OverlayPick pick = {},
                                            std::vector<SampleResult>* first_scenes = nullptr,
                                            std::vector<SampleResult>* mistake_scenes = nullptr,
                                            TensorDump* dump = nullptr);

// A grid of scenes (models/overlay.h): the true box in green, the predicted one in red (yellow
// when it is a mistake); under each scene "TRUE 7", "PRED 7 0.973" and "IOU 0.91" (the class by
// its name in `class_names` when given).
void write_localizer_overlay(const std::string& path, const std::vector<SampleResult>& samples, int height,
                             int width, int columns = 8, int zoom = 3,
                             const std::vector<std::string>& class_names = {});

// predict's JSON for one image: "present", "presence", and "digit" (the class index), "class"
// (its name in `class_names`), "score" (presence x confidence, as the overlay shows it) and
// "box_xyxy" (`box`, in the image's pixels), which are null when no object is present.
nlohmann::json localizer_prediction_json(const LocalizerPrediction& prediction, const float box[4],
                                         const std::vector<std::string>& class_names = {});

// predict: one image with its prediction, `box` in the image's pixels (after the letterbox
// is undone): the box and "7 0.973", or "NONE" in the corner.
io::RgbImage draw_localizer_prediction(io::RgbImage image, const LocalizerPrediction& prediction,
                                       const float box[4], const std::vector<std::string>& class_names = {});

}  // namespace locdet::models
