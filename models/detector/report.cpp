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
                                      int64_t count, int keep, std::vector<DetectionSample>* kept,
                                      TensorDump* dump) {
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
      if (kept && static_cast<int64_t>(kept->size()) < keep)
        kept->push_back(
            {std::vector<float>(scenes.image(b), scenes.image(b) + pixels), label, detections[b]});
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
                                      int64_t count, int keep, std::vector<DetectionSample>* kept,
                                      TensorDump* dump) {
  return evaluate_detector(predictor, *rendered_scenes(bank, preset, split, data_seed), count, keep, kept,
                           dump);
}

void draw_detections(io::RgbImage& image, const std::vector<Detection>& detections, int zoom, float min_score,
                     const std::vector<std::string>& class_names) {
  for (const Detection& d : detections) {
    if (d.score < min_score) continue;
    const int x0 = static_cast<int>(std::lround(d.box[0] * zoom)),
              y0 = static_cast<int>(std::lround(d.box[1] * zoom));
    io::draw_rect(image, x0, y0, static_cast<int>(std::lround(d.box[2] * zoom)),
                  static_cast<int>(std::lround(d.box[3] * zoom)), io::kRed);
    char text[32];
    const std::string name = d.cls >= 0 && d.cls < static_cast<int>(class_names.size())
                                 ? class_names[d.cls]
                                 : std::to_string(d.digit);
    std::snprintf(text, sizeof(text), "%s %.2f", name.c_str(), d.score);
    io::draw_text(image, std::max(0, x0), std::max(0, y0 - 9), text, io::kRed, 1);
  }
}

void write_detector_overlay(const std::string& path, const std::vector<DetectionSample>& samples, int height,
                            int width, float min_score, int columns, int zoom,
                            const std::vector<std::string>& class_names) {
  std::vector<io::RgbImage> tiles;
  for (const DetectionSample& s : samples) {
    io::RgbImage tile = io::gray_to_rgb(s.image.data(), height, width, zoom);
    for (int k = 0; k < s.label.count; ++k) {
      const float* b = s.label.box[k];
      io::draw_rect(tile, static_cast<int>(b[0] * zoom), static_cast<int>(b[1] * zoom),
                    static_cast<int>(b[2] * zoom), static_cast<int>(b[3] * zoom), io::kGreen);
    }
    draw_detections(tile, s.detections, zoom, min_score, class_names);
    tiles.push_back(std::move(tile));
  }
  io::write_png(path, io::compose_grid(tiles, columns));
}

}  // namespace locdet::models
