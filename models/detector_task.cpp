#include "models/detector_task.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/autodiff.h"
#include "engine/checkpoint.h"
#include "engine/core/error.h"
#include "engine/nonfinite.h"
#include "engine/optim.h"
#include "kernels/common/box.h"
#include "kernels/cpu/anchor_match.h"
#include "models/localizer_task.h"  // checkpoint metadata keys

namespace locdet::models {

// ---- DetectorRun ----------------------------------------------------------------------------

nlohmann::json DetectorRun::to_json() const {
  return to_json_as("detect", model.to_json());
}

DetectorRun DetectorRun::from_json(const nlohmann::json& j) {
  return from_json_as<DetectorRun>(j, "detect");
}

void DetectorRun::validate() const {
  model.validate();
  LOCDET_CHECK(preset.task == "detection", "preset '", preset.name, "' is a ", preset.task,
               " preset; the detector trains on detection presets (det10, inf265-det)");
  LOCDET_CHECK(preset.height == model.height && preset.width == model.width, "preset '", preset.name, "' is ",
               preset.height, "x", preset.width, " but the model expects ", model.height, "x", model.width);
  for (int digit : preset.classes)
    LOCDET_CHECK(std::find(model.classes.begin(), model.classes.end(), digit) != model.classes.end(),
                 "preset '", preset.name, "' has digit ", digit, " but the model has no class for it");
  validate_schedule();
}

std::vector<std::pair<float, float>> choose_detector_anchors(const data::DigitBank& bank,
                                                             const data::Preset& preset, int k, int scenes,
                                                             double* mean_iou) {
  LOCDET_CHECK(k >= 1 && k <= 16, "--anchors must be 1..16, got ", k);
  scenes = static_cast<int>(std::min<int64_t>(scenes, data::split_size(preset, data::Split::kTrain)));
  data::SceneSource source(bank, preset, data::Split::kTrain);
  data::SceneBatch batch;
  data::render_scenes_cpu(preset, data::Split::kTrain, 0, source, 0, scenes, &batch);
  std::vector<std::pair<double, double>> wh;
  for (const SceneLabel& label : batch.labels)
    for (int i = 0; i < label.count; ++i)
      wh.emplace_back(label.box[i][2] - label.box[i][0], label.box[i][3] - label.box[i][1]);
  const auto sizes = cpu::choose_anchor_sizes(wh, k);
  if (mean_iou) *mean_iou = cpu::mean_best_anchor_iou(wh, sizes);
  std::vector<std::pair<float, float>> out;
  for (const auto& [w, h] : sizes)
    out.emplace_back(static_cast<float>(std::round(w * 100) / 100),
                     static_cast<float>(std::round(h * 100) / 100));
  return out;
}

// ---- training --------------------------------------------------------------------------------

DetectorTrainer::DetectorTrainer(const DetectorRun& run, const data::DigitBank& bank, Device device,
                                 bool cuda_graph) {
  run.validate();
  stream_ = std::make_shared<SceneStream>(bank, run.preset, data::Split::kTrain, run.seed);
  if (device == Device::kCuda) stream_->prepare_cuda();
  Graph g(true);
  feed_ = add_scene_feed(g, stream_, run.batch);
  model_ = build_detector(g, run.model, feed_.images, feed_.scene_labels);
  OptimizerState state = add_optimizer(g, build_backward(g, model_.loss), run.optimizer());
  step_ = state.step;
  lr_ = state.lr;
  nonfinite_ = add_nonfinite_flag(g, {model_.loss, state.grads});
  ExecutorOptions options;
  options.device = device;
  options.cuda_graph = cuda_graph;
  options.seed = run.seed;
  executor_ = std::make_unique<Executor>(std::move(g), options);
}

nlohmann::json DetectorTrainer::read_losses() const {
  const std::vector<float> pos = executor_->read(model_.num_pos);
  double total = 0;
  for (float p : pos) total += p;
  return {{"loss", executor_->read_scalar(model_.loss)},
          {"class_loss", executor_->read_scalar(model_.class_loss)},
          {"box_loss", executor_->read_scalar(model_.box_loss)},
          {"positives_per_image", pos.empty() ? 0.0 : total / pos.size()}};
}

float DetectorTrainer::read_lr() const {
  return executor_->read_scalar(lr_);
}

int64_t DetectorTrainer::steps_done() const {
  return read_step_counter(*executor_, step_);
}

std::string DetectorTrainer::nonfinite_what() const {
  const uint32_t mask = read_nonfinite_flag(*executor_, nonfinite_);
  return mask ? describe_nonfinite(mask, {"loss", "gradients"}) : "";
}

// ---- inference -------------------------------------------------------------------------------

DetectorPredictor::DetectorPredictor(const DetectorConfig& config, int batch, Device device)
    : config_(config), batch_(batch) {
  LOCDET_CHECK(batch >= 1, "prediction batch must be >= 1");
  Graph g(false);
  images_ = g.input("image", {batch, 1, config.height, config.width});
  model_ = build_detector(g, config, images_, Value{});
  nms_ = batched_nms(g, model_.boxes, model_.scores, config.nms);
  for (Value v : {nms_.boxes, nms_.scores, nms_.classes, nms_.count}) g.mark_output(v);
  ExecutorOptions options;
  options.device = device;
  options.cuda_graph = false;  // inputs change between calls through write(), not a device feed
  executor_ = std::make_unique<Executor>(std::move(g), options);
  input_.assign(static_cast<size_t>(batch) * config.height * config.width, 0.0f);
}

void DetectorPredictor::copy_weights_from(const Executor& trained) {
  executor_->copy_persistent_state_from(trained);
}

void DetectorPredictor::load_checkpoint(const std::string& path) {
  locdet::load_checkpoint(path, *executor_, /*strict=*/false);
}

std::vector<std::vector<Detection>> DetectorPredictor::predict(const float* images, int count) {
  LOCDET_CHECK(count >= 0 && count <= batch_, "predict: ", count, " images for a batch of ", batch_);
  const size_t pixels = static_cast<size_t>(config_.height) * config_.width;
  std::copy_n(images, count * pixels, input_.begin());
  std::fill(input_.begin() + count * pixels, input_.end(), 0.0f);
  executor_->write(images_, input_);
  executor_->step();
  auto all = unpack_detections(config_, batch_, config_.nms.max_det, executor_->read(nms_.boxes),
                               executor_->read(nms_.scores), executor_->read_i32(nms_.classes),
                               executor_->read_i32(nms_.count));
  all.resize(count);
  return all;
}

void DetectorPredictor::dump_outputs(TensorDump& dump, int count) const {
  const int64_t anchors = model_.num_anchors, max_det = config_.nms.max_det;
  dump.append("boxes", {anchors, 4}, executor_->read(model_.boxes).data(), count);
  dump.append("scores", {anchors, config_.num_classes()}, executor_->read(model_.scores).data(), count);
  dump.append("det_boxes", {max_det, 4}, executor_->read(nms_.boxes).data(), count);
  dump.append("det_scores", {max_det}, executor_->read(nms_.scores).data(), count);
  dump.append("det_classes", {max_det}, executor_->read_i32(nms_.classes).data(), count);
  dump.append("det_count", {}, executor_->read_i32(nms_.count).data(), count);
}

std::string read_checkpoint_task(const std::string& path) {
  const SafeTensorsFile file = read_safetensors(path);
  auto task = file.metadata.find(kMetaTask);
  LOCDET_CHECK(
      task != file.metadata.end() && file.metadata.count(kMetaRun), "'", path,
      "' is a safetensors file without locdet's run metadata; pass a checkpoint written by train_gpu");
  return task->second;
}

DetectorRun read_detector_run_from_checkpoint(const std::string& path) {
  const SafeTensorsFile file = read_safetensors(path);
  auto task = file.metadata.find(kMetaTask);
  auto run = file.metadata.find(kMetaRun);
  LOCDET_CHECK(
      task != file.metadata.end() && run != file.metadata.end(), "'", path,
      "' is a safetensors file without locdet's run metadata; pass a checkpoint written by train_gpu");
  LOCDET_CHECK(task->second == "detect", "'", path, "' is a checkpoint of a '", task->second,
               "' model; this needs a detector (train_gpu --task detect)");
  try {
    return DetectorRun::from_json(nlohmann::json::parse(run->second));
  } catch (const nlohmann::json::exception& e) {
    fail("'", path, "' has unreadable run metadata (", e.what(), ")");
  }
}

// ---- evaluation and overlays -------------------------------------------------------------------

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

DetectionEvaluation evaluate_detector(DetectorPredictor& predictor, const data::DigitBank& bank,
                                      const data::Preset& preset, data::Split split, uint64_t data_seed,
                                      int64_t count, int keep, std::vector<DetectionSample>* kept,
                                      TensorDump* dump) {
  const int64_t available = data::split_size(preset, split);
  if (count <= 0 || count > available) count = available;
  const DetectorConfig& config = predictor.config();
  const DetectorClassMap map = config.class_map();
  data::SceneSource source(bank, preset, split);
  data::SceneBatch scenes;
  eval::CocoEvaluator evaluator(config.num_classes());
  GridScore grid;
  const bool has_grid = preset.grid_rows > 0 && preset.grid_cols > 0;
  const size_t pixels = static_cast<size_t>(preset.height) * preset.width;
  for (int64_t first = 0; first < count; first += predictor.batch()) {
    const int n = static_cast<int>(std::min<int64_t>(predictor.batch(), count - first));
    data::render_scenes_cpu(preset, split, data_seed, source, static_cast<uint64_t>(first), n, &scenes);
    const auto detections = predictor.predict(scenes.images.data(), n);
    if (dump) {
      dump->append("image", {1, preset.height, preset.width}, scenes.images.data(), n);
      predictor.dump_outputs(*dump, n);
    }
    for (int b = 0; b < n; ++b) {
      const int64_t image = first + b;
      const SceneLabel& label = scenes.labels[b];
      if (dump) {
        float gt_boxes[kSceneMaxDigits][4] = {};
        int32_t gt_digits[kSceneMaxDigits];
        std::fill_n(gt_digits, kSceneMaxDigits, -1);
        for (int k = 0; k < std::clamp(label.count, 0, kSceneMaxDigits); ++k) {
          std::copy_n(label.box[k], 4, gt_boxes[k]);
          gt_digits[k] = label.cls[k];
        }
        dump->append("gt_boxes", {kSceneMaxDigits, 4}, &gt_boxes[0][0], 1);
        dump->append("gt_digits", {kSceneMaxDigits}, gt_digits, 1);
      }
      evaluator.add_image(image);
      for (int k = 0; k < label.count; ++k) {
        const int cls = label.cls[k] >= 0 && label.cls[k] < 10 ? map.index_of_digit[label.cls[k]] : -1;
        if (cls < 0) continue;
        const float* box = label.box[k];
        evaluator.add_ground_truth(image, cls, eval::CocoBox::from_xyxy(box[0], box[1], box[2], box[3]));
      }
      for (const Detection& d : detections[b])
        evaluator.add_detection(image, d.cls,
                                eval::CocoBox::from_xyxy(d.box[0], d.box[1], d.box[2], d.box[3]), d.score);
      if (has_grid) score_grid(label, detections[b], preset, &grid);
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

void draw_detections(io::RgbImage& image, const std::vector<Detection>& detections, int zoom,
                     float min_score) {
  for (const Detection& d : detections) {
    if (d.score < min_score) continue;
    const int x0 = static_cast<int>(std::lround(d.box[0] * zoom)),
              y0 = static_cast<int>(std::lround(d.box[1] * zoom));
    io::draw_rect(image, x0, y0, static_cast<int>(std::lround(d.box[2] * zoom)),
                  static_cast<int>(std::lround(d.box[3] * zoom)), io::kRed);
    char text[32];
    std::snprintf(text, sizeof(text), "%d %.2f", d.digit, d.score);
    io::draw_text(image, std::max(0, x0), std::max(0, y0 - 9), text, io::kRed, 1);
  }
}

void write_detector_overlay(const std::string& path, const std::vector<DetectionSample>& samples, int height,
                            int width, float min_score, int columns, int zoom) {
  std::vector<io::RgbImage> tiles;
  for (const DetectionSample& s : samples) {
    io::RgbImage tile = io::gray_to_rgb(s.image.data(), height, width, zoom);
    for (int k = 0; k < s.label.count; ++k) {
      const float* b = s.label.box[k];
      io::draw_rect(tile, static_cast<int>(b[0] * zoom), static_cast<int>(b[1] * zoom),
                    static_cast<int>(b[2] * zoom), static_cast<int>(b[3] * zoom), io::kGreen);
    }
    draw_detections(tile, s.detections, zoom, min_score);
    tiles.push_back(std::move(tile));
  }
  io::write_png(path, io::compose_grid(tiles, columns));
}

}  // namespace locdet::models
