#include "models/localizer_task.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/autodiff.h"
#include "engine/checkpoint.h"
#include "engine/core/error.h"
#include "engine/io/image.h"
#include "engine/nonfinite.h"
#include "engine/optim.h"
#include "kernels/common/localizer_targets.h"

namespace locdet::models {

// ---- LocalizerRun -----------------------------------------------------------------------

nlohmann::json LocalizerRun::to_json() const {
  return to_json_as("localize", model.to_json());
}

LocalizerRun LocalizerRun::from_json(const nlohmann::json& j) {
  return from_json_as<LocalizerRun>(j, "localize");
}

void LocalizerRun::validate() const {
  model.validate();
  LOCDET_CHECK(preset.task == "localization", "preset '", preset.name, "' is a ", preset.task,
               " preset; the localizer trains on localization presets (inf265-loc, ayulockin-loc)");
  LOCDET_CHECK(preset.height == model.height && preset.width == model.width, "preset '", preset.name, "' is ",
               preset.height, "x", preset.width, " but the model expects ", model.height, "x", model.width);
  validate_schedule();
}

void fit_anchor_to_preset(LocalizerConfig& config, const data::DigitBank& bank, const data::Preset& preset,
                          int samples) {
  data::SceneSource source(bank, preset, data::Split::kTrain);
  data::SceneBatch scenes;
  data::render_scenes_cpu(preset, data::Split::kTrain, /*seed=*/0, source, 0, samples, &scenes,
                          data::SceneMode::kEndless);
  std::vector<float> widths, heights;
  for (const SceneLabel& label : scenes.labels) {
    for (int k = 0; k < label.count; ++k) {
      widths.push_back((label.box[k][2] - label.box[k][0]) / preset.width);
      heights.push_back((label.box[k][3] - label.box[k][1]) / preset.height);
    }
  }
  LOCDET_CHECK(!widths.empty(), "preset '", preset.name, "' rendered no digits in ", samples, " scenes");
  auto median = [](std::vector<float>& v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  config.anchor_w = median(widths);
  config.anchor_h = median(heights);
}

// ---- training ---------------------------------------------------------------------------

LocalizerTrainer::LocalizerTrainer(const LocalizerRun& run, const data::DigitBank& bank, Device device,
                                   bool cuda_graph) {
  run.validate();
  stream_ = std::make_shared<SceneStream>(bank, run.preset, data::Split::kTrain, run.seed);
  if (device == Device::kCuda) stream_->prepare_cuda();
  Graph g(true);
  feed_ = add_scene_feed(g, stream_, run.batch);
  labels_ = localizer_labels(g, feed_.scene_labels, run.preset.height, run.preset.width);
  g.mark_output(labels_);
  model_ = build_localizer(g, run.model, feed_.images, labels_);
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

bool LocalizerTrainer::nonfinite_seen() const {
  return read_nonfinite_flag(*executor_, nonfinite_) != 0;
}

std::string LocalizerTrainer::nonfinite_what() const {
  const uint32_t mask = read_nonfinite_flag(*executor_, nonfinite_);
  return mask ? describe_nonfinite(mask, {"loss", "gradients"}) : "";
}

nlohmann::json LocalizerTrainer::read_losses() const {
  return {{"loss", executor_->read_scalar(model_.loss)},
          {"presence_loss", executor_->read_scalar(model_.presence_loss)},
          {"location_loss", executor_->read_scalar(model_.location_loss)},
          {"class_loss", executor_->read_scalar(model_.class_loss)},
          {"box_loss", executor_->read_scalar(model_.box_loss)}};
}

nlohmann::json LocalizerTrainer::read_batch_metrics() const {
  const Executor& ex = *executor_;
  const int batch = static_cast<int>(ex.graph().shape(labels_)[0]);
  const int cells = model_.grid_h * model_.grid_w;
  const auto predictions =
      decode_localizer(batch, cells, ex.read(model_.presence_logit), ex.read(model_.location_logits),
                       ex.read(model_.class_logits), ex.read(model_.boxes));
  const std::vector<float> labels = ex.read(labels_);
  eval::LocalizationEvaluator evaluator;
  for (int n = 0; n < batch; ++n) {
    const float* l = &labels[static_cast<size_t>(n) * kLocalizerLabelSize];
    const float truth[4] = {l[1] - l[3] / 2, l[2] - l[4] / 2, l[1] + l[3] / 2, l[2] + l[4] / 2};
    const LocalizerPrediction& p = predictions[n];
    evaluator.add(p.presence_logit, p.digit, p.box, l[0] > 0.5f, static_cast<int>(l[5]), truth);
  }
  const eval::LocalizationReport report = evaluator.report();
  return {{"accuracy", report.accuracy}, {"mean_iou", report.mean_iou}};
}

float LocalizerTrainer::read_lr() const {
  return executor_->read_scalar(lr_);
}

int64_t LocalizerTrainer::steps_done() const {
  return read_step_counter(*executor_, step_);
}

// ---- inference --------------------------------------------------------------------------

LocalizerPredictor::LocalizerPredictor(const LocalizerConfig& config, int batch, Device device)
    : config_(config), batch_(batch) {
  LOCDET_CHECK(batch >= 1, "prediction batch must be >= 1");
  Graph g(false);
  images_ = g.input("image", {batch, 1, config.height, config.width});
  model_ = build_localizer(g, config, images_, Value{});
  ExecutorOptions options;
  options.device = device;
  options.cuda_graph = false;  // inputs change between calls through write(), not a device feed
  executor_ = std::make_unique<Executor>(std::move(g), options);
  input_.assign(static_cast<size_t>(batch) * config.height * config.width, 0.0f);
}

void LocalizerPredictor::copy_weights_from(const Executor& trained) {
  executor_->copy_persistent_state_from(trained);
}

void LocalizerPredictor::load_checkpoint(const std::string& path) {
  locdet::load_checkpoint(path, *executor_, /*strict=*/false);
}

std::vector<LocalizerPrediction> LocalizerPredictor::predict(const float* images, int count) {
  LOCDET_CHECK(count >= 0 && count <= batch_, "predict: ", count, " images for a batch of ", batch_);
  const size_t pixels = static_cast<size_t>(config_.height) * config_.width;
  std::copy_n(images, count * pixels, input_.begin());
  std::fill(input_.begin() + count * pixels, input_.end(), 0.0f);
  executor_->write(images_, input_);
  executor_->step();
  const int cells = model_.grid_h * model_.grid_w;
  auto all = decode_localizer(batch_, cells, executor_->read(model_.presence_logit),
                              executor_->read(model_.location_logits), executor_->read(model_.class_logits),
                              executor_->read(model_.boxes));
  all.resize(count);
  return all;
}

void LocalizerPredictor::dump_outputs(TensorDump& dump, int count) const {
  const int64_t cells = static_cast<int64_t>(model_.grid_h) * model_.grid_w;
  dump.append("presence_logit", {1}, executor_->read(model_.presence_logit).data(), count);
  dump.append("location_logits", {cells}, executor_->read(model_.location_logits).data(), count);
  dump.append("class_logits", {cells, 10}, executor_->read(model_.class_logits).data(), count);
  dump.append("boxes", {cells, 4}, executor_->read(model_.boxes).data(), count);
}

LocalizerRun read_run_from_checkpoint(const std::string& path) {
  const SafeTensorsFile file = read_safetensors(path);
  auto task = file.metadata.find(kMetaTask);
  auto run = file.metadata.find(kMetaRun);
  LOCDET_CHECK(
      task != file.metadata.end() && run != file.metadata.end(), "'", path,
      "' is a safetensors file without locdet's run metadata; pass a checkpoint written by train_gpu");
  LOCDET_CHECK(task->second == "localize", "'", path, "' is a checkpoint of a '", task->second,
               "' model; this command needs a localizer (train_gpu --task localize)");
  try {
    return LocalizerRun::from_json(nlohmann::json::parse(run->second));
  } catch (const nlohmann::json::exception& e) {
    fail("'", path, "' has unreadable run metadata (", e.what(), ")");
  }
}

// ---- evaluation and overlays ------------------------------------------------------------

eval::LocalizationReport evaluate_localizer(LocalizerPredictor& predictor, const data::DigitBank& bank,
                                            const data::Preset& preset, data::Split split, uint64_t data_seed,
                                            int64_t count, int keep, std::vector<SampleResult>* kept,
                                            TensorDump* dump) {
  const int64_t available = data::split_size(preset, split);
  if (count <= 0 || count > available) count = available;
  data::SceneSource source(bank, preset, split);
  data::SceneBatch scenes;
  eval::LocalizationEvaluator evaluator;
  const size_t pixels = static_cast<size_t>(preset.height) * preset.width;
  for (int64_t first = 0; first < count; first += predictor.batch()) {
    const int n = static_cast<int>(std::min<int64_t>(predictor.batch(), count - first));
    data::render_scenes_cpu(preset, split, data_seed, source, static_cast<uint64_t>(first), n, &scenes);
    const auto predictions = predictor.predict(scenes.images.data(), n);
    if (dump) {
      dump->append("image", {1, preset.height, preset.width}, scenes.images.data(), n);
      predictor.dump_outputs(*dump, n);
    }
    for (int b = 0; b < n; ++b) {
      float label[kLocalizerLabelSize];
      scene_label_to_localizer(scenes.labels[b], preset.height, preset.width, label);
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

void write_localizer_overlay(const std::string& path, const std::vector<SampleResult>& samples, int height,
                             int width, int columns, int zoom) {
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
      std::snprintf(text, sizeof(text), "%d %.0f%%", p.digit, 100.0f * p.confidence * p.presence);
    } else {
      std::snprintf(text, sizeof(text), "none %.0f%%", 100.0f * (1.0f - p.presence));
    }
    io::draw_text(tile, 2, 2, text, io::kRed, 2);
    tiles.push_back(std::move(tile));
  }
  io::write_png(path, io::compose_grid(tiles, columns));
}

}  // namespace locdet::models
