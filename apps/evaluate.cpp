// evaluate: scores a trained localizer or detector on a split of its preset. The checkpoint
// carries its task, model and preset, so no other flag is needed. Detectors report COCO-style
// AP (JSON keys map, map50, map75, per_class_ap, ar100, PR curves, confusion matrix).
//   evaluate --checkpoint runs/loc/checkpoint.safetensors --split test [--count N] [--json OUT]
//            [--overlay first.png] [--mistakes mistakes.png]
// --dump FILE.safetensors also writes the scenes, their labels and the model's raw outputs
// (metadata: task, run, split, report), e.g. for tools/check_onnx.py.
#include <CLI/CLI.hpp>
#include <cstdio>

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

namespace {

void print_report(const locdet::eval::LocalizationReport& r) {
  std::printf("images %lld (with a digit: %lld)\n", static_cast<long long>(r.images),
              static_cast<long long>(r.images_with_digit));
  std::printf("accuracy %.2f%%  mean IoU %.4f  performance %.4f  presence accuracy %.2f%%\n",
              100 * r.accuracy, r.mean_iou, r.performance, 100 * r.presence_accuracy);
  std::printf("\n%-13s %9s %9s %9s %8s\n", "", "precision", "recall", "f1", "support");
  for (int k = 0; k < locdet::eval::kNumLocLabels; ++k) {
    const auto& c = r.per_class[k];
    std::printf("%-13s %9.4f %9.4f %9.4f %8lld\n",
                k == locdet::eval::kNoneLabel ? "none" : std::to_string(k).c_str(), c.precision, c.recall,
                c.f1, static_cast<long long>(c.support));
  }
  std::printf("%-13s %9.4f %9.4f %9.4f %8lld\n", "macro avg", r.macro.precision, r.macro.recall, r.macro.f1,
              static_cast<long long>(r.macro.support));
  std::printf("%-13s %9.4f %9.4f %9.4f %8lld\n", "weighted avg", r.weighted.precision, r.weighted.recall,
              r.weighted.f1, static_cast<long long>(r.weighted.support));
  std::printf("\nconfusion matrix (rows: truth, columns: prediction; 10 = none)\n     ");
  for (int k = 0; k < locdet::eval::kNumLocLabels; ++k) std::printf("%6d", k);
  std::printf("\n");
  for (int t = 0; t < locdet::eval::kNumLocLabels; ++t) {
    std::printf("%4d ", t);
    for (int p = 0; p < locdet::eval::kNumLocLabels; ++p)
      std::printf("%6lld", static_cast<long long>(r.confusion[t][p]));
    std::printf("\n");
  }
  std::printf("\nIoU histogram (10 bins over [0, 1]):");
  for (auto count : r.iou_histogram) std::printf(" %lld", static_cast<long long>(count));
  std::printf("\n");
}

void print_detection_report(const locdet::models::DetectionEvaluation& e, const std::vector<int>& digits) {
  const locdet::eval::CocoReport& r = e.coco;
  std::printf("images %lld\n", static_cast<long long>(e.images));
  std::printf("AP@[.5:.95] %.4f  AP50 %.4f  AP75 %.4f  AR@100 %.4f\n", r.map, r.map50, r.map75, r.ar100);
  if (e.grid_performance >= 0)
    std::printf("2x3 grid (the INF265 metric): accuracy %.4f  mean IoU %.4f  performance %.4f\n",
                e.grid_accuracy, e.grid_mean_iou, e.grid_performance);
  std::printf("\n%-7s %9s %9s\n", "digit", "AP", "AR@100");
  for (size_t c = 0; c < digits.size(); ++c)
    std::printf("%-7d %9.4f %9.4f\n", digits[c], r.per_class_ap[c], r.per_class_ar100[c]);
  std::printf(
      "\nconfusion matrix at score >= %.2f (rows: truth, columns: prediction; bg = background)\n      ",
      r.confusion_score_threshold);
  for (size_t c = 0; c <= digits.size(); ++c)
    std::printf("%6s", c == digits.size() ? "bg" : std::to_string(digits[c]).c_str());
  std::printf("\n");
  for (size_t t = 0; t <= digits.size(); ++t) {
    std::printf("%5s ", t == digits.size() ? "bg" : std::to_string(digits[t]).c_str());
    for (size_t p = 0; p <= digits.size(); ++p)
      std::printf("%6lld", static_cast<long long>(r.confusion[t][p]));
    std::printf("\n");
  }
}

// What evaluate writes besides its printed report: --json, the first scenes of the split
// (--overlay: what train_gpu's overlays/test.png shows for the test split), the first ones it
// got wrong (--mistakes), and --dump.
struct Outputs {
  std::string json, first, mistakes, dump;
  static constexpr int kScenes = 48;
  locdet::models::OverlayPick pick() const {
    return {first.empty() ? 0 : kScenes, mistakes.empty() ? 0 : kScenes};
  }
};

// Writes what `out` asks for; draw(path, samples) draws one overlay.
template <class Sample, class DrawFn>
void write_outputs(const Outputs& out, const std::string& task, const nlohmann::json& run,
                   const std::string& checkpoint, const std::string& split, const nlohmann::json& report,
                   const std::vector<Sample>& first, const std::vector<Sample>& mistakes, DrawFn&& draw,
                   locdet::TensorDump& dump) {
  if (!out.json.empty()) {
    nlohmann::json j = report;
    j["task"] = task;
    j["split"] = split;
    j["checkpoint"] = checkpoint;
    j["preset"] = run.at("preset").at("name");
    if (task == "detect") j["classes"] = run.at("model").at("classes");
    locdet::write_file_atomic(out.json, j.dump(2) + "\n");
    std::printf("wrote %s\n", out.json.c_str());
  }
  if (!out.first.empty()) {
    draw(out.first, first);
    std::printf("wrote %s (the first %zu scenes)\n", out.first.c_str(), first.size());
  }
  if (!out.mistakes.empty()) {
    draw(out.mistakes, mistakes);
    std::printf("wrote %s (the first %zu scenes with a mistake)\n", out.mistakes.c_str(), mistakes.size());
  }
  if (!out.dump.empty()) {
    dump.write(out.dump, {{"locdet.task", task},
                          {"locdet.run", run.dump()},
                          {"locdet.checkpoint", checkpoint},
                          {"locdet.split", split},
                          {"locdet.report", report.dump()}});
    std::printf("wrote %s (%lld scenes)\n", out.dump.c_str(), static_cast<long long>(dump.rows("image")));
  }
}

int evaluate_detector(const std::string& checkpoint, const std::string& split_name, int64_t count,
                      const Outputs& out, locdet::Device device, const locdet::data::DigitBank& bank) {
  namespace models = locdet::models;
  const models::DetectorRun run = models::read_detector_run(checkpoint);
  models::DetectorPredictor predictor(run.model, 250, device);
  predictor.load_checkpoint(checkpoint);
  std::vector<models::DetectionSample> first, mistakes;
  locdet::TensorDump dump;
  const auto report = models::evaluate_detector(
      predictor, bank, run.preset, locdet::data::parse_split(split_name), run.data_seed, count, out.pick(),
      &first, &mistakes, out.dump.empty() ? nullptr : &dump);
  std::printf("checkpoint %s | preset %s | split %s | detector %s width %d\n", checkpoint.c_str(),
              run.preset.name.c_str(), split_name.c_str(), run.model.backbone.kind.c_str(),
              run.model.backbone.width);
  print_detection_report(report, run.model.classes);
  write_outputs(
      out, "detect", run.to_json(), checkpoint, split_name, report.to_json(), first, mistakes,
      [&](const std::string& path, const std::vector<models::DetectionSample>& samples) {
        models::write_detector_overlay(path, samples, run.preset.height, run.preset.width);
      },
      dump);
  return 0;
}

int evaluate_localizer(const std::string& checkpoint, const std::string& split_name, int64_t count,
                       const Outputs& out, locdet::Device device, const locdet::data::DigitBank& bank) {
  namespace models = locdet::models;
  const models::LocalizerRun run = models::read_localizer_run(checkpoint);
  models::LocalizerPredictor predictor(run.model, 250, device);
  predictor.load_checkpoint(checkpoint);
  std::vector<models::SampleResult> first, mistakes;
  locdet::TensorDump dump;
  const auto report = models::evaluate_localizer(
      predictor, bank, run.preset, locdet::data::parse_split(split_name), run.data_seed, count, out.pick(),
      &first, &mistakes, out.dump.empty() ? nullptr : &dump);
  std::printf("checkpoint %s | preset %s | split %s | model %s width %d\n", checkpoint.c_str(),
              run.preset.name.c_str(), split_name.c_str(), run.model.backbone.kind.c_str(),
              run.model.backbone.width);
  print_report(report);
  write_outputs(
      out, "localize", run.to_json(), checkpoint, split_name, report.to_json(), first, mistakes,
      [&](const std::string& path, const std::vector<models::SampleResult>& samples) {
        models::write_localizer_overlay(path, samples, run.preset.height, run.preset.width);
      },
      dump);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  CLI::App app{"Evaluate a trained localizer or detector on a split of its preset", "evaluate"};
  std::string checkpoint, split_name = "test", device_name, mnist;
  Outputs out;
  int64_t count = 0;
  app.add_option("--checkpoint", checkpoint, "checkpoint written by train_gpu")->required();
  app.add_option("--split", split_name, "train | val | test")->capture_default_str();
  app.add_option("--count", count, "number of scenes (default: the whole split)");
  app.add_option("--json", out.json, "also write the report as JSON to this file");
  app.add_option("--overlay", out.first,
                 "also draw the first 48 scenes with truth and prediction to this PNG (for the test split: "
                 "what train_gpu's overlays/test.png shows)");
  app.add_option("--mistakes", out.mistakes, "also draw the first 48 scenes the model got wrong to this PNG");
  app.add_option("--dump", out.dump,
                 "also write the scenes, their labels and the model's raw outputs to this safetensors file "
                 "(for comparing another runtime: tools/check_onnx.py)");
  app.add_option("--device", device_name, "cuda | cpu (default: cuda when a GPU is present)");
  app.add_option("--mnist", mnist,
                 "MNIST folder (default: $LOCDET_MNIST_DIR, else data/mnist of the source tree this program "
                 "was built in, else ./data/mnist)");
  if (const int code = locdet::apps::parse_command_line(app, argc, argv); code >= 0) return code;
  try {
    LOCDET_CHECK(count >= 0, "--count must be >= 0, got ", count);
    locdet::data::parse_split(split_name);
    const std::string task = locdet::models::read_checkpoint_task(checkpoint);
    const locdet::Device device = locdet::choose_device(device_name, "evaluate");
    const locdet::data::DigitBank bank =
        locdet::data::DigitBank::from_mnist(locdet::data::load_mnist(locdet::data::find_mnist_dir(mnist)));
    if (task == "detect") return evaluate_detector(checkpoint, split_name, count, out, device, bank);
    return evaluate_localizer(checkpoint, split_name, count, out, device, bank);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "evaluate: error: %s\n", e.what());
    return 1;
  }
}
