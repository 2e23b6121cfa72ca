// The detector's training task: scene feed -> detector -> targets (anchor matching on the
// device) + focal and IoU-family losses, on the shared chain of models/trainer.h; it logs the
// losses and positives per image, and validates with COCO AP@[.5:.95] as the score.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "models/detector/predictor.h"
#include "models/detector/run.h"
#include "models/trainer.h"

namespace locdet::models {

class DetectorTrainer : public SceneTrainer {
 public:
  // On the run's preset (rendered scenes from `bank`) or on `data` (the run's dataset).
  DetectorTrainer(const DetectorRun& run, const data::DigitBank& bank, Device device, bool cuda_graph = true);
  DetectorTrainer(const DetectorRun& run, TrainingData data, Device device, bool cuda_graph = true);
  const DetectorRun& run() const { return run_; }
  const Detector& model() const { return model_; }
  // Loss, its parts and the mean positives per image of the last step (a device read).
  nlohmann::json read_losses() const;

  // TrainingTask
  std::string task_name() const override { return "detect"; }
  nlohmann::json run_json() const override { return run_.to_json(); }
  nlohmann::json train_record() const override;
  std::string progress_text(const nlohmann::json& record) const override;
  Validation validate() override;

 private:
  DetectorRun run_;
  Detector model_;
  std::unique_ptr<DetectorPredictor> validator_;  // made on the first validate()
};

}  // namespace locdet::models
