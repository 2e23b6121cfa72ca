// Scoring a localizer on a split of its preset (the first seed's metrics, presence accuracy,
// the 11x11 confusion matrix; models/digits/localization_eval.h) and drawing its predictions.
#pragma once

#include <string>
#include <vector>

#include "models/digits/localization_eval.h"
#include "models/digits/scene.h"
#include "models/localizer/predictor.h"

namespace locdet::models {

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
                                            int64_t count, int keep = 0, std::vector<SampleResult>* kept = nullptr,
                                            TensorDump* dump = nullptr);

// A grid of scenes: ground truth box in green, prediction in red with "class confidence%".
void write_localizer_overlay(const std::string& path, const std::vector<SampleResult>& samples, int height,
                             int width, int columns = 8, int zoom = 3);

}  // namespace locdet::models
