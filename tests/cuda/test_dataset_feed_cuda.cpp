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
#include "models/training_data.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/test_dataset_helpers.h"

namespace {

using namespace locdet;
TEST(DatasetFeedCuda, DetectorOnFilesMatchesCpuAndGraphReplayEqualsEager) {
  LOCDET_REQUIRE_GPU();
  const std::string dir = test::export_tiny("cuda", "det10", "png,coco", 48);
  const models::LoadedDataset loaded = models::load_training_dataset(dir, "", 0, 0, 0.25, 0, "default");
  const models::DetectorRun run = test::small_detector_run(loaded, 4);
  auto data = [&] { return models::TrainingData(loaded.dataset, run.data, 0); };
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
  std::filesystem::remove_all(dir);
}

}  // namespace
