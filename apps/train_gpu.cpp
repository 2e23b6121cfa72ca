// train_gpu: trains a localizer on augmented MNIST scenes, entirely on the device (scene
// rendering, forward, loss, backward, optimizer), validates every epoch, keeps the best
// checkpoint, then evaluates it on the test split and draws overlays.
//
//   train_gpu --task localize --preset inf265-loc --model small --epochs 8 --out runs/loc
//   train_gpu --out runs/loc --resume          (continues an interrupted run exactly)
//
// Writes runs/NAME/: config.json, metrics.jsonl, checkpoint.safetensors (best),
// checkpoint.last.safetensors (resume point), eval.json, overlays/*.png.
#include <CLI/CLI.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "engine/checkpoint.h"
#include "engine/core/device.h"
#include "engine/core/error.h"
#include "engine/data/mnist.h"
#include "engine/train/run_dir.h"
#include "models/localizer_task.h"

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int signal) { g_stop_signal = signal; }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Options {
  std::string task = "localize", preset = "inf265-loc", preset_file, model = "small", box_loss = "giou";
  std::string device, out, mnist = locdet::data::default_mnist_dir();
  int width = 16, batch = 64, epochs = 8, log_every = 50;
  int64_t steps_per_epoch = 0, val_count = 0, test_count = 0, warmup = 200;
  float lr = 2e-3f, weight_decay = 1e-4f;
  uint64_t seed = 1;
  bool resume = false, no_cuda_graph = false;
};

locdet::Device choose_device(const std::string& requested) {
  if (requested.empty()) {
    if (locdet::cuda_available()) return locdet::Device::kCuda;
    std::fprintf(stderr, "train_gpu: no usable GPU (%s); training on the CPU\n", locdet::cuda_device_summary().c_str());
    return locdet::Device::kCpu;
  }
  const locdet::Device device = locdet::parse_device(requested);
  if (device == locdet::Device::kCuda && !locdet::cuda_available())
    locdet::fail("--device cuda: ", locdet::cuda_device_summary(), "; use --device cpu");
  return device;
}

locdet::models::LocalizerRun run_from_options(const Options& o) {
  locdet::models::LocalizerRun run;
  run.preset = locdet::data::find_preset(o.preset, o.preset_file);
  run.model.backbone.kind = o.model;
  run.model.backbone.width = o.width;
  run.model.height = run.preset.height;
  run.model.width = run.preset.width;
  run.model.box_loss = o.box_loss;
  run.batch = o.batch;
  run.epochs = o.epochs;
  run.steps_per_epoch = o.steps_per_epoch;
  run.lr = o.lr;
  run.weight_decay = o.weight_decay;
  run.warmup_steps = o.warmup;
  run.seed = o.seed;
  run.val_count = o.val_count;
  run.validate();
  return run;
}

std::map<std::string, std::string> checkpoint_metadata(const locdet::models::LocalizerRun& run, int epoch,
                                                       double best) {
  return {{locdet::models::kMetaTask, "localize"},
          {locdet::models::kMetaRun, run.to_json().dump()},
          {locdet::models::kMetaEpoch, std::to_string(epoch)},
          {locdet::models::kMetaBest, std::to_string(best)}};
}

