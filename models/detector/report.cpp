#include "models/detector/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "kernels/base/error.h"
#include "kernels/common/box.h"

namespace locdet::models {

nlohmann::json DetectionEvaluation::to_json() const {
  nlohmann::json j = coco.to_json();
  j["images"] = images;
  if (grid_performance >= 0) {
    j["grid_accuracy"] = grid_accuracy;
    j["grid_mean_iou"] = grid_mean_iou;
    j["grid_performance"] = grid_performance;
  }
  return j;
}

namespace {

// The generalized metric's per-image part; see DetectionEvaluation.
struct GridScore {
  int64_t cells = 0, correct = 0, with_digit = 0;
  double iou_sum = 0;
};

void score_grid(const SceneLabel& label, const std::vector<Detection>& detections, const data::Preset& preset,
                GridScore* score) {
  const int rows = preset.grid_rows, cols = preset.grid_cols;
  const std::vector<float> grid = data::label_grid(label, preset.height, preset.width, rows, cols);
  const float cell_w = static_cast<float>(preset.width) / cols,
              cell_h = static_cast<float>(preset.height) / rows;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const float* t = &grid[static_cast<size_t>(r * cols + c) * 6];
      const Detection* best = nullptr;
      for (const Detection& d : detections) {  // score-sorted: the first one in the cell wins
        if (d.score <= 0.5f) break;
        const float cx = 0.5f * (d.box[0] + d.box[2]), cy = 0.5f * (d.box[1] + d.box[3]);
        const int dc = std::clamp(static_cast<int>(cx / cell_w), 0, cols - 1);
        const int dr = std::clamp(static_cast<int>(cy / cell_h), 0, rows - 1);
        if (dr == r && dc == c) {
          best = &d;
          break;
        }
      }
      const bool present = t[0] > 0.5f;
      ++score->cells;
      if (!present) {
        score->correct += best == nullptr;
        continue;
      }
      ++score->with_digit;
      if (best == nullptr) continue;
      score->correct += best->digit == static_cast<int>(t[5]);
      const float cx = (c + t[1]) * cell_w, cy = (r + t[2]) * cell_h;
      const float w = t[3] * preset.width, h = t[4] * preset.height;
      const float truth[4] = {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
      score->iou_sum += box_iou(best->box, truth);
    }
  }
}

}  // namespace

DetectionEvaluation evaluate_detector(DetectorPredictor& predictor, const LabeledImages& images,
                                      int64_t count, OverlayPick pick,
                                      std::vector<DetectionSample>* first_scenes,
                                      std::vector<DetectionSample>* mistake_scenes, TensorDump* dump) {
  if (count <= 0 || count > images.size()) count = images.size();
  const DetectorConfig& config = predictor.config();
  LOCDET_CHECK(images.height() == config.height && images.width() == config.width, "the images (",
               images.describe(), ") are ", images.height(), "x", images.width(),
               " but the model's input is ", config.height, "x", config.width);
  const DetectorClassMap map = config.class_map();
  data::SceneBatch scenes;
  eval::CocoEvaluator evaluator(config.num_classes());
  GridScore grid;
  const data::Preset* preset = images.preset();
  const bool has_grid = preset && preset->grid_rows > 0 && preset->grid_cols > 0;
  const size_t pixels = static_cast<size_t>(images.height()) * images.width();
  for (int64_t first = 0; first < count; first += predictor.batch()) {
    const int n = static_cast<int>(std::min<int64_t>(predictor.batch(), count - first));
    images.read(first, n, &scenes);
    const auto detections = predictor.predict(scenes.images.data(), n);
    if (dump) {
      dump->append("image", {1, images.height(), images.width()}, scenes.images.data(), n);
      predictor.dump_outputs(*dump, n);
    }
    for (int b = 0; b < n; ++b) {
      const int64_t image = first + b;
      const SceneLabel& label = scenes.labels[b];
      if (dump) {
        float gt_boxes[kLabelMaxBoxes][4] = {};
        int32_t gt_digits[kLabelMaxBoxes];
        std::fill_n(gt_digits, kLabelMaxBoxes, -1);
        for (int k = 0; k < std::clamp(label.count, 0, kLabelMaxBoxes); ++k) {
          std::copy_n(label.box[k], 4, gt_boxes[k]);
          gt_digits[k] = label.cls[k];
        }
        dump->append("gt_boxes", {kLabelMaxBoxes, 4}, &gt_boxes[0][0], 1);
        dump->append("gt_digits", {kLabelMaxBoxes}, gt_digits, 1);
      }
      evaluator.add_image(image);
      for (int k = 0; k < label.count; ++k) {
        const int cls =
            label.cls[k] >= 0 && label.cls[k] < kMaxClasses ? map.index_of_label[label.cls[k]] : -1;
        if (cls < 0) continue;
        const float* box = label.box[k];
        evaluator.add_ground_truth(image, cls, eval::CocoBox::from_xyxy(box[0], box[1], box[2], box[3]));
      }
      for (const Detection& d : detections[b])
        evaluator.add_detection(image, d.cls,
                                eval::CocoBox::from_xyxy(d.box[0], d.box[1], d.box[2], d.box[3]), d.score);
      if (has_grid) score_grid(label, detections[b], *preset, &grid);
      const bool want_first = first_scenes && static_cast<int>(first_scenes->size()) < pick.first;
      const bool want_mistake = mistake_scenes && static_cast<int>(mistake_scenes->size()) < pick.mistakes &&
                                match_detections(label, detections[b]).mistake();
      if (want_first || want_mistake) {
        DetectionSample sample{std::vector<float>(scenes.image(b), scenes.image(b) + pixels), label,
                               detections[b]};
        if (want_first) first_scenes->push_back(sample);
        if (want_mistake) mistake_scenes->push_back(std::move(sample));
      }
    }
  }
  DetectionEvaluation result;
  result.coco = evaluator.evaluate();
  result.images = count;
  if (has_grid && grid.cells > 0) {
    result.grid_accuracy = static_cast<double>(grid.correct) / grid.cells;
    result.grid_mean_iou = grid.with_digit > 0 ? grid.iou_sum / grid.with_digit : 0.0;
    result.grid_performance = 0.5 * (result.grid_accuracy + result.grid_mean_iou);
  }
  return result;
}

