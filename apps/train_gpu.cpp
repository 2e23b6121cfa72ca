// train_gpu: trains a localizer or a detector on augmented MNIST scenes or on a dataset on disk,
// entirely on the device (scene rendering or dataset augmentation, forward, loss, anchor matching,
// backward, optimizer), validates every epoch, keeps the best checkpoint, then evaluates it on the
// test split and draws overlays.
//
//   train_gpu --task localize --preset inf265-loc --model small --epochs 8 --out runs/loc
//   train_gpu --task detect --preset det10 --epochs 10 --out runs/det
//   train_gpu --task detect --data datasets/mine --epochs 20 --out runs/mine   (COCO/YOLO/CSV)
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
#include <memory>
#include <utility>

#include "engine/checkpoint.h"
#include "engine/train/run_dir.h"
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
  std::string task = "localize", preset, preset_file, model = "small", box_loss = "giou",
              class_loss = "focal";
  std::string device, out, mnist = locdet::data::default_mnist_dir();
  int width = 16, batch = 64, epochs = 8, log_every = 50, anchors = 3, head_convs = 1, patience = 0;
  int64_t steps_per_epoch = 0, val_count = 0, test_count = 0, warmup = 200;
  float lr = 2e-3f, weight_decay = 1e-4f, pos_iou = 0.5f, neg_iou = 0.4f, box_weight = 2.0f;
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

void check_resume_flags(const Options& o, const CLI::App& app) {
  if (!o.resume) return;
  for (const char* flag :
       {"--task",       "--preset",      "--preset-file",     "--model",   "--width",        "--box-loss",
        "--class-loss", "--anchors",     "--head-convs",      "--pos-iou", "--neg-iou",      "--box-weight",
        "--batch",      "--epochs",      "--steps-per-epoch", "--lr",      "--weight-decay", "--warmup",
        "--seed",       "--val-count",   "--patience",        "--data",    "--data-format",  "--input",
        "--augment",    "--val-fraction"}) {
    if (app.count(flag) > 0)
      locdet::fail("with --resume the run's settings come from ", o.out, "/config.json; drop ", flag);
  }
}

