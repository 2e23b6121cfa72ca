// predict: runs a trained localizer or detector on image files (PNG, JPEG, PGM, BMP; any
// size). Each image is converted to grayscale, letterboxed to the model's input and
// predicted; boxes are mapped back to the original image.
//   predict --checkpoint runs/loc/checkpoint.safetensors --images a.png photos/ 'scans/*.jpg' --out preds/
// Inputs are files, folders (every image in them, recursively) or quoted globs. For each input
// REL (its path relative to the deepest folder that holds every input) it writes
// OUT/REL.json (localizer: presence, digit, class, score, box; detector: a list of detections
// with digit, class, score, box; "class" is the class's name, e.g. a dataset's category) and
// OUT/REL.overlay.png, so two inputs never share an output. It never
// writes over an input: an --out that holds an input is refused, and a folder scan skips --out.
#include <glob.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "apps/cli.h"
#include "engine/io/image.h"
#include "kernels/base/atomic_file.h"
#include "kernels/base/device.h"
#include "kernels/base/error.h"
#include "kernels/base/openmp_defaults.h"
#include "models/detector/predictor.h"
#include "models/detector/report.h"
#include "models/detector/run.h"
#include "models/localizer/predictor.h"
#include "models/localizer/report.h"
#include "models/localizer/run.h"
#include "models/overlay.h"

namespace {

namespace fs = std::filesystem;
namespace models = locdet::models;

// ---- which files, and where their outputs go ---------------------------------------------------

// An input image and where its outputs go (OUT/REL.json, OUT/REL.overlay.png).
struct Job {
  std::string image;  // as the user wrote it (or as found in a folder / by a glob)
  std::string json;   // output paths
  std::string overlay;
};

bool has_image_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* known : {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tga", ".gif"})
    if (ext == known) return true;
  return false;
}

// weakly_canonical: symlinks resolved, so one file reached two ways is seen once.
fs::path real_path(const fs::path& path) {
  std::error_code error;
  const fs::path real = fs::weakly_canonical(fs::absolute(path), error);
  return error ? fs::absolute(path).lexically_normal() : real;
}

bool is_inside(const fs::path& path, const fs::path& folder) {
  const fs::path rel = path.lexically_relative(folder);
  return !rel.empty() && *rel.begin() != "..";
}

// --images values -> image files: a folder gives every image file under it (recursively,
// sorted, --out skipped), a pattern with * ? [ that names no file is expanded as a glob.
std::vector<std::string> expand_inputs(const std::vector<std::string>& args, const fs::path& out) {
  std::vector<std::string> files;
  auto add_folder = [&](const std::string& folder) {
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::follow_directory_symlink);
         it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_directory() && real_path(it->path()) == out) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && has_image_extension(it->path())) found.push_back(it->path().string());
    }
    LOCDET_CHECK(!found.empty(), "folder '", folder,
                 "' holds no image files (.png, .jpg, .jpeg, .bmp, .pgm, .ppm, .tga, .gif)");
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  };
  for (const std::string& arg : args) {
    std::error_code error;
    if (fs::is_directory(arg, error)) {
      add_folder(arg);
    } else if (!fs::exists(arg, error) && arg.find_first_of("*?[") != std::string::npos) {
      glob_t matches{};
      const int status = ::glob(arg.c_str(), 0, nullptr, &matches);
      std::vector<std::string> found(matches.gl_pathv,
                                     matches.gl_pathv + (status == 0 ? matches.gl_pathc : 0));
      ::globfree(&matches);
      LOCDET_CHECK(!found.empty(), "no file matches '", arg, "'");
      for (const std::string& match : found) {
        if (fs::is_directory(match, error)) {
          add_folder(match);
        } else {
          files.push_back(match);
        }
      }
    } else {
      files.push_back(arg);  // a missing or unreadable file is reported when it is read
    }
  }
  return files;
}

