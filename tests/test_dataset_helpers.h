// Shared by the tests that train from files (tests/test_train_dataset.cpp,
// tests/cuda/test_dataset_feed_cuda.cpp): a tiny exported dataset and a small run on it.
#pragma once

#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "models/detector/run.h"
#include "models/digits/export.h"
#include "models/training_data.h"
#include "tests/test_scene_helpers.h"

namespace locdet::test {

// MNIST digits when present (CI has them), else the synthetic squares.
inline const data::DigitBank& export_digits() {
  static const data::DigitBank synthetic = synthetic_bank();
  const data::DigitBank* mnist = mnist_bank();
  return mnist ? *mnist : synthetic;
}

// Exports `count` training scenes of `preset` into a fresh temp folder (as make_dataset does).
inline std::string export_tiny(const std::string& name, const std::string& preset, const std::string& formats,
                               int count) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("locdet_train_files_" + name);
  std::filesystem::remove_all(dir);
  data::ExportOptions options;
  options.formats = data::parse_formats(formats);
  data::export_dataset(data::find_preset(preset), data::Split::kTrain, 0, count, dir.string(),
                       export_digits(), options);
  return dir.string();
}

// A detector of width 8, batch 16, `steps` steps, on the loaded dataset (anchors from its boxes).
inline models::DetectorRun small_detector_run(const models::LoadedDataset& loaded, int steps) {
  models::DetectorRun run;
  run.data = loaded.spec;
  run.model.height = run.data.height;
  run.model.width = run.data.width;
  run.model.classes.clear();
  for (size_t c = 0; c < run.data.classes.size(); ++c) run.model.classes.push_back(static_cast<int>(c));
  run.model.class_names = run.data.classes;
  run.model.backbone.width = 8;
  run.batch = 16;
  run.epochs = 1;
  run.steps_per_epoch = steps;
  run.warmup_steps = 5;
  run.lr = 3e-3f;
  const models::TrainingData data(loaded.dataset, run.data, 0);
  run.model.anchor_sizes = models::choose_anchors_for_boxes(data.training_box_sizes(100), 3);
  return run;
}

// The loss after each of `steps` steps.
template <class Trainer>
std::vector<double> losses_of_steps(Trainer& trainer, int steps) {
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    trainer.step();
    losses.push_back(trainer.read_losses()["loss"].template get<double>());
  }
  return losses;
}

inline double mean_of(const std::vector<double>& v, size_t first, size_t count) {
  return std::accumulate(v.begin() + first, v.begin() + first + count, 0.0) / count;
}

}  // namespace locdet::test
