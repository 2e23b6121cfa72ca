// The whole localizer on the CUDA backend against the CPU backend: a few training steps of the
// real trainer (scene feed, targets, backbone, cell head, losses, AdamW), losses within 1e-3
// relative (cuDNN vs im2col+sgemm rounding grows through AdamW updates), the batch's accuracy and
// mean IoU within 1e-3, and CUDA Graph replay equal to eager launches, bit for bit. Under the CUDA emulation
// this runs in every CI run.
#include <gtest/gtest.h>

#include <cmath>

#include "models/digits/mnist.h"
#include "models/localizer/run.h"
#include "models/localizer/trainer.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/test_scene_helpers.h"

namespace locdet {
namespace {

TEST(LocalizerCuda, TrainingStepsMatchCpuAndGraphReplayEqualsEager) {
  LOCDET_REQUIRE_GPU();
  const data::DigitBank* bank = test::mnist_bank();
  if (!bank) GTEST_SKIP() << "no MNIST";
  models::LocalizerRun run;
  run.preset = data::find_preset("inf265-loc");
  run.model.backbone.width = 8;
  run.batch = 16;
  run.epochs = 1;
  run.steps_per_epoch = 4;
  run.warmup_steps = 2;
  models::LocalizerTrainer cpu(run, *bank, Device::kCpu);
  models::LocalizerTrainer eager(run, *bank, Device::kCuda, /*cuda_graph=*/false);
  models::LocalizerTrainer graph(run, *bank, Device::kCuda, /*cuda_graph=*/true);
  for (int s = 0; s < 4; ++s) {
    cpu.step();
    eager.step();
    graph.step();
    const nlohmann::json ref = cpu.read_losses(), got = eager.read_losses();
    for (const auto& [part, value] : ref.items()) {
      const double r = value.get<double>();
      EXPECT_NEAR(got.at(part).get<double>(), r, 1e-3 * std::fabs(r) + 1e-6) << part << ", step " << s;
    }
    EXPECT_EQ(graph.read_losses().dump(), got.dump()) << "step " << s;
    // Accuracy over the batch moves by 1/16 per flipped answer; mean IoU by rounding only.
    const nlohmann::json ref_metrics = cpu.read_batch_metrics(), got_metrics = eager.read_batch_metrics();
    for (const auto& [name, value] : ref_metrics.items())
      EXPECT_NEAR(got_metrics.at(name).get<double>(), value.get<double>(), 1e-3) << name << ", step " << s;
  }
}

}  // namespace
}  // namespace locdet
