// train_gpu: trains a localizer or a detector on augmented MNIST scenes, entirely on the
// device (scene rendering, forward, loss, anchor matching, backward, optimizer), validates
// every epoch, keeps the best checkpoint, then evaluates it on the test split and draws
// overlays.
//
//   train_gpu --task localize --preset inf265-loc --model small --epochs 8 --out runs/loc
//   train_gpu --task detect --preset det10 --epochs 10 --out runs/det
//   train_gpu --out runs/loc --resume          (continues an interrupted run exactly)
//   train_gpu --out runs/loc --resume --epochs 12   (extends a run to 12 epochs)
//   train_gpu --init-from runs/loc/checkpoint.safetensors --out runs/tuned   (new run, trained weights)
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

#include "apps/cli.h"
#include "engine/checkpoint.h"
#include "engine/train/run_dir.h"
#include "engine/train/training_loop.h"
#include "kernels/base/device.h"
#include "kernels/base/error.h"
#include "kernels/base/openmp_defaults.h"
#include "models/detector/predictor.h"
#include "models/detector/report.h"
#include "models/detector/run.h"
#include "models/detector/trainer.h"
#include "models/digits/mnist.h"
#include "models/localizer/predictor.h"
#include "models/localizer/report.h"
#include "models/localizer/run.h"
#include "models/localizer/trainer.h"

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
  std::string device, out, mnist, init_from;
  int width = 16, batch = 64, epochs = 8, log_every = 50, anchors = 3, head_convs = 1, patience = 0;
  int64_t steps_per_epoch = 0, val_count = 0, test_count = 0, warmup = 200;
  float lr = 2e-3f, weight_decay = 1e-4f, pos_iou = 0.5f, neg_iou = 0.4f, box_weight = 2.0f;
  uint64_t seed = 1;
  bool resume = false, no_cuda_graph = false;
};

// What the command line asked for beyond the options' values: which flags were given, and
// how to run this program again.
struct Invocation {
  const CLI::App& app;
  std::string program;  // the absolute path of this executable
  bool given(const char* flag) const { return app.count(flag) > 0; }
};

// The flags that define the model: --resume takes them from the run, --init-from from its
// checkpoint.
constexpr const char* kModelFlags[] = {"--model",      "--width",   "--box-loss", "--class-loss", "--anchors",
                                       "--head-convs", "--pos-iou", "--neg-iou",  "--box-weight"};
// The rest of what config.json fixes. --epochs is not among them: with --resume it extends
// (or shortens) the run.
constexpr const char* kRunFlags[] = {
    "--task", "--preset",    "--preset-file", "--batch",        "--steps-per-epoch", "--lr",
    "--seed", "--val-count", "--warmup",      "--weight-decay", "--patience"};

void check_flag_combinations(const Options& o, const Invocation& call) {
  if (o.resume && !o.init_from.empty())
    locdet::fail("--resume continues the run in --out, --init-from starts a new one: pass only one of them");
  if (o.resume) {
    for (const char* flag : kModelFlags)
      if (call.given(flag))
        locdet::fail("with --resume the run's settings come from ", o.out, "/config.json; drop ", flag);
    for (const char* flag : kRunFlags)
      if (call.given(flag))
        locdet::fail("with --resume the run's settings come from ", o.out, "/config.json; drop ", flag);
  }
  if (!o.init_from.empty())
    for (const char* flag : kModelFlags)
      if (call.given(flag))
        locdet::fail("--init-from takes the model (backbone, width, head, losses) from ", o.init_from,
                     "; drop ", flag);
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

// The flags every task shares: the batch, epochs and AdamW schedule, the seeds, the counts.
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
  run.test_count = o.test_count;
  run.init_from = o.init_from;
}

// What --resume found in the run folder, and what it will do.
struct ResumePlan {
  bool extend = false;    // --epochs changed the run's length
  int epochs_before = 0;  // the run's epochs before
  int epochs_done = 0;
};

