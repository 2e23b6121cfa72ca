// predict: runs a trained localizer or detector on image files (PNG, JPEG, PGM, BMP; any
// size). Each image is converted to grayscale, letterboxed to the model's input and
// predicted; boxes are mapped back to the original image.
//   predict --checkpoint runs/loc/checkpoint.safetensors --images a.png b.jpg --out predictions/
// Writes DIR/NAME.json (localizer: presence, digit, confidence, box; detector: a list of
// detections with digit, score, box) and DIR/NAME.png (overlay).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "engine/io/image.h"
#include "kernels/base/atomic_file.h"
#include "kernels/base/device.h"
#include "kernels/base/error.h"
#include "kernels/base/openmp_defaults.h"
#include "models/detector/predictor.h"
#include "models/detector/report.h"
#include "models/detector/run.h"
#include "models/detector/trainer.h"
#include "models/localizer/predictor.h"
#include "models/localizer/report.h"
#include "models/localizer/run.h"
#include "models/localizer/trainer.h"

namespace {

// Model pixels -> original image pixels (undoing the letterbox), clamped to the image.
void unletterbox(const float* model_box, const locdet::io::Letterbox& fitted, int width, int height,
                 float* box) {
  for (int k = 0; k < 4; ++k) {
    const float offset = k % 2 == 0 ? fitted.offset_x : fitted.offset_y;
    const float limit = static_cast<float>(k % 2 == 0 ? width : height);
    box[k] = std::clamp((model_box[k] - offset) / fitted.scale, 0.0f, limit);
  }
}

int predict_detector(const std::string& checkpoint, const std::vector<std::string>& images,
                     const std::string& out, locdet::Device device, bool invert, float min_score) {
  const locdet::models::DetectorRun run = locdet::models::read_detector_run(checkpoint);
  locdet::ensure_writable_dir(out);
  locdet::models::DetectorPredictor predictor(run.model, 1, device);
  predictor.load_checkpoint(checkpoint);
  int failures = 0;
  for (const std::string& path : images) {
    try {
      locdet::io::GrayImage image = locdet::io::read_image_gray(path);
      if (invert)
        for (float& v : image.pixels) v = 1.0f - v;
      const locdet::io::Letterbox fitted = locdet::io::letterbox(image, run.model.height, run.model.width);
      std::vector<locdet::models::Detection> detections = predictor.predict(fitted.image.pixels.data(), 1)[0];
      nlohmann::json list = nlohmann::json::array();
      std::vector<locdet::models::Detection> kept;
      for (locdet::models::Detection d : detections) {
        if (d.score < min_score) continue;
        float box[4];
        unletterbox(d.box, fitted, image.width, image.height, box);
        std::copy_n(box, 4, d.box);
        list.push_back({{"digit", d.digit},
                        {"class", run.model.names().at(d.cls)},
                        {"score", d.score},
                        {"box_xyxy", {box[0], box[1], box[2], box[3]}}});
        kept.push_back(d);
      }
      const nlohmann::json j = {
          {"image", path}, {"detections", list}, {"image_size", {image.width, image.height}}};
      const std::string stem = std::filesystem::path(path).stem().string();
      locdet::write_file_atomic(out + "/" + stem + ".json", j.dump(2) + "\n");
      const int zoom = std::max(1, 240 / std::max(image.width, image.height));
      locdet::io::RgbImage overlay =
          locdet::io::gray_to_rgb(image.pixels.data(), image.height, image.width, zoom);
      locdet::models::draw_detections(overlay, kept, zoom, min_score, run.model.names());
      locdet::io::write_png(out + "/" + stem + ".png", overlay);
      std::printf("%s: %zu digit(s)", path.c_str(), kept.size());
      for (const auto& d : kept) std::printf(" %d (%.2f)", d.digit, d.score);
      std::printf("\n");
    } catch (const locdet::Error& e) {
      ++failures;
      std::fprintf(stderr, "predict: skipping %s: %s\n", path.c_str(), e.what());
    }
  }
  if (failures) std::fprintf(stderr, "predict: %d of %zu images failed\n", failures, images.size());
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  CLI::App app{"Predict digits and their boxes in image files with a trained localizer or detector"};
  std::string checkpoint, out, device_name;
  std::vector<std::string> images;
  bool invert = false;
  float min_score = 0.3f;
  app.add_option("--checkpoint", checkpoint, "checkpoint written by train_gpu")->required();
  app.add_option("--images", images, "image files (PNG, JPEG, PGM, BMP)")->required();
  app.add_option("--out", out, "output folder")->required();
  app.add_option("--device", device_name, "cuda | cpu (default: cuda when a GPU is present)");
  app.add_flag("--invert", invert, "the images show dark digits on a light background");
  app.add_option("--min-score", min_score, "detector: report detections with at least this score")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const locdet::Device device =
        device_name.empty() ? (locdet::cuda_available() ? locdet::Device::kCuda : locdet::Device::kCpu)
                            : locdet::parse_device(device_name);
    if (locdet::models::read_checkpoint_task(checkpoint) == "detect")
      return predict_detector(checkpoint, images, out, device, invert, min_score);
    const locdet::models::LocalizerRun run = locdet::models::read_localizer_run(checkpoint);
    locdet::ensure_writable_dir(out);
    locdet::models::LocalizerPredictor predictor(run.model, 1, device);
    predictor.load_checkpoint(checkpoint);
    const int h = run.model.height, w = run.model.width;
    int failures = 0;
    for (const std::string& path : images) {
      try {
        locdet::io::GrayImage image = locdet::io::read_image_gray(path);
        if (invert)
          for (float& v : image.pixels) v = 1.0f - v;
        const locdet::io::Letterbox fitted = locdet::io::letterbox(image, h, w);
        const locdet::models::LocalizerPrediction p = predictor.predict(fitted.image.pixels.data(), 1)[0];
        // Normalized model box -> model pixels -> original pixels.
        float box[4];
        for (int k = 0; k < 4; ++k) {
          const float model_px = p.box[k] * (k % 2 == 0 ? w : h);
          const float offset = k % 2 == 0 ? fitted.offset_x : fitted.offset_y;
          const float limit = static_cast<float>(k % 2 == 0 ? image.width : image.height);
          box[k] = std::clamp((model_px - offset) / fitted.scale, 0.0f, limit);
        }
        const bool present = p.presence > 0.5f;
        nlohmann::json j = {
            {"image", path},
            {"present", present},
            {"presence", p.presence},
            {"digit", present ? nlohmann::json(p.digit) : nlohmann::json(nullptr)},
            {"class", present ? nlohmann::json(run.model.class_names.at(p.digit)) : nlohmann::json(nullptr)},
            {"confidence", p.confidence},
            {"box_xyxy", {box[0], box[1], box[2], box[3]}},
            {"image_size", {image.width, image.height}}};
        const std::string stem = std::filesystem::path(path).stem().string();
        locdet::write_file_atomic(out + "/" + stem + ".json", j.dump(2) + "\n");
        const int zoom = std::max(1, 240 / std::max(image.width, image.height));
        locdet::io::RgbImage overlay =
            locdet::io::gray_to_rgb(image.pixels.data(), image.height, image.width, zoom);
        char text[48];
        if (present) {
          locdet::io::draw_rect(overlay, static_cast<int>(box[0] * zoom), static_cast<int>(box[1] * zoom),
                                static_cast<int>(box[2] * zoom), static_cast<int>(box[3] * zoom),
                                locdet::io::kRed);
          std::snprintf(text, sizeof(text), "%s %.0f%%", run.model.class_names.at(p.digit).c_str(),
                        100.0f * p.confidence * p.presence);
        } else {
          std::snprintf(text, sizeof(text), "none %.0f%%", 100.0f * (1.0f - p.presence));
        }
        locdet::io::draw_text(overlay, 2, 2, text, locdet::io::kRed, 2);
        locdet::io::write_png(out + "/" + stem + ".png", overlay);
        std::printf("%s: %s\n", path.c_str(),
                    present ? (std::to_string(p.digit) + " (" + std::to_string(p.confidence) + ")").c_str()
                            : "no digit");
      } catch (const locdet::Error& e) {
        ++failures;
        std::fprintf(stderr, "predict: skipping %s: %s\n", path.c_str(), e.what());
      }
    }
    if (failures) std::fprintf(stderr, "predict: %d of %zu images failed\n", failures, images.size());
    return failures ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict: error: %s\n", e.what());
    return 1;
  }
}
