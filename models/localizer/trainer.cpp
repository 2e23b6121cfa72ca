#include "models/localizer/trainer.h"

#include <cstdio>
#include <utility>

#include "kernels/common/localizer_targets.h"
#include "models/localizer/report.h"

namespace locdet::models {

LocalizerTrainer::LocalizerTrainer(const LocalizerRun& run, const data::DigitBank& bank, Device device,
                                   bool cuda_graph)
    : LocalizerTrainer(run, TrainingData(bank, run.preset, run.data_seed), device, cuda_graph) {}

LocalizerTrainer::LocalizerTrainer(const LocalizerRun& run, TrainingData data, Device device, bool cuda_graph)
    : SceneTrainer(run, std::move(data), device), run_(run) {
  run_.validate();
  build(
      [this](Graph& g, const SceneFeed& feed) {
        labels_ = localizer_labels(g, feed.scene_labels, run_.model.height, run_.model.width);
        g.mark_output(labels_);
        model_ = build_localizer(g, run_.model, feed.images, labels_);
        return model_.loss;
      },
      cuda_graph);
}

nlohmann::json LocalizerTrainer::read_losses() const {
  const Executor& ex = executor();
  nlohmann::json losses = {{"loss", ex.read_scalar(model_.loss)},
                           {"presence_loss", ex.read_scalar(model_.presence_loss)},
                           {"location_loss", ex.read_scalar(model_.location_loss)},
                           {"class_loss", ex.read_scalar(model_.class_loss)},
                           {"box_loss", ex.read_scalar(model_.box_loss)}};
  if (model_.dfl_loss) losses["dfl_loss"] = ex.read_scalar(model_.dfl_loss);
  return losses;
}

nlohmann::json LocalizerTrainer::read_batch_metrics() const {
  const Executor& ex = executor();
  const int batch = static_cast<int>(ex.graph().shape(labels_)[0]);
  const int cells = model_.grid_h * model_.grid_w;
  const auto predictions =
      decode_localizer(batch, cells, run_.model.num_classes(), ex.read(model_.presence_logit),
                       ex.read(model_.location_logits), ex.read(model_.class_logits), ex.read(model_.boxes));
  const std::vector<float> labels = ex.read(labels_);
  eval::LocalizationEvaluator evaluator(run_.model.class_names);
  for (int n = 0; n < batch; ++n) {
    const float* l = &labels[static_cast<size_t>(n) * kLocalizerLabelSize];
    const float truth[4] = {l[1] - l[3] / 2, l[2] - l[4] / 2, l[1] + l[3] / 2, l[2] + l[4] / 2};
    const LocalizerPrediction& p = predictions[n];
    evaluator.add(p.presence_logit, p.digit, p.box, l[0] > 0.5f, static_cast<int>(l[5]), truth);
  }
  const eval::LocalizationReport report = evaluator.report();
  return {{"accuracy", report.accuracy}, {"mean_iou", report.mean_iou}};
}

nlohmann::json LocalizerTrainer::train_record() const {
  nlohmann::json r = read_losses();
  r.update(read_batch_metrics());
  r["lr"] = read_lr();
  return r;
}

std::string LocalizerTrainer::progress_text(const nlohmann::json& r) const {
  char text[128];
  std::snprintf(text, sizeof(text), "loss %.4f acc %.1f%% iou %.3f", r["loss"].get<double>(),
                100.0 * r["accuracy"].get<double>(), r["mean_iou"].get<double>());
  return text;
}

Validation LocalizerTrainer::validate() {
  if (!validator_) validator_ = std::make_unique<LocalizerPredictor>(run_.model, 250, device());
  validator_->copy_weights_from(executor());
  auto shown = std::make_shared<std::vector<SampleResult>>();  // the first 16 images, for the overlay
  const auto val = evaluate_localizer(*validator_, *data().images(data::Split::kVal), run_.val_count, {16, 0},
                                      shown.get());
  Validation v;
  v.write_overlay = [this, shown](const std::string& path) {
    write_localizer_overlay(path, *shown, run_.model.height, run_.model.width, 8, 3, run_.model.class_names);
  };
  v.record = {{"accuracy", val.accuracy},
              {"mean_iou", val.mean_iou},
              {"performance", val.performance},
              {"presence_accuracy", val.presence_accuracy},
              {"score", val.performance}};
  char text[128];
  std::snprintf(text, sizeof(text), "accuracy %.2f%% mean IoU %.4f performance %.4f", 100.0 * val.accuracy,
                val.mean_iou, val.performance);
  v.summary = text;
  return v;
}

}  // namespace locdet::models
