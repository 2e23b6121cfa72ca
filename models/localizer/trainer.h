// The localizer's training task: scene feed -> localizer labels -> localizer -> loss, on the
// shared chain of models/trainer.h; it logs the losses, the batch's accuracy and IoU, and
// validates on the validation split with the first seed's performance as the score.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "models/localizer/predictor.h"
#include "models/localizer/run.h"
#include "models/trainer.h"

namespace locdet::models {

class LocalizerTrainer : public SceneTrainer {
 public:
  // On the run's preset (rendered scenes from `bank`) or on `data` (the run's dataset).
  LocalizerTrainer(const LocalizerRun& run, const data::DigitBank& bank, Device device,
                   bool cuda_graph = true);
  LocalizerTrainer(const LocalizerRun& run, TrainingData data, Device device, bool cuda_graph = true);
  const LocalizerRun& run() const { return run_; }
  const Localizer& model() const { return model_; }
  // Loss and its parts of the last step (a device-to-host read: call every N steps).
  nlohmann::json read_losses() const;
  // The seed's accuracy and mean IoU on the last training batch (also a device read).
  nlohmann::json read_batch_metrics() const;

  // TrainingTask
  std::string task_name() const override { return "localize"; }
  nlohmann::json run_json() const override { return run_.to_json(); }
  nlohmann::json train_record() const override;
  std::string progress_text(const nlohmann::json& record) const override;
  Validation validate() override;

 private:
  LocalizerRun run_;
  Value labels_;
  Localizer model_;
  std::unique_ptr<LocalizerPredictor> validator_;  // made on the first validate()
};

}  // namespace locdet::models
