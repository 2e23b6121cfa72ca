// Training from files (models/training_data, models/dataset_feed): a tiny dataset exported with
// make_dataset's code, loaded back, trained on the CPU for a few dozen steps; the loss must fall.
// Also: the feed's batch is the augmentation of the cursor's samples, a resumed run continues the
// same batches bit for bit, and evaluation reads the dataset's own images.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/checkpoint.h"
#include "kernels/cpu/augment.h"
#include "models/dataset_feed.h"
#include "models/detector/report.h"
#include "models/detector/run.h"
#include "models/detector/trainer.h"
#include "models/localizer/report.h"
#include "models/localizer/run.h"
#include "models/localizer/trainer.h"
#include "models/training_data.h"
#include "tests/test_dataset_helpers.h"

namespace {

using namespace locdet;
namespace fs = std::filesystem;

using test::export_tiny;
using test::mean_of;

models::LocalizerRun localizer_run(const models::LoadedDataset& loaded) {
  models::LocalizerRun run;
  run.data = loaded.spec;
  run.model.height = run.data.height;
  run.model.width = run.data.width;
  run.model.class_names = run.data.classes;
  run.model.backbone.width = 8;
  run.batch = 16;
  run.epochs = 1;
  run.steps_per_epoch = 40;
  run.warmup_steps = 5;
  run.lr = 3e-3f;
  models::fit_anchor_to_boxes(run.model,
                              models::TrainingData(loaded.dataset, run.data, 0).training_box_sizes(100));
  return run;
}

TEST(TrainOnFiles, LocalizerLossFallsOnAnExportedCocoDataset) {
  const std::string dir = export_tiny("loc", "inf265-loc", "png,coco", 96);
  const models::LoadedDataset loaded = models::load_training_dataset(dir, "", 0, 0, 0.25, 0, "default");
  EXPECT_EQ(loaded.spec.format, "coco");
  EXPECT_EQ(loaded.spec.height, 48);
  EXPECT_EQ(loaded.spec.width, 60);
  EXPECT_EQ(loaded.spec.train_images, 72);
  EXPECT_EQ(loaded.spec.val_images, 24);
  const models::LocalizerRun run = localizer_run(loaded);
  models::LocalizerTrainer trainer(run, models::TrainingData(loaded.dataset, run.data, 0), Device::kCpu);
  const std::vector<double> losses = test::losses_of_steps(trainer, 40);
  const double first = mean_of(losses, 0, 8), last = mean_of(losses, 32, 8);
  std::printf("[ localizer on files ] mean loss of steps 1-8 %.4f, of steps 33-40 %.4f\n", first, last);
  EXPECT_LT(last, 0.75 * first);
  // Validation scores the held-out images, unaugmented.
  const Validation v = trainer.validate();
  EXPECT_TRUE(v.record.contains("score"));
  fs::remove_all(dir);
}

TEST(TrainOnFiles, DetectorLossFallsOnAnExportedYoloDataset) {
  const std::string dir = export_tiny("det", "det10", "png,yolo", 96);
  const models::LoadedDataset loaded = models::load_training_dataset(dir, "", 0, 0, 0.25, 0, "default");
  EXPECT_EQ(loaded.spec.format, "yolo");
  EXPECT_EQ(loaded.spec.classes.size(), 10u);
  const models::DetectorRun run = test::small_detector_run(loaded, 40);
  models::DetectorTrainer trainer(run, models::TrainingData(loaded.dataset, run.data, 0), Device::kCpu);
  const std::vector<double> losses = test::losses_of_steps(trainer, 40);
  const double first = mean_of(losses, 0, 8), last = mean_of(losses, 32, 8);
  std::printf("[ detector on files ] mean loss of steps 1-8 %.4f, of steps 33-40 %.4f\n", first, last);
  EXPECT_LT(last, 0.75 * first);
  fs::remove_all(dir);
}

// The feed node fills exactly cpu::augment_batch of samples [step * B, (step + 1) * B).
TEST(TrainOnFiles, FeedBatchIsTheAugmentationOfTheCursorsSamples) {
  const std::string dir = export_tiny("feed", "det10", "png,coco", 20);
  const models::LoadedDataset loaded = models::load_training_dataset(dir, "", 0, 0, 0.2, 0, "default");
  const models::TrainingData data(loaded.dataset, loaded.spec, 0);
  const DatasetSplits splits = split_dataset(*loaded.dataset, 0.2, 0);
  auto stream =
      std::make_shared<models::DatasetStream>(*loaded.dataset, splits.train, loaded.spec.augment, 7);
  Graph g(true);
  const models::SceneFeed feed = models::add_dataset_feed(g, stream, 6);
  g.mark_output(feed.images);
  g.mark_output(feed.scene_labels);
  ExecutorOptions options;
  Executor ex(std::move(g), options);
  const int plane = loaded.spec.height * loaded.spec.width;
  for (uint64_t step = 0; step < 4; ++step) {  // 24 samples of 16 images: the second epoch starts
    ex.step();
    std::vector<float> expected(6 * plane);
    std::vector<SceneLabel> labels(6);
    cpu::augment_batch(loaded.spec.augment, stream->host_view(), dataset_key(7), step * 6, nullptr, 6,
                       expected.data(), labels.data());
    EXPECT_EQ(ex.read(feed.images), expected) << "step " << step;
    const std::vector<int32_t> rows = ex.read_i32(feed.scene_labels);
    ASSERT_EQ(rows.size(), 6 * sizeof(SceneLabel) / 4);
    EXPECT_EQ(std::memcmp(rows.data(), labels.data(), rows.size() * 4), 0) << "step " << step;
  }
  fs::remove_all(dir);
}

// --resume on files: k steps, checkpoint, a fresh trainer restores it and runs k more; the result
// equals 2k uninterrupted steps bit for bit (the cursor picks up the same augmented batches).
TEST(TrainOnFiles, ResumedRunEqualsUninterruptedRun) {
  const std::string dir = export_tiny("resume", "inf265-loc", "png,coco", 40);
  const models::LoadedDataset loaded = models::load_training_dataset(dir, "", 0, 0, 0.25, 0, "default");
  models::LocalizerRun run = localizer_run(loaded);
  run.batch = 8;
  run.model.backbone.width = 4;
  run.steps_per_epoch = 6;
  const std::string path = (fs::temp_directory_path() / "locdet_resume_files.safetensors").string();
  auto data = [&] { return models::TrainingData(loaded.dataset, run.data, 0); };
  models::LocalizerTrainer straight(run, data(), Device::kCpu);
  for (int s = 0; s < 6; ++s) straight.step();
  {
    models::LocalizerTrainer first(run, data(), Device::kCpu);
    for (int s = 0; s < 3; ++s) first.step();
    save_checkpoint(path, first.executor(), {});
  }
  models::LocalizerTrainer resumed(run, data(), Device::kCpu);
  load_checkpoint(path, resumed.executor(), /*strict=*/true);
  for (int s = 0; s < 3; ++s) resumed.step();
  fs::remove(path);
  EXPECT_EQ(resumed.read_losses().dump(), straight.read_losses().dump());
  for (Value v : straight.executor().graph().persistent_state()) {
    const std::string& name = straight.executor().graph().info(v).name;
    EXPECT_EQ(straight.executor().read_bytes(v),
              resumed.executor().read_bytes(resumed.executor().graph().find(name)))
        << name;
  }
  fs::remove_all(dir);
}

// The run's config round-trips its dataset, and a run whose dataset changed is refused on resume.
TEST(TrainOnFiles, ConfigKeepsTheDatasetAndAChangedDatasetIsRefused) {
  const std::string dir = export_tiny("config", "inf265-loc", "png,coco,csv", 20);
  const models::LoadedDataset loaded = models::load_training_dataset(dir, "", 0, 0, 0.25, 0, "none");
  const models::LocalizerRun run = localizer_run(loaded);
  const models::LocalizerRun back = models::LocalizerRun::from_json(run.to_json());
  EXPECT_EQ(back.to_json().dump(), run.to_json().dump());
  EXPECT_TRUE(back.on_files());
  EXPECT_EQ(back.data.augment.scale_max, 1.0f);
  EXPECT_EQ(back.epoch_steps(), 40);  // steps_per_epoch as set
  EXPECT_NE(run.to_json().dump().find("letterbox"), std::string::npos);
  EXPECT_NO_THROW(models::reload_training_dataset(run.data, 0));
  // The CSV that make_dataset wrote describes the same images: an extra image there means another dataset.
  models::DatasetSpec csv = run.data;
  csv.format = "csv";
  EXPECT_NO_THROW(models::reload_training_dataset(csv, 0));
  // One image fewer in the annotations: another dataset.
  const fs::path annotations = fs::path(dir) / "annotations.json";
  nlohmann::json coco = nlohmann::json::parse(std::ifstream(annotations));
  coco["images"].erase(coco["images"].size() - 1);
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& a : coco["annotations"])
    if (a["image_id"] != 20) kept.push_back(a);
  coco["annotations"] = kept;
  std::ofstream(annotations) << coco.dump();
  try {
    models::reload_training_dataset(run.data, 0);
    ADD_FAILURE() << "a changed dataset was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("changed since this run started"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(TrainOnFiles, LocalizationRefusesImagesWithSeveralBoxes) {
  const std::string dir = export_tiny("several", "det10", "png,coco", 12);
  const models::LoadedDataset loaded = models::load_training_dataset(dir, "", 0, 0, 0.25, 0, "default");
  try {
    models::require_at_most_one_box(*loaded.dataset);
    ADD_FAILURE() << "a detection dataset was accepted for localization";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a localizer learns zero or one object per image"),
              std::string::npos);
    EXPECT_NE(std::string(e.what()).find("--task detect"), std::string::npos);
  }
  fs::remove_all(dir);
}

TEST(DatasetMemory, ShortfallNamesTheSizeNeeded) {
  EXPECT_EQ(models::dataset_memory_shortfall(100, 200), "");
  const std::string message = models::dataset_memory_shortfall(int64_t{300} << 20, int64_t{100} << 20);
  EXPECT_NE(message.find("need 300.0 MiB of GPU memory but only 100.0 MiB are free"), std::string::npos)
      << message;
  EXPECT_NE(message.find("--device cpu"), std::string::npos) << message;
}

}  // namespace