// Reads the run to resume from `dir` and applies --epochs and --test-count to it. Returns
// false, having changed nothing, when the run is finished and tested (eval.json of its
// current length exists).
template <class Run>
bool plan_resume(const Options& o, const Invocation& call, const locdet::RunDir& dir, Run& run,
                 ResumePlan& plan) {
  run = Run::from_json(dir.read_json("config.json"));
  const locdet::RunProgress progress = locdet::read_run_progress(dir);
  plan.epochs_before = run.epochs;
  plan.epochs_done = progress.epochs_done;
  const bool stopped_early = progress.stopped_early(run.patience, run.epochs);
  if (call.given("--epochs") && o.epochs != run.epochs) {
    LOCDET_CHECK(
        !stopped_early, dir.path(), " stopped early after epoch ", progress.epochs_done,
        " (no better validation score since epoch ", progress.best_epoch, ", --patience ", run.patience,
        "): more epochs would stop again at once; start a new run from its weights with --init-from ",
        dir.best_checkpoint());
    LOCDET_CHECK(o.epochs >= progress.epochs_done, "--epochs ", o.epochs, ": ", dir.path(), " has trained ",
                 progress.epochs_done, " epochs already; pass --epochs ", progress.epochs_done + 1,
                 " or more to train longer");
    run.epochs = o.epochs;
    run.validate();
    plan.extend = true;
  }
  if (call.given("--test-count")) run.test_count = o.test_count;
  if (progress.epochs_done < run.epochs && !stopped_early) return true;
  // Trained to the end: only the test may be missing (an interrupt during it), or be of
  // another length than the run now has.
  if (std::filesystem::exists(dir.file("eval.json"))) {
    const nlohmann::json eval = dir.read_json("eval.json");
    if (eval.value("trained_epochs", run.epochs) == run.epochs) {
      const std::string best = locdet::apps::shell_quote(dir.best_checkpoint());
      if (stopped_early) {
        std::printf(
            "%s is finished: stopped early after %d of %d epochs (best: epoch %d, --patience %d; %.1f s) and "
            "tested (eval.json); nothing to do.\n  Train on from its weights with: --init-from %s; score it "
            "again with evaluate --checkpoint %s\n",
            dir.path().c_str(), progress.epochs_done, run.epochs, progress.best_epoch, run.patience,
            progress.train_seconds, best.c_str(), best.c_str());
      } else {
        std::printf(
            "%s is finished: %d of %d epochs trained (%.1f s) and tested (eval.json); nothing to do.\n"
            "  Train it longer with: --resume --epochs N (N > %d); score it again with evaluate --checkpoint "
            "%s\n",
            dir.path().c_str(), progress.epochs_done, run.epochs, progress.train_seconds, run.epochs,
            best.c_str());
      }
      return false;
    }
  }
  return true;
}

// Runs the training loop with Ctrl-C / SIGTERM as a clean stop.
locdet::TrainingResult train_until_done(locdet::TrainingTask& task, locdet::RunDir& dir, int patience,
                                        const Options& o, const Invocation& call) {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  locdet::TrainingLoopOptions loop;
  loop.resume = o.resume;
  loop.init_from = o.init_from;
  loop.patience = patience;
  loop.log_every = o.log_every;
  loop.stop_requested = [] {
    return g_stop_signal ? "signal " + std::to_string(g_stop_signal) : std::string();
  };
  // Pasteable from the same folder: this executable's absolute path, the words quoted, and the
  // flags that say where things are (the rest is in config.json).
  using locdet::apps::shell_quote;
  loop.resume_command = shell_quote(call.program) + " --out " + shell_quote(o.out) + " --resume";
  if (call.given("--mnist")) loop.resume_command += " --mnist " + shell_quote(o.mnist);
  if (call.given("--device")) loop.resume_command += " --device " + shell_quote(o.device);
  return locdet::run_training_loop(task, dir, loop);
}

// eval.json for the best checkpoint on the test split.
void write_test_report(locdet::RunDir& dir, nlohmann::json report, const models::RunSchedule& run,
                       double train_seconds, std::chrono::steady_clock::time_point test_started) {
  report["split"] = "test";
  report["checkpoint"] = dir.best_checkpoint();
  report["preset"] = run.preset.name;
  report["trained_epochs"] = run.epochs;
  report["train_seconds"] = train_seconds;
  report["test_seconds"] = seconds_since(test_started);
  dir.write_json("eval.json", report);
}

// Trains `run` with `Trainer` into `dir` (or resumes it as `plan` says), then scores the best
// checkpoint on the test split with test(train_seconds); returns the exit code (130 when
// stopped).
template <class Trainer, class Run, class TestFn>
int train_and_test(const Options& o, const Invocation& call, const Run& run, const ResumePlan& plan,
                   locdet::Device device, locdet::RunDir& dir, const locdet::data::DigitBank& bank,
                   TestFn&& test) {
  Trainer trainer(run, bank, device, !o.no_cuda_graph);
  if (plan.extend) {
    dir.log_metrics({{"kind", "extend"},
                     {"epochs_done", plan.epochs_done},
                     {"from_epochs", plan.epochs_before},
                     {"to_epochs", run.epochs}});
    std::fprintf(stderr,
                 "train_gpu: %s now runs %d epochs instead of %d; the warm-up/cosine learning-rate schedule "
                 "is recomputed for %d epochs (the steps already taken keep the rates they had)\n",
                 o.out.c_str(), run.epochs, plan.epochs_before, run.epochs);
  }
  print_start(o.out, device, run.preset, run.model.backbone, run.batch, run.epochs, run.epoch_steps(),
              trainer.executor().mode());
  const locdet::TrainingResult result = train_until_done(trainer, dir, run.patience, o, call);
  if (result.end == locdet::TrainingEnd::kStopped) return 130;
  test(result.train_seconds);
  std::printf("wrote %s, %s, %s\n", dir.file("eval.json").c_str(), dir.best_checkpoint().c_str(),
              dir.file("overlays/test.png").c_str());
  return 0;
}