// Output paths for every input (see the file comment); refuses an --out that holds an input.
std::vector<Job> plan_jobs(const std::vector<std::string>& args, const std::string& out_arg) {
  const fs::path out = real_path(out_arg);
  std::vector<Job> jobs;
  std::vector<fs::path> reals;
  std::set<fs::path> seen;
  for (const std::string& file : expand_inputs(args, out)) {
    const fs::path real = real_path(file);
    if (!seen.insert(real).second) continue;  // the same file given twice
    if (real == out || is_inside(real, out))
      locdet::fail("--out '", out_arg, "' holds the input image '", file,
                   "': predictions would be written among the inputs; choose an --out folder outside them");
    jobs.push_back({file, "", ""});
    reals.push_back(real);
  }
  // The deepest folder holding every input: REL is each input's path below it.
  fs::path base = reals.empty() ? fs::path() : reals.front().parent_path();
  for (const fs::path& real : reals)
    while (!is_inside(real, base) && base.has_relative_path()) base = base.parent_path();
  for (size_t i = 0; i < jobs.size(); ++i) {
    const std::string rel = (fs::path(out_arg) / reals[i].lexically_relative(base)).string();
    jobs[i].json = rel + ".json";
    jobs[i].overlay = rel + ".overlay.png";
  }
  return jobs;
}

// ---- predicting ---------------------------------------------------------------------------------

// Model pixels -> original image pixels (undoing the letterbox), clamped to the image.
void unletterbox(const float* model_box, const locdet::io::Letterbox& fitted, int width, int height,
                 float* box) {
  for (int k = 0; k < 4; ++k) {
    const float offset = k % 2 == 0 ? fitted.offset_x : fitted.offset_y;
    const float limit = static_cast<float>(k % 2 == 0 ? width : height);
    box[k] = std::clamp((model_box[k] - offset) / fitted.scale, 0.0f, limit);
  }
}

struct Prediction {
  nlohmann::json json;  // the task's fields (without "image" and "image_size")
  std::string summary;  // for the terminal
  locdet::io::RgbImage overlay;
};

// One image through either task; `zoom` makes small images large enough to read.
class ImagePredictor {
 public:
  virtual ~ImagePredictor() = default;
  virtual int height() const = 0;
  virtual int width() const = 0;
  virtual Prediction predict(const locdet::io::GrayImage& image, const locdet::io::Letterbox& fitted,
                             locdet::io::RgbImage canvas, float zoom) = 0;
};

class LocalizerOnImages final : public ImagePredictor {
 public:
  LocalizerOnImages(const std::string& checkpoint, locdet::Device device)
      : run_(models::read_localizer_run(checkpoint)), predictor_(run_.model, 1, device) {
    predictor_.load_checkpoint(checkpoint);
  }
  int height() const override { return run_.model.height; }
  int width() const override { return run_.model.width; }
  Prediction predict(const locdet::io::GrayImage& image, const locdet::io::Letterbox& fitted,
                     locdet::io::RgbImage canvas, float zoom) override {
    const models::LocalizerPrediction p = predictor_.predict(fitted.image.pixels.data(), 1)[0];
    float model_box[4], box[4], drawn[4];
    for (int k = 0; k < 4; ++k) model_box[k] = p.box[k] * (k % 2 == 0 ? width() : height());
    unletterbox(model_box, fitted, image.width, image.height, box);
    for (int k = 0; k < 4; ++k) drawn[k] = box[k] * zoom;
    Prediction out;
    const std::vector<std::string>& names = run_.model.class_names;
    out.json = models::localizer_prediction_json(p, box, names);
    out.summary = p.present() ? models::class_label(names, p.digit) + " " + models::format_score(p.score())
                              : "no digit";
    out.overlay = models::draw_localizer_prediction(std::move(canvas), p, drawn, names);
    return out;
  }

 private:
  models::LocalizerRun run_;
  models::LocalizerPredictor predictor_;
};

