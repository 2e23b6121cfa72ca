// Training from files on the GPU: the dataset uploaded once, batches augmented on the device.
// A detector trained on a tiny exported dataset gives the CPU's loss curve (tolerance 1e-3
// relative, as the scene-fed detector test: cuDNN convolutions sum in another order), the
// captured CUDA Graph replays exactly what eager launches do, and the device memory the
// training images take is reported.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "models/detector/run.h"
#include "models/detector/trainer.h"
#include "models/digits/export.h"
#include "models/training_data.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/test_scene_helpers.h"

namespace {

using namespace locdet;
namespace fs = std::filesystem;

TEST(DatasetFeedCuda, DetectorOnFilesMatchesCpuAndGraphReplayEqualsEager) {
  LOCDET_REQUIRE_GPU();
  const data::DigitBank synthetic = test::synthetic_bank();
  const data::DigitBank* mnist = test::mnist_bank();
  const fs::path dir = fs::temp_directory_path() / "locdet_dataset_feed_cuda";
  fs::remove_all(dir);
  data::export_dataset(data::find_preset("det10"), data::Split::kTrain, 0, 48, dir.string(),
                       mnist ? *mnist : synthetic);
  const models::LoadedDataset loaded =
      models::load_training_dataset(dir.string(), "", 0, 0, 0.25, 0, "default");
  models::DetectorRun run;
  run.data = loaded.spec;
  run.model.height = run.data.height;
  run.model.width = run.data.width;
  run.model.class_names = run.data.classes;
  run.model.backbone.width = 8;
  run.batch = 16;
  run.epochs = 1;
  run.steps_per_epoch = 4;
  run.warmup_steps = 2;
  auto data = [&] { return models::TrainingData(loaded.dataset, run.data, 0); };
  run.model.anchor_sizes = models::choose_anchors_for_boxes(data().training_box_sizes(100), 3);
  models::DetectorTrainer cpu(run, data(), Device::kCpu);
  models::DetectorTrainer eager(run, data(), Device::kCuda, /*cuda_graph=*/false);
  models::DetectorTrainer graph(run, data(), Device::kCuda, /*cuda_graph=*/true);
  EXPECT_EQ(eager.data().device_bytes(), 36 * 48 * 60 + 36 * static_cast<int64_t>(sizeof(SceneLabel)));
  for (int s = 0; s < 4; ++s) {
    cpu.step();
    eager.step();
    graph.step();
    const double ref = cpu.read_losses()["loss"], got = eager.read_losses()["loss"];
    EXPECT_NEAR(got, ref, 1e-3 * std::fabs(ref)) << "step " << s;
    EXPECT_EQ(graph.read_losses().dump(), eager.read_losses().dump()) << "step " << s;
    EXPECT_EQ(cpu.executor().read_i32(cpu.model().assigned),
              eager.executor().read_i32(eager.model().assigned))
        << "anchor assignments (the augmented boxes), step " << s;
  }
  fs::remove_all(dir);
}

}  // namespace
