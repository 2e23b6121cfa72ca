// `bench localizer [--device cpu|cuda] [--batch 64] [--width 16] [--model small] [--steps N]
// [--eager]`: throughput of the real localizer training step (models/localizer_task.h
// LocalizerTrainer: scenes rendered inside the step, forward, seed-1 loss with GIoU, backward,
// AdamW), the step users run with train_gpu. Prints images_per_second. Needs MNIST
// (data/mnist or LOCDET_MNIST_DIR).
#include <chrono>
#include <cstdio>
#include <string>

#include "apps/bench/registry.h"
#include "kernels/base/error.h"
#include "models/digits/mnist.h"
#include "models/localizer/predictor.h"
#include "models/localizer/report.h"
#include "models/localizer/run.h"
#include "models/localizer/trainer.h"

namespace locdet {
namespace {

int run_localizer_bench(const std::vector<std::string>& args) {
  Device device = Device::kCpu;
  int batch = 64, steps = 10, width = 16;
  std::string model = "small";
  bool eager = false;
  for (size_t i = 0; i < args.size(); ++i) {
    auto value = [&]() -> const std::string& {
      LOCDET_CHECK(i + 1 < args.size(), "bench localizer: ", args[i], " needs a value");
      return args[++i];
    };
    if (args[i] == "--device")
      device = parse_device(value());
    else if (args[i] == "--batch")
      batch = std::stoi(value());
    else if (args[i] == "--steps")
      steps = std::stoi(value());
    else if (args[i] == "--width")
      width = std::stoi(value());
    else if (args[i] == "--model")
      model = value();
    else if (args[i] == "--eager")
      eager = true;
    else
      fail("bench localizer: unknown argument '", args[i],
           "'; use --device cpu|cuda --batch N --width N --model small|resnet18 --steps N --eager");
  }
  LOCDET_CHECK(batch > 0 && steps > 0, "bench localizer: --batch and --steps must be positive");

  const data::DigitBank bank = data::DigitBank::from_mnist(data::load_mnist(data::default_mnist_dir()));
  models::LocalizerRun run;
  run.preset = data::find_preset("inf265-loc");
  run.model.backbone.kind = model;
  run.model.backbone.width = width;
  run.batch = batch;
  run.epochs = 1;
  run.steps_per_epoch = steps + 3;
  models::LocalizerTrainer trainer(run, bank, device, !eager);
  Executor& ex = trainer.executor();

  for (int i = 0; i < 3; ++i) trainer.step();  // warm-up (and CUDA Graph capture)
  ex.synchronize();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) trainer.step();
  ex.synchronize();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("device: %s\nmode: %s\nmodel: %s width %d\nbatch: %d\nsteps: %d\narena_mib: %.2f\nloss: %.4f\n",
              device_name(device), ex.mode().c_str(), model.c_str(), width, batch, steps,
              ex.plan().arena_bytes / 1048576.0, trainer.read_losses()["loss"].get<float>());
  std::printf("step_ms: %.3f\nimages_per_second: %.1f\n", 1e3 * seconds / steps, batch * steps / seconds);
  return 0;
}

LOCDET_BENCHMARK(
    "localizer",
    "training-step throughput of the localizer (--device cpu|cuda --batch --width --model --steps --eager)",
    run_localizer_bench);

}  // namespace
}  // namespace locdet