class DetectorOnImages final : public ImagePredictor {
 public:
  DetectorOnImages(const std::string& checkpoint, locdet::Device device, float min_score)
      : run_(models::read_detector_run(checkpoint)),
        predictor_(run_.model, 1, device),
        label_names_(run_.model.label_names()),
        min_score_(min_score) {
    predictor_.load_checkpoint(checkpoint);
  }
  int height() const override { return run_.model.height; }
  int width() const override { return run_.model.width; }
  Prediction predict(const locdet::io::GrayImage& image, const locdet::io::Letterbox& fitted,
                     locdet::io::RgbImage canvas, float zoom) override {
    Prediction out;
    nlohmann::json list = nlohmann::json::array();
    std::vector<models::Detection> drawn;
    const std::vector<std::vector<models::Detection>> found =
        predictor_.predict(fitted.image.pixels.data(), 1);
    for (models::Detection d : found[0]) {
      if (d.score < min_score_) continue;
      float box[4];
      unletterbox(d.box, fitted, image.width, image.height, box);
      std::copy_n(box, 4, d.box);
      list.push_back(models::detection_json(d, label_names_));
      out.summary += " " + models::class_label(label_names_, d.digit) + " " + models::format_score(d.score);
      for (int k = 0; k < 4; ++k) d.box[k] = box[k] * zoom;
      drawn.push_back(d);
    }
    out.summary = std::to_string(drawn.size()) + " digit(s)" + out.summary;
    out.json = {{"detections", list}};
    out.overlay = models::draw_detections(std::move(canvas), drawn, label_names_);
    return out;
  }

 private:
  models::DetectorRun run_;
  models::DetectorPredictor predictor_;
  std::vector<std::string> label_names_;
  float min_score_;
};

int predict_all(ImagePredictor& predictor, const std::vector<Job>& jobs, bool invert) {
  int failures = 0;
  for (const Job& job : jobs) {
    try {
      locdet::io::GrayImage image = locdet::io::read_image_gray(job.image);
      if (invert)
        for (float& v : image.pixels) v = 1.0f - v;
      const locdet::io::Letterbox fitted =
          locdet::io::letterbox(image, predictor.height(), predictor.width());
      const int zoom = std::max(1, 240 / std::max(image.width, image.height));
      Prediction p = predictor.predict(
          image, fitted, locdet::io::gray_to_rgb(image.pixels.data(), image.height, image.width, zoom),
          static_cast<float>(zoom));
      nlohmann::json j = {{"image", job.image},
                          {"image_size", {{"width", image.width}, {"height", image.height}}}};
      j.update(p.json);
      locdet::ensure_writable_dir(fs::path(job.json).parent_path().string());
      locdet::write_file_atomic(job.json, j.dump(2) + "\n");
      locdet::io::write_png(job.overlay, p.overlay);
      std::printf("%s: %s -> %s\n", job.image.c_str(), p.summary.c_str(), job.json.c_str());
    } catch (const locdet::Error& e) {
      ++failures;
      std::fprintf(stderr, "predict: skipping %s: %s\n", job.image.c_str(), e.what());
    }
  }
  if (failures) std::fprintf(stderr, "predict: %d of %zu images failed\n", failures, jobs.size());
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  CLI::App app{"Predict digits and their boxes in image files with a trained localizer or detector",
               "predict"};
  std::string checkpoint, out, device_name;
  std::vector<std::string> images;
  bool invert = false;
  float min_score = models::kOverlayMinScore;
  app.add_option("--checkpoint", checkpoint, "checkpoint written by train_gpu")->required();
  app.add_option("--images", images,
                 "image files (PNG, JPEG, PGM, BMP), folders (every image in them, recursively) or quoted "
                 "globs ('scans/*.jpg')")
      ->required();
  app.add_option("--out", out,
                 "output folder (must not hold an input): for an input REL, its path relative to the deepest "
                 "folder that holds every input, OUT/REL.json and OUT/REL.overlay.png")
      ->required();
  app.add_option("--device", device_name, "cuda | cpu (default: cuda when a GPU is present)");
  app.add_flag("--invert", invert,
               "the images show dark digits on a light background (the models expect a light digit on a dark "
               "background, as MNIST)");
  app.add_option("--min-score", min_score, "detector: report detections with at least this score (0..1)")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  if (const int code = locdet::apps::parse_command_line(app, argc, argv); code >= 0) return code;
  try {
    const std::vector<Job> jobs = plan_jobs(images, out);
    const std::string task = models::read_checkpoint_task(checkpoint);
    const locdet::Device device = locdet::choose_device(device_name, "predict");
    std::unique_ptr<ImagePredictor> predictor;
    if (task == "detect") {
      predictor = std::make_unique<DetectorOnImages>(checkpoint, device, min_score);
    } else {
      predictor = std::make_unique<LocalizerOnImages>(checkpoint, device);
    }
    return predict_all(*predictor, jobs, invert);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict: error: %s\n", e.what());
    return 1;
  }
}
