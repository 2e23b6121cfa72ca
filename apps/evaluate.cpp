// evaluate: scores a trained localizer or detector on a split of its data. The checkpoint
// carries its task, model and data (preset or dataset), so no other flag is needed; --data DIR
// scores it on a dataset folder instead, --preset NAME on another preset's rendered scenes.
// Detectors report COCO-style AP (JSON keys map, map50, map75, per_class_ap, ar100, PR curves,
// confusion matrix).
//   evaluate --checkpoint runs/loc/checkpoint.safetensors --split test [--count N] [--json OUT]
//   evaluate --checkpoint runs/det/checkpoint.safetensors --data datasets/mine [--split test]
//            [--overlay first.png] [--mistakes mistakes.png]
// --dump FILE.safetensors also writes the scenes, their labels and the model's raw outputs
// (metadata: task, run, split, report), e.g. for tools/check_onnx.py.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <memory>

#include "apps/cli.h"
#include "engine/tensor_dump.h"
#include "kernels/base/atomic_file.h"
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

std::string label_name(const locdet::eval::LocalizationReport& r, int k) {
  return k == r.none_label() ? "none" : r.class_names[k];
}

void print_report(const locdet::eval::LocalizationReport& r) {
  std::printf("images %lld (with a digit: %lld)\n", static_cast<long long>(r.images),
              static_cast<long long>(r.images_with_digit));
  std::printf("accuracy %.2f%%  mean IoU %.4f  performance %.4f  presence accuracy %.2f%%\n",
              100 * r.accuracy, r.mean_iou, r.performance, 100 * r.presence_accuracy);
  std::printf("\n%-13s %9s %9s %9s %8s\n", "", "precision", "recall", "f1", "support");
  for (int k = 0; k <= r.none_label(); ++k) {
    const auto& c = r.per_class[k];
    std::printf("%-13s %9.4f %9.4f %9.4f %8lld\n", label_name(r, k).c_str(), c.precision, c.recall, c.f1,
                static_cast<long long>(c.support));
  }
  std::printf("%-13s %9.4f %9.4f %9.4f %8lld\n", "macro avg", r.macro.precision, r.macro.recall, r.macro.f1,
              static_cast<long long>(r.macro.support));
  std::printf("%-13s %9.4f %9.4f %9.4f %8lld\n", "weighted avg", r.weighted.precision, r.weighted.recall,
              r.weighted.f1, static_cast<long long>(r.weighted.support));
  std::printf("\nconfusion matrix (rows: truth, columns: prediction)\n      ");
  for (int k = 0; k <= r.none_label(); ++k) std::printf("%6.6s", label_name(r, k).c_str());
  std::printf("\n");
  for (int t = 0; t <= r.none_label(); ++t) {
    std::printf("%5.5s ", label_name(r, t).c_str());
    for (int p = 0; p <= r.none_label(); ++p) std::printf("%6lld", static_cast<long long>(r.confusion[t][p]));
    std::printf("\n");
  }
  std::printf("\nIoU histogram (10 bins over [0, 1]):");
  for (auto count : r.iou_histogram) std::printf(" %lld", static_cast<long long>(count));
  std::printf("\n");
}

void print_detection_report(const locdet::models::DetectionEvaluation& e,
                            const std::vector<std::string>& names) {
  const locdet::eval::CocoReport& r = e.coco;
  std::printf("images %lld\n", static_cast<long long>(e.images));
  std::printf("AP@[.5:.95] %.4f  AP50 %.4f  AP75 %.4f  AR@100 %.4f\n", r.map, r.map50, r.map75, r.ar100);
  if (e.grid_performance >= 0)
    std::printf("2x3 grid (the INF265 metric): accuracy %.4f  mean IoU %.4f  performance %.4f\n",
                e.grid_accuracy, e.grid_mean_iou, e.grid_performance);
  std::printf("\n%-12s %9s %9s\n", "class", "AP", "AR@100");
  for (size_t c = 0; c < names.size(); ++c)
    std::printf("%-12s %9.4f %9.4f\n", names[c].c_str(), r.per_class_ap[c], r.per_class_ar100[c]);
  std::printf(
      "\nconfusion matrix at score >= %.2f (rows: truth, columns: prediction; bg = background)\n      ",
      r.confusion_score_threshold);
  for (size_t c = 0; c <= names.size(); ++c)
    std::printf("%6.6s", c == names.size() ? "bg" : names[c].c_str());
  std::printf("\n");
  for (size_t t = 0; t <= names.size(); ++t) {
    std::printf("%5.5s ", t == names.size() ? "bg" : names[t].c_str());
    for (size_t p = 0; p <= names.size(); ++p)
      std::printf("%6lld", static_cast<long long>(r.confusion[t][p]));
    std::printf("\n");
  }
}

