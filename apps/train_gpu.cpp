// train_gpu: trains a localizer or a detector on augmented MNIST scenes or on a dataset on disk,
// entirely on the device (scene rendering or dataset augmentation, forward, loss, anchor matching,
// backward, optimizer), validates every epoch, keeps the best checkpoint, then evaluates it on the
// test split and draws overlays.
//
//   train_gpu --task localize --preset inf265-loc --model small --epochs 8 --out runs/loc
//   train_gpu --task detect --preset det10 --epochs 10 --out runs/det
//   train_gpu --task detect --data datasets/mine --epochs 20 --out runs/mine   (COCO/YOLO/CSV)
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
#include <memory>
#include <optional>
#include <utility>

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
#include "models/training_data.h"

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
  std::string task = "localize", preset, preset_file, model = "small", box_loss = "giou", class_head = "cell",
              class_loss = "focal";
  std::string device, out, mnist, init_from;
  int width = 16, batch = 64, epochs = 8, log_every = 50, anchors = 3, head_convs = 1, patience = 0;
  int64_t steps_per_epoch = 0, val_count = 0, test_count = 0, warmup = 200;
  float lr = 2e-3f, weight_decay = 1e-4f, pos_iou = 0.5f, neg_iou = 0.4f, label_smoothing = 0.0f, ema = 0.0f;
  int box_bins = 0;
  std::optional<float> dfl_weight;
  std::optional<float> box_weight, class_weight;  // unset: the task's model config default
  uint64_t seed = 1;
  bool resume = false, no_cuda_graph = false;
  // A dataset on disk instead of a preset (models/training_data.h).
  std::string data, data_format, input, augment = "default";
  double val_fraction = 0.1;
};

// The images of a run: the digit bank (scene runs) or the loaded dataset (dataset runs).
struct RunImages {
  std::unique_ptr<locdet::data::DigitBank> bank;
  std::shared_ptr<const locdet::Dataset> dataset;
  models::DatasetSpec spec;

  models::TrainingData training_data(const models::RunSchedule& run) const {
    return run.on_files() ? models::TrainingData(dataset, run.data, run.data_seed)
                          : models::TrainingData(*bank, run.preset, run.data_seed);
  }
};

// --input HxW (empty: 0x0, from the images).
std::pair<int, int> parse_input(const std::string& text) {
  if (text.empty()) return {0, 0};
  int h = 0, w = 0;
  char x = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &h, &x, &w, &extra) != 3 || (x != 'x' && x != 'X') || h < 8 ||
      w < 8 || h % 4 || w % 4)
    locdet::fail("--input '", text, "': expected HEIGHTxWIDTH, multiples of 4 and at least 8, e.g. 48x60");
  return {h, w};
}

// What the command line asked for beyond the options' values: which flags were given, and
// how to run this program again.
struct Invocation {
  const CLI::App& app;
  std::string program;  // the absolute path of this executable
  bool given(const char* flag) const { return app.count(flag) > 0; }
};

// The flags that define the model: --resume takes them from the run, --init-from from its
// checkpoint.
constexpr const char* kModelFlags[] = {"--model",      "--width",       "--box-loss",   "--class-loss",
                                       "--anchors",    "--head-convs",  "--class-head", "--label-smoothing",
                                       "--box-bins",   "--dfl-weight",  "--pos-iou",    "--neg-iou",
                                       "--box-weight", "--class-weight"};
// The rest of what config.json fixes, the dataset flags included (a resumed run reads its
// dataset again as config.json says). --epochs is not among them: with --resume it extends
// (or shortens) the run.
constexpr const char* kRunFlags[] = {
    "--task",         "--preset", "--preset-file", "--batch",  "--steps-per-epoch",
    "--lr",           "--seed",   "--val-count",   "--warmup", "--weight-decay",
    "--patience",     "--data",   "--data-format", "--input",  "--augment",
    "--val-fraction", "--ema"};

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

void print_start(const std::string& out, locdet::Device device, const std::string& data,
                 const locdet::models::BackboneConfig& backbone, int batch, int epochs, int64_t steps,
                 const std::string& mode) {
  std::fprintf(stderr,
               "train_gpu: %s on %s | %s | model %s width %d | batch %d | %d epochs x %lld steps | %s\n",
               out.c_str(), locdet::device_name(device), data.c_str(), backbone.kind.c_str(), backbone.width,
               batch, epochs, static_cast<long long>(steps), mode.c_str());
  if (device == locdet::Device::kCpu)
    std::fprintf(stderr, "train_gpu: OpenMP workers wait: %s\n", locdet::openmp_wait_summary().c_str());
}

