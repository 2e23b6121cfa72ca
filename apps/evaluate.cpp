// evaluate: scores a trained localizer on a split of its preset. The checkpoint carries its
// model and preset, so no other flag is needed.
//   evaluate --checkpoint runs/loc/checkpoint.safetensors --split test [--count N] [--json OUT]
#include <CLI/CLI.hpp>

#include <cstdio>

#include "engine/core/atomic_file.h"
#include "engine/core/device.h"
#include "engine/core/error.h"
#include "engine/data/mnist.h"
#include "models/localizer_task.h"

namespace {

void print_report(const locdet::eval::LocalizationReport& r) {
  std::printf("images %lld (with a digit: %lld)\n", static_cast<long long>(r.images),
              static_cast<long long>(r.images_with_digit));
  std::printf("accuracy %.2f%%  mean IoU %.4f  performance %.4f  presence accuracy %.2f%%\n", 100 * r.accuracy,
              r.mean_iou, r.performance, 100 * r.presence_accuracy);
  std::printf("\n%-13s %9s %9s %9s %8s\n", "", "precision", "recall", "f1", "support");
  for (int k = 0; k < locdet::eval::kNumLocLabels; ++k) {
    const auto& c = r.per_class[k];
    std::printf("%-13s %9.4f %9.4f %9.4f %8lld\n", k == locdet::eval::kNoneLabel ? "none" : std::to_string(k).c_str(),
                c.precision, c.recall, c.f1, static_cast<long long>(c.support));
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
    for (int p = 0; p < locdet::eval::kNumLocLabels; ++p) std::printf("%6lld", static_cast<long long>(r.confusion[t][p]));
    std::printf("\n");
  }
  std::printf("\nIoU histogram (10 bins over [0, 1]):");
  for (auto count : r.iou_histogram) std::printf(" %lld", static_cast<long long>(count));
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Evaluate a trained localizer on a split of its preset"};
  std::string checkpoint, split_name = "test", json_out, overlay, device_name, mnist = locdet::data::default_mnist_dir();
  int64_t count = 0;
  app.add_option("--checkpoint", checkpoint, "checkpoint written by train_gpu")->required();
  app.add_option("--split", split_name, "train | val | test")->capture_default_str();
  app.add_option("--count", count, "number of scenes (default: the whole split)");
  app.add_option("--json", json_out, "also write the report as JSON to this file");
  app.add_option("--overlay", overlay, "also draw the first 48 scenes with boxes to this PNG");
  app.add_option("--device", device_name, "cuda | cpu (default: cuda when a GPU is present)");
  app.add_option("--mnist", mnist, "MNIST folder")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    LOCDET_CHECK(count >= 0, "--count must be >= 0, got ", count);
    const locdet::data::Split split = locdet::data::parse_split(split_name);
    const locdet::Device device = device_name.empty()
                                      ? (locdet::cuda_available() ? locdet::Device::kCuda : locdet::Device::kCpu)
                                      : locdet::parse_device(device_name);
    const locdet::models::LocalizerRun run = locdet::models::read_run_from_checkpoint(checkpoint);
    const locdet::data::DigitBank bank = locdet::data::DigitBank::from_mnist(locdet::data::load_mnist(mnist));
    locdet::models::LocalizerPredictor predictor(run.model, 250, device);
    predictor.load_checkpoint(checkpoint);
    std::vector<locdet::models::SampleResult> samples;
    const auto report = locdet::models::evaluate_localizer(predictor, bank, run.preset, split, run.data_seed, count,
                                                           overlay.empty() ? 0 : 48, &samples);
    std::printf("checkpoint %s | preset %s | split %s | model %s width %d\n", checkpoint.c_str(),
                run.preset.name.c_str(), split_name.c_str(), run.model.backbone.kind.c_str(), run.model.backbone.width);
    print_report(report);
    if (!json_out.empty()) {
      nlohmann::json j = report.to_json();
      j["split"] = split_name;
      j["checkpoint"] = checkpoint;
      j["preset"] = run.preset.name;
      locdet::write_file_atomic(json_out, j.dump(2) + "\n");
      std::printf("wrote %s\n", json_out.c_str());
    }
    if (!overlay.empty()) {
      locdet::models::write_localizer_overlay(overlay, samples, run.preset.height, run.preset.width);
      std::printf("wrote %s\n", overlay.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "evaluate: error: %s\n", e.what());
    return 1;
  }
}