// What evaluate writes besides its printed report: --json, the first images of the split
// (--overlay: what train_gpu's overlays/test.png shows for the test split), the first ones it
// got wrong (--mistakes), and --dump.
struct Outputs {
  std::string json, first, mistakes, dump;
  static constexpr int kScenes = 48;
  locdet::models::OverlayPick pick() const {
    return {first.empty() ? 0 : kScenes, mistakes.empty() ? 0 : kScenes};
  }
};

// What to score and write: the checkpoint, the images (the run's own split, or
// `source`'s; `bank` loads the digit bank when scenes are rendered) and the outputs.
struct Request {
  std::string checkpoint, split_name = "test";
  int64_t count = 0;
  Outputs out;
  locdet::Device device = locdet::Device::kCpu;
  locdet::models::EvaluationSource source;
  std::function<const locdet::data::DigitBank&()> bank;
};

// The --json keys that say what was scored: the run's data (its preset, or its dataset) and the
// images.
nlohmann::json scored(const locdet::models::RunSchedule& run, const locdet::models::LabeledImages& images) {
  return {{run.on_files() ? "data" : "preset", run.data_name()}, {"images_scored", images.describe()}};
}

// Writes what `q.out` asks for: --json (`report` with the keys of `about`), the overlays
// (draw(path, samples) draws one) and --dump.
template <class Sample, class DrawFn>
void write_outputs(const Request& q, const std::string& task, const nlohmann::json& run,
                   const nlohmann::json& report, const nlohmann::json& about,
                   const std::vector<Sample>& first, const std::vector<Sample>& mistakes, DrawFn&& draw,
                   locdet::TensorDump& dump) {
  const Outputs& out = q.out;
  if (!out.json.empty()) {
    nlohmann::json j = report;
    j.update(about);
    j["task"] = task;
    j["split"] = q.split_name;
    j["checkpoint"] = q.checkpoint;
    locdet::write_file_atomic(out.json, j.dump(2) + "\n");
    std::printf("wrote %s\n", out.json.c_str());
  }
  if (!out.first.empty()) {
    draw(out.first, first);
    std::printf("wrote %s (the first %zu images)\n", out.first.c_str(), first.size());
  }
  if (!out.mistakes.empty()) {
    draw(out.mistakes, mistakes);
    std::printf("wrote %s (the first %zu images with a mistake)\n", out.mistakes.c_str(), mistakes.size());
  }
  if (!out.dump.empty()) {
    dump.write(out.dump, {{"locdet.task", task},
                          {"locdet.run", run.dump()},
                          {"locdet.checkpoint", q.checkpoint},
                          {"locdet.split", q.split_name},
                          {"locdet.report", report.dump()}});
    std::printf("wrote %s (%lld scenes)\n", out.dump.c_str(), static_cast<long long>(dump.rows("image")));
  }
}

int evaluate_detector(const Request& q) {
  namespace models = locdet::models;
  const models::DetectorRun run = models::read_detector_run(q.checkpoint);
  const auto images = models::evaluation_images(run, run.model.names(), run.model.classes, q.source, q.bank);
  models::DetectorPredictor predictor(run.model, 250, q.device);
  predictor.load_checkpoint(q.checkpoint);
  std::vector<models::DetectionSample> first, mistakes;
  locdet::TensorDump dump;
  const auto report = models::evaluate_detector(predictor, *images, q.count, q.out.pick(), &first, &mistakes,
                                                q.out.dump.empty() ? nullptr : &dump);
  std::printf("checkpoint %s | %s | detector %s width %d\n", q.checkpoint.c_str(), images->describe().c_str(),
              run.model.backbone.kind.c_str(), run.model.backbone.width);
  print_detection_report(report, run.model.names());
  nlohmann::json about = scored(run, *images);
  about["classes"] = run.model.classes;
  about["class_names"] = run.model.names();
  write_outputs(
      q, "detect", run.to_json(), report.to_json(), about, first, mistakes,
      [&](const std::string& path, const std::vector<models::DetectionSample>& samples) {
        models::write_detector_overlay(path, samples, run.model.height, run.model.width,
                                       models::kOverlayMinScore, 8, 4, run.model.label_names());
      },
      dump);
  return 0;
}