// What a dataset run read, before training starts.
void print_dataset(const models::DatasetSpec& s, int64_t device_bytes) {
  std::fprintf(
      stderr,
      "train_gpu: dataset %s (%s, %s) | input %dx%d | %zu classes | %lld train, %lld val (%s), %lld test "
      "images\n",
      s.dir.c_str(), s.format.c_str(), s.layout.c_str(), s.height, s.width, s.classes.size(),
      static_cast<long long>(s.train_images), static_cast<long long>(s.val_images), s.val_source.c_str(),
      static_cast<long long>(s.test_images));
  if (device_bytes > 0)
    std::fprintf(stderr, "train_gpu: the training images take %.1f MiB of GPU memory (uploaded once)\n",
                 device_bytes / 1048576.0);
}

// The flags every task shares: the batch, epochs and AdamW schedule, the seeds, the counts.
void schedule_from_options(const Options& o, models::RunSchedule& run) {
  run.batch = o.batch;
  run.epochs = o.epochs;
  run.steps_per_epoch = o.steps_per_epoch;
  run.lr = o.lr;
  run.weight_decay = o.weight_decay;
  run.ema_decay = o.ema;
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
                       const models::LabeledImages& images, double train_seconds,
                       std::chrono::steady_clock::time_point test_started) {
  report["split"] = "test";
  report["checkpoint"] = dir.best_checkpoint();
  report[run.on_files() ? "data" : "preset"] = run.on_files() ? run.data.dir : run.preset.name;
  report["images_scored"] = images.describe();
  report["trained_epochs"] = run.epochs;
  report["train_seconds"] = train_seconds;
  report["test_seconds"] = seconds_since(test_started);
  dir.write_json("eval.json", report);
}

// Trains `run` with `Trainer` into `dir` (or resumes it as `plan` says), then scores the best
// checkpoint on the run's test images with test(images, train_seconds); returns the exit code
// (130 when stopped).
template <class Trainer, class Run, class TestFn>
int train_and_test(const Options& o, const Invocation& call, const Run& run, const ResumePlan& plan,
                   locdet::Device device, locdet::RunDir& dir, const RunImages& images, TestFn&& test) {
  Trainer trainer(run, images.training_data(run), device, !o.no_cuda_graph);
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
  if (run.on_files()) print_dataset(run.data, trainer.data().device_bytes());
  std::string data = run.data_name();
  if (!run.on_files() && (run.preset.train_shear > 0.0f || run.preset.train_stroke > 0.0f)) {
    // Name only the augmentations the run uses: "shear +-0.3, stroke +-0.5", "stroke +-0.5".
    std::string augment;
    char item[48];
    for (const auto& [name, value] :
         {std::pair{"shear", run.preset.train_shear}, std::pair{"stroke", run.preset.train_stroke}}) {
      if (value <= 0.0f) continue;
      std::snprintf(item, sizeof item, "%s%s +-%g", augment.empty() ? "" : ", ", name, value);
      augment += item;
    }
    data += " (training digits: " + augment + ")";
  }
  print_start(o.out, device, data, run.model.backbone, run.batch, run.epochs, run.epoch_steps(),
              trainer.executor().mode());
  const locdet::TrainingResult result = train_until_done(trainer, dir, run.patience, o, call);
  if (result.end == locdet::TrainingEnd::kStopped) return 130;
  test(*trainer.data().images(locdet::data::Split::kTest), result.train_seconds);
  std::printf("wrote %s, %s, %s\n", dir.file("eval.json").c_str(), dir.best_checkpoint().c_str(),
              dir.file("overlays/test.png").c_str());
  return 0;
}

// ---- localizer ---------------------------------------------------------------------------------