void print_start(const std::string& out, locdet::Device device, const std::string& data,
                 const locdet::models::BackboneConfig& backbone, int batch, int epochs, int64_t steps,
                 const std::string& mode) {
  std::fprintf(stderr,
               "train_gpu: %s on %s | %s | model %s width %d | batch %d | %d epochs x %lld steps | %s\n",
               out.c_str(), locdet::device_name(device), data.c_str(), backbone.kind.c_str(), backbone.width,
               batch, epochs, static_cast<long long>(steps), mode.c_str());
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

// Runs the training loop with Ctrl-C / SIGTERM as a clean stop; 130 when stopped.
int train_until_done(locdet::TrainingTask& task, locdet::RunDir& dir, const Options& o, int patience,
                     const char* argv0) {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  locdet::TrainingLoopOptions loop;
  loop.resume = o.resume;
  loop.log_every = o.log_every;
  loop.patience = patience;
  loop.stop_requested = [] {
    return g_stop_signal ? "signal " + std::to_string(g_stop_signal) : std::string();
  };
  loop.resume_command = std::string(argv0) + " --out " + o.out + " --resume";
  return locdet::run_training_loop(task, dir, loop) == locdet::TrainingEnd::kStopped ? 130 : 0;
}

// eval.json for the best checkpoint on the test split.
void write_test_report(locdet::RunDir& dir, nlohmann::json report, const models::RunSchedule& run,
                       const models::LabeledImages& images, std::chrono::steady_clock::time_point started) {
  report["split"] = "test";
  report["checkpoint"] = dir.best_checkpoint();
  report[run.on_files() ? "data" : "preset"] = run.on_files() ? run.data.dir : run.preset.name;
  report["images_scored"] = images.describe();
  report["train_seconds"] = seconds_since(started);
  dir.write_json("eval.json", report);
}

// ---- localizer ---------------------------------------------------------------------------------

models::LocalizerRun localizer_run_from_options(const Options& o, const RunImages& images) {
  models::LocalizerRun run;
  if (images.dataset) {
    locdet::models::require_at_most_one_box(*images.dataset);
    run.data = images.spec;
    run.model.height = run.data.height;
    run.model.width = run.data.width;
    run.model.class_names = run.data.classes;
    models::fit_anchor_to_boxes(run.model, images.training_data(run).training_box_sizes(2000));
  } else {
    run.preset = locdet::data::find_preset(o.preset.empty() ? "inf265-loc" : o.preset, o.preset_file);
    models::fit_anchor_to_preset(run.model, *images.bank, run.preset);
    run.model.height = run.preset.height;
    run.model.width = run.preset.width;
  }
  run.model.backbone.kind = o.model;
  run.model.backbone.width = o.width;
  run.model.box_loss = o.box_loss;
  schedule_from_options(o, run);
  run.validate();
  return run;
}

// Trains `run` with `Trainer` into `dir` (or resumes it), then scores the best checkpoint on
// the test split with test(started); returns the exit code.
template <class Trainer, class Run, class TestFn>
int train_and_test(const Options& o, const Run& run, locdet::Device device, locdet::RunDir& dir,
                   const RunImages& images, const char* argv0, TestFn&& test) {
  Trainer trainer(run, images.training_data(run), device, !o.no_cuda_graph);
  if (!o.resume) dir.write_json("config.json", run.to_json());
  if (run.on_files()) print_dataset(run.data, trainer.data().device_bytes());
  print_start(o.out, device, run.data_name(), run.model.backbone, run.batch, run.epochs, run.epoch_steps(),
              trainer.executor().mode());
  const auto started = std::chrono::steady_clock::now();
  if (int code = train_until_done(trainer, dir, o, run.patience, argv0)) return code;
  test(trainer.data().images(locdet::data::Split::kTest), started);
  std::printf("wrote %s, %s, %s\n", dir.file("eval.json").c_str(), dir.best_checkpoint().c_str(),
              dir.file("overlays/test.png").c_str());
  return 0;
}

int train_localizer(const Options& o, locdet::Device device, locdet::RunDir& dir,
                    const models::LocalizerRun& run, const RunImages& images, const char* argv0) {
  return train_and_test<models::LocalizerTrainer>(
      o, run, device, dir, images, argv0, [&](auto data, auto started) {
        models::LocalizerPredictor predictor(run.model, 250, device);
        predictor.load_checkpoint(dir.best_checkpoint());
        std::vector<models::SampleResult> samples;
        const auto test = models::evaluate_localizer(predictor, *data, o.test_count, 48, &samples);
        write_test_report(dir, test.to_json(), run, *data, started);
        models::write_localizer_overlay(dir.file("overlays/test.png"), samples, run.model.height,
                                        run.model.width, 8, 3, run.model.class_names);
        std::printf(
            "test (%lld images: %s): accuracy %.2f%%  mean IoU %.4f  performance %.4f  presence accuracy "
            "%.2f%%\n",
            static_cast<long long>(test.images), data->describe().c_str(), 100.0 * test.accuracy,
            test.mean_iou, test.performance, 100.0 * test.presence_accuracy);
      });
}

// ---- detector ----------------------------------------------------------------------------------

models::DetectorRun detector_run_from_options(const Options& o, const RunImages& images) {
  models::DetectorRun run;
  if (images.dataset) {
    run.data = images.spec;
    run.model.height = run.data.height;
    run.model.width = run.data.width;
    run.model.classes.clear();
    for (size_t c = 0; c < run.data.classes.size(); ++c) run.model.classes.push_back(static_cast<int>(c));
    run.model.class_names = run.data.classes;
  } else {
    run.preset = locdet::data::find_preset(o.preset.empty() ? "det10" : o.preset, o.preset_file);
    LOCDET_CHECK(run.preset.task == "detection", "preset '", run.preset.name,
                 "' is a localization preset; --task detect needs det10, inf265-det or a detection preset");
    run.model.height = run.preset.height;
    run.model.width = run.preset.width;
    run.model.classes = run.preset.classes;
  }
  run.model.backbone.kind = o.model;
  run.model.backbone.width = o.width;
  double mean_iou = 0;
  run.model.anchor_sizes = models::choose_anchors_for_boxes(
      images.training_data(run).training_box_sizes(2000), o.anchors, &mean_iou);
  std::fprintf(stderr, "train_gpu: %d anchor sizes from %s's training boxes (mean best IoU %.3f):", o.anchors,
               run.data_name().c_str(), mean_iou);
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
  std::printf("%s (%lld images): AP@[.5:.95] %.4f  AP50 %.4f  AP75 %.4f  AR@100 %.4f", what,
              static_cast<long long>(e.images), e.coco.map, e.coco.map50, e.coco.map75, e.coco.ar100);
  if (e.grid_performance >= 0)
    std::printf("  grid accuracy %.4f grid IoU %.4f grid performance %.4f", e.grid_accuracy, e.grid_mean_iou,
                e.grid_performance);
  std::printf("\n");
}

int train_detector(const Options& o, locdet::Device device, locdet::RunDir& dir,
                   const models::DetectorRun& run, const RunImages& images, const char* argv0) {
  return train_and_test<models::DetectorTrainer>(
      o, run, device, dir, images, argv0, [&](auto data, auto started) {
        models::DetectorPredictor predictor(run.model, 250, device);
        predictor.load_checkpoint(dir.best_checkpoint());
        std::vector<models::DetectionSample> samples;
        const auto test = models::evaluate_detector(predictor, *data, o.test_count, 48, &samples);
        write_test_report(dir, test.to_json(), run, *data, started);
        models::write_detector_overlay(dir.file("overlays/test.png"), samples, run.model.height,
                                       run.model.width, 0.3f, 8, 3, run.model.names());
        print_detection(("test (" + data->describe() + ")").c_str(), test);
      });
}

int train(Options o, const CLI::App& app, const char* argv0) {
  check_resume_flags(o, app);
  auto check_task = [&] {
    if (o.task != "localize" && o.task != "detect")
      locdet::fail("unknown --task '", o.task, "': use localize or detect");
  };
  RunImages images;
  if (!o.resume) {  // everything that can refuse the input, before the run folder is created
    check_task();
    LOCDET_CHECK(o.data.empty() || o.preset.empty(), "pass --preset or --data, not both");
    if (!o.data.empty()) {
      const auto [height, width] = parse_input(o.input);
      models::LoadedDataset loaded =
          models::load_training_dataset(o.data, o.data_format, height, width, o.val_fraction, 0, o.augment);
      if (o.task == "localize") models::require_at_most_one_box(*loaded.dataset);
      images.dataset = std::move(loaded.dataset);
      images.spec = std::move(loaded.spec);
    }
  }
  const locdet::Device device = choose_device(o.device);
  locdet::RunDir dir(o.out, o.resume);
  nlohmann::json config;
  if (o.resume) {
    config = dir.read_json("config.json");
    o.task = config.at("task").get<std::string>();
    if (config.contains("data"))
      images.dataset = models::reload_training_dataset(models::DatasetSpec::from_json(config.at("data")),
                                                       config.value("data_seed", uint64_t{0}));
  }
  check_task();
  if (!images.dataset)
    images.bank = std::make_unique<locdet::data::DigitBank>(
        locdet::data::DigitBank::from_mnist(locdet::data::load_mnist(o.mnist)));
  if (o.task == "detect")
    return train_detector(
        o, device, dir,
        o.resume ? models::DetectorRun::from_json(config) : detector_run_from_options(o, images), images,
        argv0);
  return train_localizer(
      o, device, dir,
      o.resume ? models::LocalizerRun::from_json(config) : localizer_run_from_options(o, images), images,
      argv0);
}

}  // namespace

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  CLI::App app{
      "Train a digit localizer or detector on augmented MNIST scenes (on the GPU when there is one)"};
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
         "with --data: none | default | scale=0.9:1.1,translate=0.1,contrast=0.2,brightness=0.1,noise=0.05")
      ->capture_default_str();
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
    return train(o, app, argv[0]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_gpu: error: %s\n", e.what());
    return 1;
  }
}