int evaluate_localizer(const Request& q) {
  namespace models = locdet::models;
  const models::LocalizerRun run = models::read_localizer_run(q.checkpoint);
  const auto images = models::evaluation_images(run, run.model.class_names, {}, q.source, q.bank);
  models::LocalizerPredictor predictor(run.model, 250, q.device);
  predictor.load_checkpoint(q.checkpoint);
  std::vector<models::SampleResult> first, mistakes;
  locdet::TensorDump dump;
  const auto report = models::evaluate_localizer(predictor, *images, q.count, q.out.pick(), &first, &mistakes,
                                                 q.out.dump.empty() ? nullptr : &dump);
  std::printf("checkpoint %s | %s | model %s width %d\n", q.checkpoint.c_str(), images->describe().c_str(),
              run.model.backbone.kind.c_str(), run.model.backbone.width);
  print_report(report);
  write_outputs(
      q, "localize", run.to_json(), report.to_json(), scored(run, *images), first, mistakes,
      [&](const std::string& path, const std::vector<models::SampleResult>& samples) {
        models::write_localizer_overlay(path, samples, run.model.height, run.model.width, 8, 3,
                                        run.model.class_names);
      },
      dump);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  CLI::App app{"Evaluate a trained localizer or detector on a split of its data, or on a dataset folder",
               "evaluate"};
  Request q;
  std::string device_name, mnist;
  app.add_option("--checkpoint", q.checkpoint, "checkpoint written by train_gpu")->required();
  app.add_option("--split", q.split_name, "train | val | test")->capture_default_str();
  app.add_option("--count", q.count, "number of images (default: the whole split)");
  app.add_option(
      "--data", q.source.data_dir,
      "score on this dataset folder (COCO / YOLO / CSV; its --split folder when it has split folders, "
      "else all of it) instead of the checkpoint's data");
  app.add_option("--data-format", q.source.data_format, "with --data: coco | yolo | csv (default: detected)");
  app.add_option("--preset", q.source.preset, "score on this preset's rendered --split instead");
  app.add_option("--preset-file", q.source.preset_file, "JSON file with user presets");
  app.add_option("--json", q.out.json, "also write the report as JSON to this file");
  app.add_option("--overlay", q.out.first,
                 "also draw the first 48 images with truth and prediction to this PNG (for the test split: "
                 "what train_gpu's overlays/test.png shows)");
  app.add_option("--mistakes", q.out.mistakes,
                 "also draw the first 48 images the model got wrong to this PNG");
  app.add_option("--dump", q.out.dump,
                 "also write the images, their labels and the model's raw outputs to this safetensors file "
                 "(for comparing another runtime: tools/check_onnx.py)");
  app.add_option("--device", device_name, "cuda | cpu (default: cuda when a GPU is present)");
  app.add_option("--mnist", mnist,
                 "MNIST folder (default: $LOCDET_MNIST_DIR, else data/mnist of the source tree this program "
                 "was built in, else ./data/mnist)");
  if (const int code = locdet::apps::parse_command_line(app, argc, argv); code >= 0) return code;
  try {
    LOCDET_CHECK(q.count >= 0, "--count must be >= 0, got ", q.count);
    q.source.split = locdet::data::parse_split(q.split_name);
    const std::string task = locdet::models::read_checkpoint_task(q.checkpoint);
    q.device = locdet::choose_device(device_name, "evaluate");
    std::unique_ptr<locdet::data::DigitBank> bank;  // loaded only when scenes are scored
    q.bank = [&]() -> const locdet::data::DigitBank& {
      if (!bank)
        bank = std::make_unique<locdet::data::DigitBank>(locdet::data::DigitBank::from_mnist(
            locdet::data::load_mnist(locdet::data::find_mnist_dir(mnist))));
      return *bank;
    };
    return task == "detect" ? evaluate_detector(q) : evaluate_localizer(q);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "evaluate: error: %s\n", e.what());
    return 1;
  }
}
