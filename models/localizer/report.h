// Scoring a localizer on labeled images (a preset's rendered split or a dataset's images: the
// first seed's metrics, presence accuracy, the (N+1)x(N+1) confusion matrix;
// models/digits/localization_eval.h) and drawing its predictions.
#pragma once

#include <string>
#include <vector>

#include "models/digits/localization_eval.h"
#include "models/digits/scene.h"
#include "models/localizer/predictor.h"
#include "models/training_data.h"

namespace locdet::models {

struct SampleResult {
  std::vector<float> image;  // [H, W]
  SceneLabel label;
  LocalizerPrediction prediction;
};

// Predicts and scores the first `count` of `images` (0: all). The first `keep` images with their
// predictions land in *kept (overlays). With `dump`: every image [1, H, W], label [6] (the
// seed's [p, cx, cy, w, h, class]) and the model's raw outputs (LocalizerPredictor::dump_outputs)
// are appended to it.
eval::LocalizationReport evaluate_localizer(LocalizerPredictor& predictor, const LabeledImages& images,
                                            int64_t count, int keep = 0,
                                            std::vector<SampleResult>* kept = nullptr,
                                            TensorDump* dump = nullptr);
// The same on `count` scenes of `split` rendered with `data_seed`.
eval::LocalizationReport evaluate_localizer(LocalizerPredictor& predictor, const data::DigitBank& bank,
                                            const data::Preset& preset, data::Split split, uint64_t data_seed,
                                            int64_t count, int keep = 0,
                                            std::vector<SampleResult>* kept = nullptr,
                                            TensorDump* dump = nullptr);

// A grid of scenes: ground truth box in green, prediction in red with "class confidence%"
// (the class by its name when `class_names` is given).
void write_localizer_overlay(const std::string& path, const std::vector<SampleResult>& samples, int height,
                             int width, int columns = 8, int zoom = 3,
                             const std::vector<std::string>& class_names = {});

}  // namespace locdet::models
