#include "models/detector/trainer.h"

#include <cstdio>
#include <utility>

#include "models/detector/report.h"

namespace locdet::models {

DetectorTrainer::DetectorTrainer(const DetectorRun& run, const data::DigitBank& bank, Device device,
                                 bool cuda_graph)
    : DetectorTrainer(run, TrainingData(bank, run.preset, run.data_seed), device, cuda_graph) {}

DetectorTrainer::DetectorTrainer(const DetectorRun& run, TrainingData data, Device device, bool cuda_graph)
    : SceneTrainer(run, std::move(data), device), run_(run) {
  run_.validate();
  build(
      [this](Graph& g, const SceneFeed& feed) {
        model_ = build_detector(g, run_.model, feed.images, feed.scene_labels);
        return model_.loss;
      },
      cuda_graph);
}

nlohmann::json DetectorTrainer::read_losses() const {
  const Executor& ex = executor();
  const std::vector<float> pos = ex.read(model_.num_pos);
  double total = 0;
  for (float p : pos) total += p;
  return {{"loss", ex.read_scalar(model_.loss)},
          {"class_loss", ex.read_scalar(model_.class_loss)},
          {"box_loss", ex.read_scalar(model_.box_loss)},
          {"positives_per_image", pos.empty() ? 0.0 : total / pos.size()}};
}

nlohmann::json DetectorTrainer::train_record() const {
  nlohmann::json r = read_losses();
  r["lr"] = read_lr();
  return r;
}

std::string DetectorTrainer::progress_text(const nlohmann::json& r) const {
  char text[128];
  std::snprintf(text, sizeof(text), "loss %.4f cls %.4f box %.4f pos/img %.1f", r["loss"].get<double>(),
                r["class_loss"].get<double>(), r["box_loss"].get<double>(),
                r["positives_per_image"].get<double>());
  return text;
}

Validation DetectorTrainer::validate() {
  if (!validator_) validator_ = std::make_unique<DetectorPredictor>(run_.model, 250, device());
  validator_->copy_weights_from(executor());
  auto shown = std::make_shared<std::vector<DetectionSample>>();  // the first 16 images, for the overlay
  const auto val =
      evaluate_detector(*validator_, *data().images(data::Split::kVal), run_.val_count, {16, 0}, shown.get());
  Validation v;
  v.write_overlay = [this, shown](const std::string& path) {
    write_detector_overlay(path, *shown, run_.model.height, run_.model.width, kOverlayMinScore, 8, 4,
                           run_.model.label_names());
  };
  v.record = {{"map", val.coco.map},
              {"map50", val.coco.map50},
              {"map75", val.coco.map75},
              {"ar100", val.coco.ar100},
              {"score", val.coco.map}};
  char text[128];
  std::snprintf(text, sizeof(text), "AP@[.5:.95] %.4f AP50 %.4f AP75 %.4f AR@100 %.4f", val.coco.map,
                val.coco.map50, val.coco.map75, val.coco.ar100);
  v.summary = text;
  return v;
}

}  // namespace locdet::models
