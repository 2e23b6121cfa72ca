#include "models/localizer/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/io/image.h"
#include "kernels/base/error.h"
#include "kernels/common/localizer_targets.h"

namespace locdet::models {

eval::LocalizationReport evaluate_localizer(LocalizerPredictor& predictor, const LabeledImages& images,
                                            int64_t count, int keep, std::vector<SampleResult>* kept,
                                            TensorDump* dump) {
  if (count <= 0 || count > images.size()) count = images.size();
  const int height = images.height(), width = images.width();
  LOCDET_CHECK(height == predictor.config().height && width == predictor.config().width, "the images (",
               images.describe(), ") are ", height, "x", width, " but the model's input is ",
               predictor.config().height, "x", predictor.config().width);
  data::SceneBatch scenes;
  eval::LocalizationEvaluator evaluator(predictor.config().class_names);
  const size_t pixels = static_cast<size_t>(height) * width;
  for (int64_t first = 0; first < count; first += predictor.batch()) {
    const int n = static_cast<int>(std::min<int64_t>(predictor.batch(), count - first));
    images.read(first, n, &scenes);
    const auto predictions = predictor.predict(scenes.images.data(), n);
    if (dump) {
      dump->append("image", {1, height, width}, scenes.images.data(), n);
      predictor.dump_outputs(*dump, n);
    }
    for (int b = 0; b < n; ++b) {
      float label[kLocalizerLabelSize];
      scene_label_to_localizer(scenes.labels[b], height, width, label);
      if (dump) dump->append("label", {kLocalizerLabelSize}, label, 1);
      const float truth[4] = {label[1] - label[3] / 2, label[2] - label[4] / 2, label[1] + label[3] / 2,
                              label[2] + label[4] / 2};
      const LocalizerPrediction& p = predictions[b];
      evaluator.add(p.presence_logit, p.digit, p.box, label[0] > 0.5f, static_cast<int>(label[5]), truth);
      if (kept && static_cast<int64_t>(kept->size()) < keep) {
        kept->push_back({std::vector<float>(scenes.image(b), scenes.image(b) + pixels), scenes.labels[b], p});
      }
    }
  }
  return evaluator.report();
}

eval::LocalizationReport evaluate_localizer(LocalizerPredictor& predictor, const data::DigitBank& bank,
                                            const data::Preset& preset, data::Split split, uint64_t data_seed,
                                            int64_t count, int keep, std::vector<SampleResult>* kept,
                                            TensorDump* dump) {
  return evaluate_localizer(predictor, *rendered_scenes(bank, preset, split, data_seed), count, keep, kept,
                            dump);
}

void write_localizer_overlay(const std::string& path, const std::vector<SampleResult>& samples, int height,
                             int width, int columns, int zoom, const std::vector<std::string>& class_names) {
  std::vector<io::RgbImage> tiles;
  for (const SampleResult& s : samples) {
    io::RgbImage tile = io::gray_to_rgb(s.image.data(), height, width, zoom);
    for (int k = 0; k < s.label.count; ++k) {
      const float* b = s.label.box[k];
      io::draw_rect(tile, static_cast<int>(b[0] * zoom), static_cast<int>(b[1] * zoom),
                    static_cast<int>(b[2] * zoom), static_cast<int>(b[3] * zoom), io::kGreen);
    }
    const LocalizerPrediction& p = s.prediction;
    char text[32];
    if (p.presence > 0.5f) {
      io::draw_rect(tile, static_cast<int>(std::lround(p.box[0] * width * zoom)),
                    static_cast<int>(std::lround(p.box[1] * height * zoom)),
                    static_cast<int>(std::lround(p.box[2] * width * zoom)),
                    static_cast<int>(std::lround(p.box[3] * height * zoom)), io::kRed);
      const std::string name =
          p.digit < static_cast<int>(class_names.size()) ? class_names[p.digit] : std::to_string(p.digit);
      std::snprintf(text, sizeof(text), "%s %.0f%%", name.c_str(), 100.0f * p.confidence * p.presence);
    } else {
      std::snprintf(text, sizeof(text), "none %.0f%%", 100.0f * (1.0f - p.presence));
    }
    io::draw_text(tile, 2, 2, text, io::kRed, 2);
    tiles.push_back(std::move(tile));
  }
  io::write_png(path, io::compose_grid(tiles, columns));
}

}  // namespace locdet::models