// ---- localizer ---------------------------------------------------------------------------------

models::LocalizerRun localizer_run_from_options(const Options& o, const locdet::data::DigitBank& bank) {
  models::LocalizerRun run;
  run.preset = locdet::data::find_preset(o.preset.empty() ? "inf265-loc" : o.preset, o.preset_file);
  if (!o.init_from.empty()) {
    run.model = models::read_localizer_run(o.init_from).model;  // the same model, anchor included
  } else {
    models::fit_anchor_to_preset(run.model, bank, run.preset);
    run.model.backbone.kind = o.model;
    run.model.backbone.width = o.width;
    run.model.height = run.preset.height;
    run.model.width = run.preset.width;
    run.model.box_loss = o.box_loss;
  }
  schedule_from_options(o, run);
  run.validate();
  return run;
}

int train_localizer(const Options& o, const Invocation& call, const models::LocalizerRun& run,
                    const ResumePlan& plan, locdet::Device device, locdet::RunDir& dir,
                    const locdet::data::DigitBank& bank) {
  return train_and_test<
      models::LocalizerTrainer>(o, call, run, plan, device, dir, bank, [&](double train_seconds) {
    const auto test_started = std::chrono::steady_clock::now();
    models::LocalizerPredictor predictor(run.model, 250, device);
    predictor.load_checkpoint(dir.best_checkpoint());
    std::vector<models::SampleResult> samples;
    const auto test = models::evaluate_localizer(predictor, bank, run.preset, locdet::data::Split::kTest,
                                                 run.data_seed, run.test_count, {48, 0}, &samples);
    write_test_report(dir, test.to_json(), run, train_seconds, test_started);
    models::write_localizer_overlay(dir.file("overlays/test.png"), samples, run.preset.height,
                                    run.preset.width);
    std::printf(
        "test (%lld scenes): accuracy %.2f%%  mean IoU %.4f  performance %.4f  presence accuracy %.2f%%\n",
        static_cast<long long>(test.images), 100.0 * test.accuracy, test.mean_iou, test.performance,
        100.0 * test.presence_accuracy);
  });
}

// ---- detector ----------------------------------------------------------------------------------