models::LocalizerRun localizer_run_from_options(const Options& o, const RunImages& images) {
  models::LocalizerRun run;
  if (images.dataset) {
    run.data = images.spec;
  } else {
    run.preset = locdet::data::find_preset(o.preset.empty() ? "inf265-loc" : o.preset, o.preset_file);
    models::apply_scene_augment(o.augment, &run.preset);
  }
  if (!o.init_from.empty()) {
    run.model = models::read_localizer_run(o.init_from).model;  // the same model, anchor included
  } else {
    run.model.height = run.input_height();
    run.model.width = run.input_width();
    if (images.dataset) {
      run.model.class_names = run.data.classes;
      models::fit_anchor_to_boxes(run.model, images.training_data(run).training_box_sizes(2000));
    } else {
      models::fit_anchor_to_preset(run.model, *images.bank, run.preset);
    }
    run.model.backbone.kind = o.model;
    run.model.backbone.width = o.width;
    run.model.box_loss = o.box_loss;
    run.model.head_convs = o.head_convs;
    run.model.class_head = o.class_head;
    run.model.label_smoothing = o.label_smoothing;
    run.model.box_bins = o.box_bins;
    run.model.dfl_weight = o.dfl_weight.value_or(run.model.dfl_weight);
    run.model.class_weight = o.class_weight.value_or(run.model.class_weight);
    run.model.box_weight = o.box_weight.value_or(run.model.box_weight);
  }
  if (run.model.box_bins > 0) {  // also for --init-from: its bins against the new training boxes
    std::string reach;
    try {
      reach = models::check_box_bins_reach(run.model, images.training_data(run).training_box_sizes(2000));
    } catch (const locdet::Error& e) {
      if (o.init_from.empty()) throw;
      locdet::fail(e.what(), " for a new model, without --init-from: a trained head's bins cannot change");
    }
    if (!reach.empty()) std::fprintf(stderr, "train_gpu: warning: %s\n", reach.c_str());
  }
  schedule_from_options(o, run);
  run.validate();
  return run;
}

int train_localizer(const Options& o, const Invocation& call, const models::LocalizerRun& run,
                    const ResumePlan& plan, locdet::Device device, locdet::RunDir& dir,
                    const RunImages& images) {
  return train_and_test<models::LocalizerTrainer>(
      o, call, run, plan, device, dir, images, [&](const models::LabeledImages& data, double train_seconds) {
        const auto test_started = std::chrono::steady_clock::now();
        models::LocalizerPredictor predictor(run.model, 250, device);
        predictor.load_checkpoint(dir.best_checkpoint());
        std::vector<models::SampleResult> samples;
        const auto test = models::evaluate_localizer(predictor, data, run.test_count, {48, 0}, &samples);
        write_test_report(dir, test.to_json(), run, data, train_seconds, test_started);
        models::write_localizer_overlay(dir.file("overlays/test.png"), samples, run.model.height,
                                        run.model.width, 8, 3, run.model.class_names);
        std::printf(
            "test (%lld images: %s): accuracy %.2f%%  mean IoU %.4f  performance %.4f  presence accuracy "
            "%.2f%%\n",
            static_cast<long long>(test.images), data.describe().c_str(), 100.0 * test.accuracy,
            test.mean_iou, test.performance, 100.0 * test.presence_accuracy);
      });
}

// ---- detector ----------------------------------------------------------------------------------

models::DetectorRun detector_run_from_options(const Options& o, const RunImages& images) {
  models::DetectorRun run;
  if (images.dataset) {
    run.data = images.spec;
  } else {
    run.preset = locdet::data::find_preset(o.preset.empty() ? "det10" : o.preset, o.preset_file);
    models::apply_scene_augment(o.augment, &run.preset);
    LOCDET_CHECK(run.preset.task == "detection", "preset '", run.preset.name,
                 "' is a localization preset; --task detect needs det10, inf265-det or a detection preset");
  }
  if (!o.init_from.empty()) {
    run.model = models::read_detector_run(o.init_from).model;  // the same model, anchors included
  } else {
    run.model.backbone.kind = o.model;
    run.model.backbone.width = o.width;
    run.model.height = run.input_height();
    run.model.width = run.input_width();
    if (images.dataset) {
      run.model.classes.clear();
      for (size_t c = 0; c < run.data.classes.size(); ++c) run.model.classes.push_back(static_cast<int>(c));
      run.model.class_names = run.data.classes;
    } else {
      run.model.classes = run.preset.classes;
    }
    double mean_iou = 0;
    run.model.anchor_sizes = models::choose_anchors_for_boxes(
        images.training_data(run).training_box_sizes(2000), o.anchors, &mean_iou);
    std::fprintf(stderr,
                 "train_gpu: %d anchor sizes from %s's training boxes (mean best IoU %.3f):", o.anchors,
                 run.data_name().c_str(), mean_iou);
    for (const auto& [w, h] : run.model.anchor_sizes) std::fprintf(stderr, " %.2fx%.2f", w, h);
    std::fprintf(stderr, "\n");
    run.model.head_convs = o.head_convs;
    run.model.class_loss = o.class_loss;
    run.model.box_loss = o.box_loss;
    run.model.pos_iou = o.pos_iou;
    run.model.neg_iou = o.neg_iou;
    run.model.box_weight = o.box_weight.value_or(run.model.box_weight);
    run.model.class_weight = o.class_weight.value_or(run.model.class_weight);
  }
  schedule_from_options(o, run);
  run.validate();
  return run;
}