int train(const Options& o, const CLI::App& app) {
  namespace models = locdet::models;
  if (o.task != "localize") {
    locdet::fail("--task ", o.task, " is not available in this version; use --task localize");
  }
  const locdet::Device device = choose_device(o.device);
  models::LocalizerRun run;
  if (o.resume) {
    for (const char* flag : {"--preset", "--preset-file", "--model", "--width", "--box-loss", "--batch", "--epochs",
                             "--steps-per-epoch", "--lr", "--weight-decay", "--warmup", "--seed", "--val-count"}) {
      if (app.count(flag) > 0)
        locdet::fail("with --resume the run's settings come from ", o.out, "/config.json; drop ", flag);
    }
  }
  locdet::RunDir dir(o.out, o.resume);
  run = o.resume ? models::LocalizerRun::from_json(dir.read_json("config.json")) : run_from_options(o);

  const locdet::data::Mnist mnist = locdet::data::load_mnist(o.mnist);
  const locdet::data::DigitBank bank = locdet::data::DigitBank::from_mnist(mnist);
  models::LocalizerTrainer trainer(run, bank, device, !o.no_cuda_graph);
  models::LocalizerPredictor predictor(run.model, 250, device);

  int start_epoch = 0;
  double best = -1.0;
  if (o.resume) {
    auto meta = locdet::load_checkpoint(dir.last_checkpoint(), trainer.executor(), /*strict=*/true);
    start_epoch = std::stoi(meta.at(models::kMetaEpoch));
    best = std::stod(meta.at(models::kMetaBest));
    std::fprintf(stderr, "train_gpu: resuming %s at epoch %d (step %lld)\n", o.out.c_str(), start_epoch + 1,
                 static_cast<long long>(trainer.steps_done()));
  } else {
    dir.write_json("config.json", run.to_json());
  }
  std::fprintf(stderr, "train_gpu: %s on %s | preset %s | model %s width %d | batch %d | %d epochs x %lld steps | %s\n",
               o.out.c_str(), locdet::device_name(device), run.preset.name.c_str(), run.model.backbone.kind.c_str(),
               run.model.backbone.width, run.batch, run.epochs, static_cast<long long>(run.epoch_steps()),
               trainer.executor().mode().c_str());

  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  const auto started = std::chrono::steady_clock::now();
  for (int epoch = start_epoch; epoch < run.epochs; ++epoch) {
    locdet::ProgressLine progress;
    auto window_start = std::chrono::steady_clock::now();
    int64_t window_steps = 0;
    nlohmann::json last_log;
    for (int64_t s = 0; s < run.epoch_steps(); ++s) {
      trainer.step();
      ++window_steps;
      const bool last_step = s + 1 == run.epoch_steps();
      if ((s + 1) % o.log_every == 0 || last_step) {
        const int64_t step = trainer.steps_done();
        nlohmann::json record = trainer.read_losses();
        const double loss = record["loss"];
        if (!std::isfinite(loss)) {
          locdet::fail("the loss became ", loss, " at step ", step, "; training stopped. The last good checkpoint is ",
                       std::filesystem::exists(dir.last_checkpoint()) ? dir.last_checkpoint() : "(none yet)",
                       "; lower --lr or check the data");
        }
        record.update(trainer.read_batch_metrics());
        const double ips = window_steps * run.batch / seconds_since(window_start);
        record.update({{"kind", "train"}, {"epoch", epoch + 1}, {"step", step}, {"lr", trainer.read_lr()},
                       {"images_per_second", ips}, {"elapsed_s", seconds_since(started)}});
        dir.log_metrics(record);
        char text[160];
        std::snprintf(text, sizeof(text), "epoch %d/%d loss %.4f acc %.1f%% iou %.3f", epoch + 1, run.epochs, loss,
                      100.0 * record["accuracy"].get<double>(), record["mean_iou"].get<double>());
        progress.update(s + 1, run.epoch_steps(), text, ips);
        window_start = std::chrono::steady_clock::now();
        window_steps = 0;
        last_log = record;
      }
      if (g_stop_signal) {
        progress.finish();
        locdet::save_checkpoint(dir.last_checkpoint(), trainer.executor(), checkpoint_metadata(run, epoch, best));
        std::fprintf(stderr,
                     "train_gpu: stopped by signal %d at step %lld; saved %s\n"
                     "  the epoch restarts from its beginning on resume: train_gpu --out %s --resume\n",
                     static_cast<int>(g_stop_signal), static_cast<long long>(trainer.steps_done()),
                     dir.last_checkpoint().c_str(), o.out.c_str());
        return 130;
      }
    }
    progress.finish();

    predictor.copy_weights_from(trainer.executor());
    const auto val_start = std::chrono::steady_clock::now();
    const locdet::eval::LocalizationReport val =
        models::evaluate_localizer(predictor, bank, run.preset, locdet::data::Split::kVal, run.data_seed, run.val_count);
    const bool improved = val.performance > best;
    if (improved) best = val.performance;
    dir.log_metrics({{"kind", "val"},
                     {"epoch", epoch + 1},
                     {"step", trainer.steps_done()},
                     {"accuracy", val.accuracy},
                     {"mean_iou", val.mean_iou},
                     {"performance", val.performance},
                     {"presence_accuracy", val.presence_accuracy},
                     {"seconds", seconds_since(val_start)},
                     {"elapsed_s", seconds_since(started)}});
    std::fprintf(stderr, "epoch %d/%d: val accuracy %.2f%% mean IoU %.4f performance %.4f%s\n", epoch + 1,
                 run.epochs, 100.0 * val.accuracy, val.mean_iou, val.performance, improved ? " (best)" : "");
    if (improved) locdet::save_checkpoint(dir.best_checkpoint(), trainer.executor(), checkpoint_metadata(run, epoch + 1, best));
    // The resume point is written after the best model, so a resumed run never lacks it.
    locdet::save_checkpoint(dir.last_checkpoint(), trainer.executor(), checkpoint_metadata(run, epoch + 1, best));
  }

  // The test split, with the best checkpoint.
  predictor.load_checkpoint(dir.best_checkpoint());
  std::vector<models::SampleResult> samples;
  const auto test = models::evaluate_localizer(predictor, bank, run.preset, locdet::data::Split::kTest, run.data_seed,
                                               o.test_count, 48, &samples);
  nlohmann::json report = test.to_json();
  report["split"] = "test";
  report["checkpoint"] = dir.best_checkpoint();
  report["preset"] = run.preset.name;
  report["train_seconds"] = seconds_since(started);
  dir.write_json("eval.json", report);
  models::write_localizer_overlay(dir.file("overlays/test.png"), samples, run.preset.height, run.preset.width);
  std::printf("test (%lld scenes): accuracy %.2f%%  mean IoU %.4f  performance %.4f  presence accuracy %.2f%%\n",
              static_cast<long long>(test.images), 100.0 * test.accuracy, test.mean_iou, test.performance,
              100.0 * test.presence_accuracy);
  std::printf("wrote %s, %s, %s\n", dir.file("eval.json").c_str(), dir.best_checkpoint().c_str(),
              dir.file("overlays/test.png").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a digit localizer on augmented MNIST scenes (on the GPU when there is one)"};
  Options o;
  app.add_option("--task", o.task, "localize")->capture_default_str();
  app.add_option("--preset", o.preset, "scene preset: inf265-loc, ayulockin-loc, or one from --preset-file")
      ->capture_default_str();
  app.add_option("--preset-file", o.preset_file, "JSON file with user presets");
  app.add_option("--model", o.model, "backbone: small | resnet18")->capture_default_str();
  app.add_option("--width", o.width, "channels of the first backbone stage")->capture_default_str();
  app.add_option("--box-loss", o.box_loss, "mse | iou | giou | diou | ciou")->capture_default_str();
  app.add_option("--device", o.device, "cuda | cpu (default: cuda when a GPU is present)");
  app.add_option("--epochs", o.epochs, "epochs")->capture_default_str();
  app.add_option("--batch", o.batch, "batch size")->capture_default_str();
  app.add_option("--steps-per-epoch", o.steps_per_epoch, "steps per epoch (default: train split size / batch)");
  app.add_option("--lr", o.lr, "peak learning rate (AdamW, warm-up then cosine)")->capture_default_str();
  app.add_option("--weight-decay", o.weight_decay, "AdamW weight decay")->capture_default_str();
  app.add_option("--warmup", o.warmup, "warm-up steps")->capture_default_str();
  app.add_option("--seed", o.seed, "parameter init and training scenes")->capture_default_str();
  app.add_option("--val-count", o.val_count, "validation scenes per epoch (default: the whole split)");
  app.add_option("--test-count", o.test_count, "test scenes for the final evaluation (default: the whole split)");
  app.add_option("--out", o.out, "run folder, e.g. runs/loc")->required();
  app.add_flag("--resume", o.resume, "continue the run in --out from its last checkpoint");
  app.add_option("--mnist", o.mnist, "MNIST folder")->capture_default_str();
  app.add_option("--log-every", o.log_every, "steps between metric lines")->capture_default_str();
  app.add_flag("--no-cuda-graph", o.no_cuda_graph, "CUDA: launch eagerly instead of replaying a captured step");
  CLI11_PARSE(app, argc, argv);
  try {
    LOCDET_CHECK(o.log_every >= 1, "--log-every must be >= 1");
    return train(o, app);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_gpu: error: %s\n", e.what());
    return 1;
  }
}