models::DetectorRun detector_run_from_options(const Options& o, const locdet::data::DigitBank& bank) {
  models::DetectorRun run;
  run.preset = locdet::data::find_preset(o.preset.empty() ? "det10" : o.preset, o.preset_file);
  LOCDET_CHECK(run.preset.task == "detection", "preset '", run.preset.name,
               "' is a localization preset; --task detect needs det10, inf265-det or a detection preset");
  if (!o.init_from.empty()) {
    run.model = models::read_detector_run(o.init_from).model;  // the same model, anchors included
  } else {
    run.model.backbone.kind = o.model;
    run.model.backbone.width = o.width;
    run.model.height = run.preset.height;
    run.model.width = run.preset.width;
    run.model.classes = run.preset.classes;
    double mean_iou = 0;
    run.model.anchor_sizes = models::choose_detector_anchors(bank, run.preset, o.anchors, 2000, &mean_iou);
    std::fprintf(stderr,
                 "train_gpu: %d anchor sizes from %s's training boxes (mean best IoU %.3f):", o.anchors,
                 run.preset.name.c_str(), mean_iou);
    for (const auto& [w, h] : run.model.anchor_sizes) std::fprintf(stderr, " %.2fx%.2f", w, h);
    std::fprintf(stderr, "\n");
    run.model.head_convs = o.head_convs;
    run.model.class_loss = o.class_loss;
    run.model.box_loss = o.box_loss;
    run.model.pos_iou = o.pos_iou;
    run.model.neg_iou = o.neg_iou;
    run.model.box_weight = o.box_weight;
  }
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

int train_detector(const Options& o, const Invocation& call, const models::DetectorRun& run,
                   const ResumePlan& plan, locdet::Device device, locdet::RunDir& dir,
                   const locdet::data::DigitBank& bank) {
  return train_and_test<models::DetectorTrainer>(
      o, call, run, plan, device, dir, bank, [&](double train_seconds) {
        const auto test_started = std::chrono::steady_clock::now();
        models::DetectorPredictor predictor(run.model, 250, device);
        predictor.load_checkpoint(dir.best_checkpoint());
        std::vector<models::DetectionSample> samples;
        const auto test = models::evaluate_detector(predictor, bank, run.preset, locdet::data::Split::kTest,
                                                    run.data_seed, run.test_count, {48, 0}, &samples);
        nlohmann::json report = test.to_json();
        report["classes"] = run.model.classes;  // the confusion matrix's rows and columns
        write_test_report(dir, report, run, train_seconds, test_started);
        models::write_detector_overlay(dir.file("overlays/test.png"), samples, run.preset.height,
                                       run.preset.width);
        print_detection("test", test);
      });
}

// ---- the command --------------------------------------------------------------------------------

// A new run (from scratch or --init-from) or a resumed one, of the task's Run type. Every
// check that can fail runs before the run folder is created (RunDir creates it lazily).
template <class Run, class TrainFn>
int start_or_resume(const Options& o, const Invocation& call, locdet::RunDir& dir,
                    Run (*from_options)(const Options&, const locdet::data::DigitBank&),
                    TrainFn&& train_task) {
  Run run;
  ResumePlan plan;
  if (o.resume && !plan_resume(o, call, dir, run, plan)) return 0;
  const locdet::Device device = locdet::choose_device(o.device, "train_gpu", "training");
  const locdet::data::DigitBank bank =
      locdet::data::DigitBank::from_mnist(locdet::data::load_mnist(locdet::data::find_mnist_dir(o.mnist)));
  if (!o.resume) {
    try {
      run = from_options(o, bank);
    } catch (const locdet::Error& e) {
      if (o.init_from.empty()) throw;
      locdet::fail(e.what(), " (the model comes from --init-from ", o.init_from, ")");
    }
  }
  return train_task(o, call, run, plan, device, dir, bank);
}

int train(Options o, const Invocation& call) {
  check_flag_combinations(o, call);
  if (!o.init_from.empty()) {
    const std::string task = models::read_checkpoint_task(o.init_from);
    if (call.given("--task") && task != o.task)
      locdet::fail("--init-from ", o.init_from, " is a checkpoint of a '", task,
                   "' model; drop --task or pass --task ", task);
    o.task = task;
  }
  locdet::RunDir dir(o.out, o.resume);
  if (o.resume) o.task = dir.read_json("config.json").at("task").get<std::string>();
  if (o.task == "detect") return start_or_resume(o, call, dir, detector_run_from_options, train_detector);
  if (o.task == "localize") return start_or_resume(o, call, dir, localizer_run_from_options, train_localizer);
  locdet::fail("unknown --task '", o.task, "': use localize or detect");
}

}  // namespace

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  CLI::App app{"Train a digit localizer or detector on augmented MNIST scenes (on the GPU when there is one)",
               "train_gpu"};
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
  app.add_option(
         "--epochs", o.epochs,
         "epochs; with --resume: extend (or shorten) the run to this many, the learning-rate schedule "
         "recomputed for the new length")
      ->capture_default_str();
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
                 "test scenes for the final evaluation (default: the whole split; saved with the run)");
  app.add_option("--out", o.out, "run folder, e.g. runs/loc")->required();
  app.add_flag("--resume", o.resume,
               "continue the run in --out from its last checkpoint (a finished run: nothing to do)");
  app.add_option("--init-from", o.init_from,
                 "start a new run from this checkpoint's weights (the same model: its task, backbone, width "
                 "and head; the optimizer starts fresh)");
  app.add_option("--mnist", o.mnist,
                 "MNIST folder (default: $LOCDET_MNIST_DIR, else data/mnist of the source tree this program "
                 "was built in, else ./data/mnist)");
  app.add_option("--log-every", o.log_every, "steps between metric lines")->capture_default_str();
  app.add_flag("--no-cuda-graph", o.no_cuda_graph,
               "CUDA: launch eagerly instead of replaying a captured step");
  if (const int code = locdet::apps::parse_command_line(app, argc, argv); code >= 0) return code;
  try {
    LOCDET_CHECK(o.log_every >= 1, "--log-every must be >= 1");
    return train(o, Invocation{app, locdet::apps::program_path(argv[0])});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_gpu: error: %s\n", e.what());
    return 1;
  }
}
