// train_gpu: trains a localizer or a detector on augmented MNIST scenes, entirely on the
// device (scene rendering, forward, loss, anchor matching, backward, optimizer), validates
// every epoch, keeps the best checkpoint, then evaluates it on the test split and draws
// overlays.
//
//   train_gpu --task localize --preset inf265-loc --model small --epochs 8 --out runs/loc
//   train_gpu --task detect --preset det10 --epochs 10 --out runs/det
//   train_gpu --out runs/loc --resume          (continues an interrupted run exactly)
//
// Writes runs/NAME/: config.json, metrics.jsonl, TensorBoard events (events.out.tfevents.*:
// the metrics as scalars, the validation overlay as an image per epoch),
// checkpoint.safetensors (best), checkpoint.last.safetensors (resume point), eval.json,
// overlays/*.png (val.png: the last epoch's first 16 validation scenes; test.png).
#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "engine/checkpoint.h"
#include "engine/core/device.h"
#include "engine/core/error.h"
#include "engine/core/openmp_defaults.h"
#include "engine/data/mnist.h"
#include "engine/train/run_dir.h"
#include "models/detector_task.h"
#include "models/localizer_task.h"

namespace {

namespace models = locdet::models;

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int signal) {
  g_stop_signal = signal;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Options {
  std::string task = "localize", preset, preset_file, model = "small", box_loss = "giou",
              class_loss = "focal";
  std::string device, out, mnist = locdet::data::default_mnist_dir();
  int width = 16, batch = 64, epochs = 8, log_every = 50, anchors = 3, head_convs = 1, patience = 0;
  int64_t steps_per_epoch = 0, val_count = 0, test_count = 0, warmup = 200;
  float lr = 2e-3f, weight_decay = 1e-4f, pos_iou = 0.5f, neg_iou = 0.4f, box_weight = 2.0f;
  uint64_t seed = 1;
  bool resume = false, no_cuda_graph = false;
};

locdet::Device choose_device(const std::string& requested) {
  if (requested.empty()) {
    if (locdet::cuda_available()) return locdet::Device::kCuda;
    std::fprintf(stderr, "train_gpu: no usable GPU (%s); training on the CPU\n",
                 locdet::cuda_device_summary().c_str());
    return locdet::Device::kCpu;
  }
  const locdet::Device device = locdet::parse_device(requested);
  if (device == locdet::Device::kCuda && !locdet::cuda_available())
    locdet::fail("--device cuda: ", locdet::cuda_device_summary(), "; use --device cpu");
  return device;
}

// ---- the shared training loop ------------------------------------------------------------------

// What the loop needs from a task's trainer; each task fills it from its own classes.
struct TrainingTask {
  std::string name;  // "localize" | "detect", the checkpoint's task metadata
  nlohmann::json run_json;
  int epochs = 0, batch = 0, patience = 0;
  int64_t epoch_steps = 0;
  std::function<void()> step;
  std::function<int64_t()> steps_done;
  std::function<locdet::Executor&()> executor;
  // Losses and batch metrics of the last step (device reads); must hold "loss".
  std::function<nlohmann::json()> train_record;
  std::function<std::string(const nlohmann::json&)> progress_text;
  // Scores the current weights on the validation split: the record to log (must hold "score",
  // higher is better) and a one-line summary.
  std::function<std::pair<nlohmann::json, std::string>()> validate;
  // What became NaN/Inf since the run started ("loss", "gradients"), empty while all is
  // finite; read from a device flag, so bad steps between two logged ones are caught too.
  std::function<std::string()> nonfinite;
};

std::map<std::string, std::string> checkpoint_metadata(const TrainingTask& task, int epoch, double best,
                                                       int best_epoch) {
  return {{models::kMetaTask, task.name},
          {models::kMetaRun, task.run_json.dump()},
          {models::kMetaEpoch, std::to_string(epoch)},
          {models::kMetaBest, std::to_string(best)},
          {models::kMetaBestEpoch, std::to_string(best_epoch)}};
}

// Epochs of steps with progress, metrics.jsonl, NaN stop, SIGINT/SIGTERM save, per-epoch
// validation, best and last checkpoints, early stopping (--patience: the best epoch is in the
// checkpoints, so a resumed run counts on). Returns 0 when training is done (all epochs, or
// stopped early), 130 when stopped by a signal.
int run_training_loop(const TrainingTask& task, locdet::RunDir& dir, const std::string& out, bool resume,
                      int log_every, std::chrono::steady_clock::time_point started) {
  int start_epoch = 0;
  int64_t first_step = 0;  // within start_epoch
  double best = -1.0;
  int best_epoch = 0;  // 1-based; 0: none yet
  if (resume) {
    auto meta = locdet::load_checkpoint(dir.last_checkpoint(), task.executor(), /*strict=*/true);
    best = std::stod(meta.at(models::kMetaBest));
    // Checkpoints from before early stopping lack it: count from the resume point.
    best_epoch = meta.count(models::kMetaBestEpoch) ? std::stoi(meta.at(models::kMetaBestEpoch))
                                                    : std::stoi(meta.at(models::kMetaEpoch));
    // The step counter (restored with the data cursor and the schedule) says where the run
    // stopped, also mid-epoch: the resumed run takes exactly the remaining steps.
    const int64_t done = task.steps_done();
    dir.log_resume(done);
    start_epoch = static_cast<int>(done / task.epoch_steps);
    first_step = done % task.epoch_steps;
    std::fprintf(stderr, "train_gpu: resuming %s at epoch %d, step %lld of %lld\n", out.c_str(),
                 start_epoch + 1, static_cast<long long>(first_step + 1),
                 static_cast<long long>(task.epoch_steps));
  }
  // Stops the run when the loss or any gradient went NaN/Inf (the device flag accumulates, so
  // a bad step between two reads is caught). Called at every log step and before every
  // checkpoint write, so a blown-up model never replaces the last good checkpoint.
  auto stop_if_nonfinite = [&](double loss) {
    const std::string what = task.nonfinite ? task.nonfinite() : "";
    if (std::isfinite(loss) && what.empty()) return;
    locdet::fail("the loss became non-finite (", what.empty() ? "loss" : what,
                 " went NaN/Inf; last loss read ", loss, ") at or before step ", task.steps_done(),
                 "; training stopped. The last good checkpoint is ",
                 std::filesystem::exists(dir.last_checkpoint()) ? dir.last_checkpoint() : "(none yet)",
                 "; lower --lr or check the data");
  };
  // Whether --patience epochs have passed since the best one (after `epochs_done` epochs).
  auto patience_ran_out = [&](int epochs_done) {
    return task.patience > 0 && epochs_done < task.epochs && epochs_done - best_epoch >= task.patience;
  };
  if (resume && first_step == 0 && patience_ran_out(start_epoch)) {
    std::fprintf(stderr,
                 "train_gpu: this run stopped early after epoch %d (best: epoch %d); nothing left to train\n",
                 start_epoch, best_epoch);
    return 0;
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  for (int epoch = start_epoch; epoch < task.epochs; ++epoch) {
    locdet::ProgressLine progress;
    auto window_start = std::chrono::steady_clock::now();
    int64_t window_steps = 0;
    for (int64_t s = epoch == start_epoch ? first_step : 0; s < task.epoch_steps; ++s) {
      task.step();
      ++window_steps;
      if ((s + 1) % log_every == 0 || s + 1 == task.epoch_steps) {
        const int64_t step = task.steps_done();
        nlohmann::json record = task.train_record();
        stop_if_nonfinite(record["loss"]);
        const double ips = window_steps * task.batch / seconds_since(window_start);
        record.update({{"kind", "train"},
                       {"epoch", epoch + 1},
                       {"step", step},
                       {"images_per_second", ips},
                       {"elapsed_s", seconds_since(started)}});
        dir.log_metrics(record);
        char text[64];
        std::snprintf(text, sizeof(text), "epoch %d/%d ", epoch + 1, task.epochs);
        progress.update(s + 1, task.epoch_steps, text + task.progress_text(record), ips);
        window_start = std::chrono::steady_clock::now();
        window_steps = 0;
      }
      if (g_stop_signal) {
        progress.finish();
        stop_if_nonfinite(0.0);
        locdet::save_checkpoint(dir.last_checkpoint(), task.executor(),
                                checkpoint_metadata(task, epoch, best, best_epoch));
        std::fprintf(stderr,
                     "train_gpu: stopped by signal %d at step %lld; saved %s\n"
                     "  continue exactly where it stopped with: train_gpu --out %s --resume\n",
                     static_cast<int>(g_stop_signal), static_cast<long long>(task.steps_done()),
                     dir.last_checkpoint().c_str(), out.c_str());
        return 130;
      }
    }
    progress.finish();

    stop_if_nonfinite(0.0);
    const auto val_start = std::chrono::steady_clock::now();
    auto [record, summary] = task.validate();
    const double score = record["score"];
    const bool improved = score > best;
    if (improved) {
      best = score;
      best_epoch = epoch + 1;
    }
    record.update({{"kind", "val"},
                   {"epoch", epoch + 1},
                   {"step", task.steps_done()},
                   {"seconds", seconds_since(val_start)},
                   {"elapsed_s", seconds_since(started)}});
    dir.log_metrics(record);
    std::fprintf(stderr, "epoch %d/%d: val %s%s\n", epoch + 1, task.epochs, summary.c_str(),
                 improved ? " (best)" : "");
    if (improved)
      locdet::save_checkpoint(dir.best_checkpoint(), task.executor(),
                              checkpoint_metadata(task, epoch + 1, best, best_epoch));
    // The resume point is written after the best model, so a resumed run never lacks it.
    locdet::save_checkpoint(dir.last_checkpoint(), task.executor(),
                            checkpoint_metadata(task, epoch + 1, best, best_epoch));
    if (patience_ran_out(epoch + 1)) {
      dir.log_metrics({{"kind", "early_stop"},
                       {"epoch", epoch + 1},
                       {"step", task.steps_done()},
                       {"best_epoch", best_epoch},
                       {"best_score", best},
                       {"patience", task.patience}});
      std::fprintf(stderr,
                   "train_gpu: early stop after epoch %d of %d: the validation score has not improved for %d "
                   "epoch(s) (--patience %d); keeping the best model, epoch %d (score %.4f)\n",
                   epoch + 1, task.epochs, epoch + 1 - best_epoch, task.patience, best_epoch, best);
      break;
    }
  }
  return 0;
}

void check_resume_flags(const Options& o, const CLI::App& app) {
  if (!o.resume) return;
  for (const char* flag :
       {"--task",       "--preset",    "--preset-file",     "--model",   "--width",        "--box-loss",
        "--class-loss", "--anchors",   "--head-convs",      "--pos-iou", "--neg-iou",      "--box-weight",
        "--batch",      "--epochs",    "--steps-per-epoch", "--lr",      "--weight-decay", "--warmup",
        "--seed",       "--val-count", "--patience"}) {
    if (app.count(flag) > 0)
      locdet::fail("with --resume the run's settings come from ", o.out, "/config.json; drop ", flag);
  }
}

void print_start(const std::string& out, locdet::Device device, const locdet::data::Preset& preset,
                 const locdet::models::BackboneConfig& backbone, int batch, int epochs, int64_t steps,
                 const std::string& mode) {
  std::fprintf(
      stderr,
      "train_gpu: %s on %s | preset %s | model %s width %d | batch %d | %d epochs x %lld steps | %s\n",
      out.c_str(), locdet::device_name(device), preset.name.c_str(), backbone.kind.c_str(), backbone.width,
      batch, epochs, static_cast<long long>(steps), mode.c_str());
}

// The flags every task shares: the batch, epochs and AdamW schedule, the seeds.
void schedule_from_options(const Options& o, models::RunSchedule& run) {
  run.batch = o.batch;
  run.epochs = o.epochs;
  run.steps_per_epoch = o.steps_per_epoch;
  run.lr = o.lr;
  run.weight_decay = o.weight_decay;
  run.warmup_steps = o.warmup;
  run.seed = o.seed;
  run.val_count = o.val_count;
  run.patience = o.patience;
}

// The parts of a TrainingTask that every trainer (LocalizerTrainer, DetectorTrainer) fills the
// same way; the task adds its records, progress text and validation.
template <typename Run, typename Trainer>
TrainingTask make_training_task(const char* name, const Run& run, Trainer& trainer) {
  TrainingTask task;
  task.name = name;
  task.run_json = run.to_json();
  task.epochs = run.epochs;
  task.batch = run.batch;
  task.patience = run.patience;
  task.epoch_steps = run.epoch_steps();
  task.step = [&trainer] { trainer.step(); };
  task.steps_done = [&trainer] { return trainer.steps_done(); };
  task.nonfinite = [&trainer] { return trainer.nonfinite_what(); };
  task.executor = [&trainer]() -> locdet::Executor& { return trainer.executor(); };
  return task;
}

// eval.json for the best checkpoint on the test split.
void write_test_report(locdet::RunDir& dir, nlohmann::json report, const std::string& preset,
                       std::chrono::steady_clock::time_point started) {
  report["split"] = "test";
  report["checkpoint"] = dir.best_checkpoint();
  report["preset"] = preset;
  report["train_seconds"] = seconds_since(started);
  dir.write_json("eval.json", report);
}

// ---- localizer ---------------------------------------------------------------------------------

models::LocalizerRun localizer_run_from_options(const Options& o, const locdet::data::DigitBank& bank) {
  models::LocalizerRun run;
  run.preset = locdet::data::find_preset(o.preset.empty() ? "inf265-loc" : o.preset, o.preset_file);
  models::fit_anchor_to_preset(run.model, bank, run.preset);
  run.model.backbone.kind = o.model;
  run.model.backbone.width = o.width;
  run.model.height = run.preset.height;
  run.model.width = run.preset.width;
  run.model.box_loss = o.box_loss;
  schedule_from_options(o, run);
  run.validate();
  return run;
}

int train_localizer(const Options& o, locdet::Device device, locdet::RunDir& dir,
                    const locdet::data::DigitBank& bank) {
  const models::LocalizerRun run = o.resume ? models::LocalizerRun::from_json(dir.read_json("config.json"))
                                            : localizer_run_from_options(o, bank);
  models::LocalizerTrainer trainer(run, bank, device, !o.no_cuda_graph);
  models::LocalizerPredictor predictor(run.model, 250, device);
  if (!o.resume) dir.write_json("config.json", run.to_json());
  print_start(o.out, device, run.preset, run.model.backbone, run.batch, run.epochs, run.epoch_steps(),
              trainer.executor().mode());

  TrainingTask task = make_training_task("localize", run, trainer);
  task.train_record = [&] {
    nlohmann::json r = trainer.read_losses();
    r.update(trainer.read_batch_metrics());
    r["lr"] = trainer.read_lr();
    return r;
  };
  task.progress_text = [](const nlohmann::json& r) {
    char text[128];
    std::snprintf(text, sizeof(text), "loss %.4f acc %.1f%% iou %.3f", r["loss"].get<double>(),
                  100.0 * r["accuracy"].get<double>(), r["mean_iou"].get<double>());
    return std::string(text);
  };
  task.validate = [&] {
    predictor.copy_weights_from(trainer.executor());
    std::vector<models::SampleResult> shown;  // the first 16 scenes, drawn for TensorBoard
    const auto val = models::evaluate_localizer(predictor, bank, run.preset, locdet::data::Split::kVal,
                                                run.data_seed, run.val_count, 16, &shown);
    models::write_localizer_overlay(dir.file("overlays/val.png"), shown, run.preset.height, run.preset.width);
    dir.log_image("val/overlay", dir.file("overlays/val.png"), trainer.steps_done());
    nlohmann::json r = {{"accuracy", val.accuracy},
                        {"mean_iou", val.mean_iou},
                        {"performance", val.performance},
                        {"presence_accuracy", val.presence_accuracy},
                        {"score", val.performance}};
    char text[128];
    std::snprintf(text, sizeof(text), "accuracy %.2f%% mean IoU %.4f performance %.4f", 100.0 * val.accuracy,
                  val.mean_iou, val.performance);
    return std::make_pair(r, std::string(text));
  };
  const auto started = std::chrono::steady_clock::now();
  if (int code = run_training_loop(task, dir, o.out, o.resume, o.log_every, started)) return code;

  // The test split, with the best checkpoint.
  predictor.load_checkpoint(dir.best_checkpoint());
  std::vector<models::SampleResult> samples;
  const auto test = models::evaluate_localizer(predictor, bank, run.preset, locdet::data::Split::kTest,
                                               run.data_seed, o.test_count, 48, &samples);
  write_test_report(dir, test.to_json(), run.preset.name, started);
  models::write_localizer_overlay(dir.file("overlays/test.png"), samples, run.preset.height,
                                  run.preset.width);
  std::printf(
      "test (%lld scenes): accuracy %.2f%%  mean IoU %.4f  performance %.4f  presence accuracy %.2f%%\n",
      static_cast<long long>(test.images), 100.0 * test.accuracy, test.mean_iou, test.performance,
      100.0 * test.presence_accuracy);
  std::printf("wrote %s, %s, %s\n", dir.file("eval.json").c_str(), dir.best_checkpoint().c_str(),
              dir.file("overlays/test.png").c_str());
  return 0;
}

// ---- detector ----------------------------------------------------------------------------------

models::DetectorRun detector_run_from_options(const Options& o, const locdet::data::DigitBank& bank) {
  models::DetectorRun run;
  run.preset = locdet::data::find_preset(o.preset.empty() ? "det10" : o.preset, o.preset_file);
  LOCDET_CHECK(run.preset.task == "detection", "preset '", run.preset.name,
               "' is a localization preset; --task detect needs det10, inf265-det or a detection preset");
  run.model.backbone.kind = o.model;
  run.model.backbone.width = o.width;
  run.model.height = run.preset.height;
  run.model.width = run.preset.width;
  run.model.classes = run.preset.classes;
  double mean_iou = 0;
  run.model.anchor_sizes = models::choose_detector_anchors(bank, run.preset, o.anchors, 2000, &mean_iou);
  std::fprintf(stderr, "train_gpu: %d anchor sizes from %s's training boxes (mean best IoU %.3f):", o.anchors,
               run.preset.name.c_str(), mean_iou);
  for (const auto& [w, h] : run.model.anchor_sizes) std::fprintf(stderr, " %.2fx%.2f", w, h);
  std::fprintf(stderr, "\n");
  run.model.head_convs = o.head_convs;
  run.model.class_loss = o.class_loss;
  run.model.box_loss = o.box_loss;
  run.model.pos_iou = o.pos_iou;
  run.model.neg_iou = o.neg_iou;
  run.model.box_weight = o.box_weight;
  schedule_from_options(o, run);
  run.validate();
  return run;
}

void print_detection(const char* what, const models::DetectionEvaluation& e) {
  std::printf("%s (%lld scenes): AP@[.5:.95] %.4f  AP50 %.4f  AP75 %.4f  AR@100 %.4f", what,
              static_cast<long long>(e.images), e.coco.map, e.coco.map50, e.coco.map75, e.coco.ar100);
  if (e.grid_performance >= 0)
    std::printf("  grid accuracy %.4f grid IoU %.4f grid performance %.4f", e.grid_accuracy, e.grid_mean_iou,
                e.grid_performance);
  std::printf("\n");
}

int train_detector(const Options& o, locdet::Device device, locdet::RunDir& dir,
                   const locdet::data::DigitBank& bank) {
  const models::DetectorRun run = o.resume ? models::DetectorRun::from_json(dir.read_json("config.json"))
                                           : detector_run_from_options(o, bank);
  models::DetectorTrainer trainer(run, bank, device, !o.no_cuda_graph);
  models::DetectorPredictor predictor(run.model, 250, device);
  if (!o.resume) dir.write_json("config.json", run.to_json());
  print_start(o.out, device, run.preset, run.model.backbone, run.batch, run.epochs, run.epoch_steps(),
              trainer.executor().mode());

  TrainingTask task = make_training_task("detect", run, trainer);
  task.train_record = [&] {
    nlohmann::json r = trainer.read_losses();
    r["lr"] = trainer.read_lr();
    return r;
  };
  task.progress_text = [](const nlohmann::json& r) {
    char text[128];
    std::snprintf(text, sizeof(text), "loss %.4f cls %.4f box %.4f pos/img %.1f", r["loss"].get<double>(),
                  r["class_loss"].get<double>(), r["box_loss"].get<double>(),
                  r["positives_per_image"].get<double>());
    return std::string(text);
  };
  task.validate = [&] {
    predictor.copy_weights_from(trainer.executor());
    std::vector<models::DetectionSample> shown;  // the first 16 scenes, drawn for TensorBoard
    const auto val = models::evaluate_detector(predictor, bank, run.preset, locdet::data::Split::kVal,
                                               run.data_seed, run.val_count, 16, &shown);
    models::write_detector_overlay(dir.file("overlays/val.png"), shown, run.preset.height, run.preset.width);
    dir.log_image("val/overlay", dir.file("overlays/val.png"), trainer.steps_done());
    nlohmann::json r = {{"map", val.coco.map},
                        {"map50", val.coco.map50},
                        {"map75", val.coco.map75},
                        {"ar100", val.coco.ar100},
                        {"score", val.coco.map}};
    char text[128];
    std::snprintf(text, sizeof(text), "AP@[.5:.95] %.4f AP50 %.4f AP75 %.4f AR@100 %.4f", val.coco.map,
                  val.coco.map50, val.coco.map75, val.coco.ar100);
    return std::make_pair(r, std::string(text));
  };
  const auto started = std::chrono::steady_clock::now();
  if (int code = run_training_loop(task, dir, o.out, o.resume, o.log_every, started)) return code;

  predictor.load_checkpoint(dir.best_checkpoint());
  std::vector<models::DetectionSample> samples;
  const auto test = models::evaluate_detector(predictor, bank, run.preset, locdet::data::Split::kTest,
                                              run.data_seed, o.test_count, 48, &samples);
  write_test_report(dir, test.to_json(), run.preset.name, started);
  models::write_detector_overlay(dir.file("overlays/test.png"), samples, run.preset.height, run.preset.width);
  print_detection("test", test);
  std::printf("wrote %s, %s, %s\n", dir.file("eval.json").c_str(), dir.best_checkpoint().c_str(),
              dir.file("overlays/test.png").c_str());
  return 0;
}

int train(Options o, const CLI::App& app) {
  check_resume_flags(o, app);
  auto check_task = [&] {
    if (o.task != "localize" && o.task != "detect")
      locdet::fail("unknown --task '", o.task, "': use localize or detect");
  };
  if (!o.resume) check_task();  // before the run folder is created
  const locdet::Device device = choose_device(o.device);
  locdet::RunDir dir(o.out, o.resume);
  if (o.resume) o.task = dir.read_json("config.json").at("task").get<std::string>();
  check_task();
  const locdet::data::DigitBank bank = locdet::data::DigitBank::from_mnist(locdet::data::load_mnist(o.mnist));
  return o.task == "detect" ? train_detector(o, device, dir, bank) : train_localizer(o, device, dir, bank);
}

}  // namespace

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: engine/core/openmp_defaults.h
  CLI::App app{
      "Train a digit localizer or detector on augmented MNIST scenes (on the GPU when there is one)"};
  Options o;
  app.add_option("--task", o.task, "localize | detect")->capture_default_str();
  app.add_option(
      "--preset", o.preset,
      "scene preset (default: inf265-loc for localize, det10 for detect; also ayulockin-loc, inf265-det, "
      "or one from --preset-file)");
  app.add_option("--preset-file", o.preset_file, "JSON file with user presets");
  app.add_option("--model", o.model, "backbone: small | resnet18")->capture_default_str();
  app.add_option("--width", o.width, "channels of the first backbone stage")->capture_default_str();
  app.add_option("--box-loss", o.box_loss,
                 "localize: mse | iou | giou | diou | ciou; detect: iou | giou | diou | ciou")
      ->capture_default_str();
  app.add_option("--class-loss", o.class_loss, "detect: focal | bce")->capture_default_str();
  app.add_option("--anchors", o.anchors, "detect: anchor sizes per cell (k-means over the preset's boxes)")
      ->capture_default_str();
  app.add_option("--head-convs", o.head_convs, "detect: conv3x3-BN-ReLU layers in the head")
      ->capture_default_str();
  app.add_option("--pos-iou", o.pos_iou, "detect: anchor IoU for a positive")->capture_default_str();
  app.add_option("--neg-iou", o.neg_iou, "detect: anchor IoU below which it is a negative")
      ->capture_default_str();
  app.add_option("--box-weight", o.box_weight, "detect: weight of the box loss")->capture_default_str();
  app.add_option("--device", o.device, "cuda | cpu (default: cuda when a GPU is present)");
  app.add_option("--epochs", o.epochs, "epochs")->capture_default_str();
  app.add_option("--batch", o.batch, "batch size")->capture_default_str();
  app.add_option("--steps-per-epoch", o.steps_per_epoch,
                 "steps per epoch (default: train split size / batch)");
  app.add_option("--lr", o.lr, "peak learning rate (AdamW, warm-up then cosine)")->capture_default_str();
  app.add_option("--weight-decay", o.weight_decay, "AdamW weight decay")->capture_default_str();
  app.add_option("--warmup", o.warmup, "warm-up steps")->capture_default_str();
  app.add_option("--seed", o.seed, "parameter init and training scenes")->capture_default_str();
  app.add_option("--val-count", o.val_count, "validation scenes per epoch (default: the whole split)");
  app.add_option(
         "--patience", o.patience,
         "stop when the validation score (localize: performance, detect: AP) has not improved for this "
         "many epochs, keeping the best checkpoint (0: off)")
      ->capture_default_str();
  app.add_option("--test-count", o.test_count,
                 "test scenes for the final evaluation (default: the whole split)");
  app.add_option("--out", o.out, "run folder, e.g. runs/loc")->required();
  app.add_flag("--resume", o.resume, "continue the run in --out from its last checkpoint");
  app.add_option("--mnist", o.mnist, "MNIST folder")->capture_default_str();
  app.add_option("--log-every", o.log_every, "steps between metric lines")->capture_default_str();
  app.add_flag("--no-cuda-graph", o.no_cuda_graph,
               "CUDA: launch eagerly instead of replaying a captured step");
  CLI11_PARSE(app, argc, argv);
  try {
    LOCDET_CHECK(o.log_every >= 1, "--log-every must be >= 1");
    return train(o, app);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_gpu: error: %s\n", e.what());
    return 1;
  }
}
