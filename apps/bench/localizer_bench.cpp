// `bench localizer [--device cpu|cuda] [--batch 64] [--width 16] [--model small] [--steps N]
// [--eager] [--profile-step]`: throughput of the real localizer training step
// (models/localizer/trainer.h LocalizerTrainer: scenes rendered inside the step, forward, seed-1 loss
// with GIoU, backward, AdamW), the step users run with train_gpu. Prints images_per_second. Needs
// MNIST (data/mnist or LOCDET_MNIST_DIR).
#include <cstdio>
#include <string>

#include "apps/bench/registry.h"
#include "apps/bench/training_step.h"
#include "models/digits/mnist.h"
#include "models/localizer/trainer.h"

namespace locdet {
namespace {

struct LocalizerBenchOptions : bench::TrainingStepOptions {
  LocalizerBenchOptions() { steps = 10; }
  int width = 16;
  std::string model = "small";
};

void add_localizer_options(CLI::App& command, LocalizerBenchOptions& o) {
  bench::add_training_step_options(command, o);
  command.add_option("--width", o.width, "channels of the first backbone stage")
      ->check(bench::positive())
      ->capture_default_str();
  command.add_option("--model", o.model, "backbone")
      ->check(CLI::IsMember({"small", "resnet18"}))
      ->capture_default_str();
}

int run_localizer_bench(const LocalizerBenchOptions& o) {
  const Device device = parse_device(o.device);
  const data::DigitBank bank = data::DigitBank::from_mnist(data::load_mnist(data::default_mnist_dir()));
  models::LocalizerRun run;
  run.preset = data::find_preset("inf265-loc");
  run.model.backbone.kind = o.model;
  run.model.backbone.width = o.width;
  run.batch = o.batch;
  run.epochs = 1;
  run.steps_per_epoch = o.steps + 4;
  models::LocalizerTrainer trainer(run, bank, device, !o.eager);
  Executor& ex = trainer.executor();

  const double seconds = bench::time_training_steps(ex, o);
  std::printf("device: %s\nmode: %s\nmodel: %s width %d\nbatch: %d\nsteps: %d\narena_mib: %.2f\nloss: %.4f\n",
              device_name(device), ex.mode().c_str(), o.model.c_str(), o.width, o.batch, o.steps,
              ex.plan().arena_bytes / 1048576.0, trainer.read_losses()["loss"].get<float>());
  std::printf("step_ms: %.3f\nimages_per_second: %.1f\n", 1e3 * seconds / o.steps,
              o.batch * o.steps / seconds);
  return 0;
}

LOCDET_BENCHMARK("localizer", "training-step throughput of the localizer, scenes rendered in the step",
                 add_localizer_options, run_localizer_bench);

}  // namespace
}  // namespace locdet