void print_detection(const char* what, const models::DetectionEvaluation& e) {
  std::printf("%s (%lld images): AP@[.5:.95] %.4f  AP50 %.4f  AP75 %.4f  AR@100 %.4f", what,
              static_cast<long long>(e.images), e.coco.map, e.coco.map50, e.coco.map75, e.coco.ar100);
  if (e.grid_performance >= 0)
    std::printf("  grid accuracy %.4f grid IoU %.4f grid performance %.4f", e.grid_accuracy, e.grid_mean_iou,
                e.grid_performance);
  std::printf("\n");
}

int train_detector(const Options& o, const Invocation& call, const models::DetectorRun& run,
                   const ResumePlan& plan, locdet::Device device, locdet::RunDir& dir,
                   const RunImages& images) {
  return train_and_test<models::DetectorTrainer>(
      o, call, run, plan, device, dir, images, [&](const models::LabeledImages& data, double train_seconds) {
        const auto test_started = std::chrono::steady_clock::now();
        models::DetectorPredictor predictor(run.model, 250, device);
        predictor.load_checkpoint(dir.best_checkpoint());
        std::vector<models::DetectionSample> samples;
        const auto test = models::evaluate_detector(predictor, data, run.test_count, {48, 0}, &samples);
        nlohmann::json report = test.to_json();
        report["classes"] = run.model.classes;  // the confusion matrix's rows and columns
        report["class_names"] = run.model.names();
        write_test_report(dir, report, run, data, train_seconds, test_started);
        models::write_detector_overlay(dir.file("overlays/test.png"), samples, run.model.height,
                                       run.model.width, models::kOverlayMinScore, 8, 4,
                                       run.model.label_names());
        print_detection(("test (" + data.describe() + ")").c_str(), test);
      });
}

// ---- the command --------------------------------------------------------------------------------

// The images a run trains on: its dataset (a new run's --data, loaded with --data-format,
// --input, --val-fraction and --augment; a resumed run's, read again as config.json says), or
// else the digit bank its preset renders scenes from. A dataset that cannot be read refuses the
// run before anything is written.
RunImages run_images(const Options& o, const models::RunSchedule* resumed) {
  RunImages images;
  if (resumed) {
    if (resumed->on_files())
      images.dataset = models::reload_training_dataset(resumed->data, resumed->data_seed);
  } else if (!o.data.empty()) {
    LOCDET_CHECK(o.preset.empty(), "pass --preset or --data, not both");
    const auto [height, width] = parse_input(o.input);
    models::LoadedDataset loaded =
        models::load_training_dataset(o.data, o.data_format, height, width, o.val_fraction, 0, o.augment);
    if (o.task == "localize") models::require_at_most_one_box(*loaded.dataset);
    images.dataset = std::move(loaded.dataset);
    images.spec = std::move(loaded.spec);
  }
  if (!images.dataset)
    images.bank = std::make_unique<locdet::data::DigitBank>(
        locdet::data::DigitBank::from_mnist(locdet::data::load_mnist(locdet::data::find_mnist_dir(o.mnist))));
  return images;
}

