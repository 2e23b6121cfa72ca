#include "models/localizer/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/io/image.h"
#include "kernels/base/error.h"
#include "kernels/common/box.h"
#include "kernels/common/localizer_targets.h"

namespace locdet::models {

eval::LocalizationReport evaluate_localizer(LocalizerPredictor& predictor, const LabeledImages& images,
                                            int64_t count, OverlayPick pick,
                                            std::vector<SampleResult>* first_scenes,
                                            std::vector<SampleResult>* mistake_scenes, TensorDump* dump) {
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
      const bool want_first = first_scenes && static_cast<int>(first_scenes->size()) < pick.first;
      const bool want_mistake = mistake_scenes && static_cast<int>(mistake_scenes->size()) < pick.mistakes &&
                                localizer_mistake(scenes.labels[b], p, height, width);
      if (want_first || want_mistake) {
        SampleResult sample{std::vector<float>(scenes.image(b), scenes.image(b) + pixels), scenes.labels[b],
                            p};
        if (want_first) first_scenes->push_back(sample);
        if (want_mistake) mistake_scenes->push_back(std::move(sample));
      }
    }
  }
  return evaluator.report();
}

eval::LocalizationReport evaluate_localizer(LocalizerPredictor& predictor, const data::DigitBank& bank,
                                            const data::Preset& preset, data::Split split, uint64_t data_seed,
                                            int64_t count, OverlayPick pick,
                                            std::vector<SampleResult>* first_scenes,
                                            std::vector<SampleResult>* mistake_scenes, TensorDump* dump) {
  return evaluate_localizer(predictor, *rendered_scenes(bank, preset, split, data_seed), count, pick,
                            first_scenes, mistake_scenes, dump);
}

namespace {

// The prediction's box in the pixels of an image `zoom` times the model's input.
void predicted_box_pixels(const LocalizerPrediction& p, int height, int width, float zoom, float* box) {
  for (int k = 0; k < 4; ++k) box[k] = p.box[k] * (k % 2 == 0 ? width : height) * zoom;
}

}  // namespace

bool localizer_mistake(const SceneLabel& label, const LocalizerPrediction& prediction, int height,
                       int width) {
  const bool present = label.count > 0;
  if (present != prediction.present()) return true;
  if (!present) return false;
  float box[4];
  predicted_box_pixels(prediction, height, width, 1.0f, box);
  return prediction.digit != label.cls[0] || box_iou(box, label.box[0]) < 0.5f;
}

void write_localizer_overlay(const std::string& path, const std::vector<SampleResult>& samples, int height,
                             int width, int columns, int zoom, const std::vector<std::string>& class_names) {
  std::vector<io::RgbImage> tiles;
  for (const SampleResult& s : samples) {
    OverlayCanvas canvas(io::gray_to_rgb(s.image.data(), height, width, zoom));
    const LocalizerPrediction& p = s.prediction;
    const bool wrong = localizer_mistake(s.label, p, height, width);
    const bool present = s.label.count > 0;
    float truth[4], predicted[4];
    if (present) {
      for (int k = 0; k < 4; ++k) truth[k] = s.label.box[0][k] * zoom;
      canvas.box(truth, Mark::kTruth, "");
    }
    std::string caption = std::string(wrong ? "X " : "") + "PRED ", iou;
    if (p.present()) {
      predicted_box_pixels(p, height, width, static_cast<float>(zoom), predicted);
      canvas.box(predicted, wrong ? Mark::kWrong : Mark::kRight, "");
      caption += class_label(class_names, p.digit) + " " + format_score(p.score());
      if (present) {
        char text[16];
        std::snprintf(text, sizeof(text), "IOU %.2f", box_iou(predicted, truth));
        iou = text;
      }
    } else {
      caption += "NONE";
    }
    const Mark mark = wrong ? Mark::kWrong : Mark::kRight;
    tiles.push_back(caption_tile(
        canvas.image(),
        {{"TRUE " + (present ? class_label(class_names, s.label.cls[0]) : std::string("NONE")), Mark::kTruth},
         {caption, mark},
         {iou, mark}},
        wrong));
  }
  write_overlay_grid(path, tiles, columns);
}

nlohmann::json localizer_prediction_json(const LocalizerPrediction& p, const float box[4],
                                         const std::vector<std::string>& class_names) {
  const nlohmann::json null;
  const bool present = p.present();
  return {{"present", present},
          {"presence", rounded_score(p.presence)},
          {"digit", present ? nlohmann::json(p.digit) : null},
          {"class", present ? nlohmann::json(class_label(class_names, p.digit)) : null},
          {"score", present ? nlohmann::json(rounded_score(p.score())) : null},
          {"box_xyxy", present ? box_json(box) : null}};
}

io::RgbImage draw_localizer_prediction(io::RgbImage image, const LocalizerPrediction& prediction,
                                       const float box[4], const std::vector<std::string>& class_names) {
  OverlayCanvas canvas(std::move(image));
  if (prediction.present()) {
    canvas.box(box, Mark::kRight,
               class_label(class_names, prediction.digit) + " " + format_score(prediction.score()));
  } else {
    canvas.corner_label("NONE", Mark::kRight);
  }
  return canvas.image();
}

}  // namespace locdet::models