DetectionEvaluation evaluate_detector(DetectorPredictor& predictor, const data::DigitBank& bank,
                                      const data::Preset& preset, data::Split split, uint64_t data_seed,
                                      int64_t count, OverlayPick pick,
                                      std::vector<DetectionSample>* first_scenes,
                                      std::vector<DetectionSample>* mistake_scenes, TensorDump* dump) {
  return evaluate_detector(predictor, *rendered_scenes(bank, preset, split, data_seed), count, pick,
                           first_scenes, mistake_scenes, dump);
}

DetectionMatch match_detections(const SceneLabel& label, const std::vector<Detection>& detections,
                                float min_score) {
  DetectionMatch match;
  match.right.assign(detections.size(), false);
  match.found.assign(static_cast<size_t>(std::max(0, label.count)), false);
  for (size_t i = 0; i < detections.size(); ++i) {  // score-sorted
    const Detection& d = detections[i];
    if (d.score < min_score) continue;
    int best = -1;
    float best_iou = 0.5f;
    for (int k = 0; k < label.count; ++k) {
      if (match.found[k] || label.cls[k] != d.digit) continue;
      const float iou = box_iou(d.box, label.box[k]);
      if (iou >= best_iou) {
        best = k;
        best_iou = iou;
      }
    }
    if (best >= 0) {
      match.found[best] = true;
      match.right[i] = true;
    } else {
      ++match.wrong;
    }
  }
  for (bool found : match.found) match.missed += !found;
  return match;
}

nlohmann::json detection_json(const Detection& d, const std::vector<std::string>& label_names) {
  return {{"digit", d.digit},
          {"class", class_label(label_names, d.digit)},
          {"score", rounded_score(d.score)},
          {"box_xyxy", box_json(d.box)}};
}

io::RgbImage draw_detections(io::RgbImage image, const std::vector<Detection>& detections,
                             const std::vector<std::string>& label_names) {
  OverlayCanvas canvas(std::move(image));
  for (const Detection& d : detections)
    canvas.box(d.box, Mark::kRight, class_label(label_names, d.digit) + " " + format_score(d.score));
  return canvas.image();
}

void write_detector_overlay(const std::string& path, const std::vector<DetectionSample>& samples, int height,
                            int width, float min_score, int columns, int zoom,
                            const std::vector<std::string>& label_names) {
  std::vector<io::RgbImage> tiles;
  for (const DetectionSample& s : samples) {
    OverlayCanvas canvas(io::gray_to_rgb(s.image.data(), height, width, zoom));
    const DetectionMatch match = match_detections(s.label, s.detections, min_score);
    auto zoomed = [&](const float* b, float* out) {
      for (int k = 0; k < 4; ++k) out[k] = b[k] * zoom;
    };
    float box[4];
    // The truth first, so the detections' labels go where the truth's are not.
    for (int k = 0; k < s.label.count; ++k) {
      zoomed(s.label.box[k], box);
      const std::string name = class_label(label_names, s.label.cls[k]);
      canvas.box(box, match.found[k] ? Mark::kTruth : Mark::kWrong, match.found[k] ? name : "MISS " + name);
    }
    for (size_t i = 0; i < s.detections.size(); ++i) {
      const Detection& d = s.detections[i];
      if (d.score < min_score) continue;
      zoomed(d.box, box);
      canvas.box(box, match.right[i] ? Mark::kRight : Mark::kWrong,
                 class_label(label_names, d.digit) + " " + format_score(d.score));
    }
    const int found = static_cast<int>(std::count(match.found.begin(), match.found.end(), true));
    std::vector<std::pair<std::string, Mark>> caption = {
        {"TRUE " + std::to_string(s.label.count) + " FOUND " + std::to_string(found), Mark::kTruth}};
    caption.push_back({match.mistake() ? "X MISSED " + std::to_string(match.missed) + " WRONG " +
                                             std::to_string(match.wrong)
                                       : "",
                       Mark::kWrong});
    tiles.push_back(caption_tile(canvas.image(), caption, match.mistake()));
  }
  write_overlay_grid(path, tiles, columns);
}

}  // namespace locdet::models