// A new run (from scratch or --init-from) or a resumed one, of the task's Run type. Every
// check that can fail runs before the run folder is created (RunDir creates it lazily).
template <class Run, class TrainFn>
int start_or_resume(const Options& o, const Invocation& call, locdet::RunDir& dir,
                    Run (*from_options)(const Options&, const RunImages&), TrainFn&& train_task) {
  Run run;
  ResumePlan plan;
  if (o.resume && !plan_resume(o, call, dir, run, plan)) return 0;
  const RunImages images = run_images(o, o.resume ? &run : nullptr);
  const locdet::Device device = locdet::choose_device(o.device, "train_gpu", "training");
  if (!o.resume) {
    try {
      run = from_options(o, images);
    } catch (const locdet::Error& e) {
      if (o.init_from.empty()) throw;
      locdet::fail(e.what(), " (the model comes from --init-from ", o.init_from, ")");
    }
  }
  return train_task(o, call, run, plan, device, dir, images);
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
  app.add_option("--data", o.data,
                 "train on a dataset folder instead of a preset: COCO (annotations.json), YOLO (images/ + "
                 "labels/) or CSV (file,x1,y1,x2,y2,class), in one folder or in train/ val/ test/ folders");
  app.add_option("--data-format", o.data_format, "with --data: coco | yolo | csv (default: detected)");
  app.add_option(
      "--input", o.input,
      "with --data: model input HEIGHTxWIDTH every image is letterboxed to (default: the most common "
      "image size)");
  app.add_option(
         "--val-fraction", o.val_fraction,
         "with --data and no val split: fraction of the training images held out (seeded by file name)")
      ->capture_default_str();
  app.add_option(
         "--augment", o.augment,
         "training augmentation; with --data: none | default | "
         "scale=0.9:1.1,translate=0.1,contrast=0.2,brightness=0.1,noise=0.05; with a preset: none | default "
         "(the preset's train_shear and train_stroke) | shear=0.3,stroke=0.7 (digit slant and stroke "
         "width, training scenes only)")
      ->capture_default_str();
  app.add_option("--model", o.model, "backbone: small | lean | resnet18")->capture_default_str();
  app.add_option("--width", o.width, "channels of the first backbone stage")->capture_default_str();
  app.add_option("--box-loss", o.box_loss,
                 "localize: mse | iou | giou | diou | ciou; detect: iou | giou | diou | ciou")
      ->capture_default_str();
  app.add_option("--class-loss", o.class_loss, "detect: focal | bce")->capture_default_str();
  app.add_option("--anchors", o.anchors, "detect: anchor sizes per cell (k-means over the preset's boxes)")
      ->capture_default_str();
  app.add_option("--head-convs", o.head_convs, "conv3x3-BN-ReLU layers in the head")->capture_default_str();
  app.add_option("--class-head", o.class_head,
                 "localize: cell (class logits per cell) | global (plus image-level logits from a "
                 "stride-8 branch, added to every cell's)")
      ->capture_default_str();
  app.add_option("--label-smoothing", o.label_smoothing, "localize: label smoothing of the class loss")
      ->capture_default_str();
  app.add_option("--box-bins", o.box_bins,
                 "localize: 0 = boxes as offset and size; N = each box edge a distribution over N 1-pixel "
                 "bins of distance from the cell centre (distribution focal loss)")
      ->capture_default_str();
  app.add_option("--pos-iou", o.pos_iou, "detect: anchor IoU for a positive")->capture_default_str();
  app.add_option("--neg-iou", o.neg_iou, "detect: anchor IoU below which it is a negative")
      ->capture_default_str();
  // Unset, each task takes its model config's default; the help quotes them.
  const models::LocalizerConfig localizer_defaults;
  const models::DetectorConfig detector_defaults;
  const auto per_task = [](float localize, float detect) {
    return " (default: localize " + CLI::detail::to_string(localize) + ", detect " +
           CLI::detail::to_string(detect) + ")";
  };
  app.add_option("--dfl-weight", o.dfl_weight,
                 "localize, with --box-bins: weight of the distribution focal loss (default " +
                     CLI::detail::to_string(localizer_defaults.dfl_weight) + ")");
  app.add_option(
      "--box-weight", o.box_weight,
      "weight of the box loss" + per_task(localizer_defaults.box_weight, detector_defaults.box_weight));
  app.add_option(
      "--class-weight", o.class_weight,
      "weight of the class loss" + per_task(localizer_defaults.class_weight, detector_defaults.class_weight));
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
  app.add_option("--ema", o.ema,
                 "keep an exponential moving average of the weights with this decay (e.g. 0.999; 0: off); "
                 "validation, the checkpoints' users and the export use the average")
      ->capture_default_str();
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
