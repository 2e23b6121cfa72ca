// make_dataset: renders a split of a scene preset to disk (PNG + COCO/YOLO + preview)
// and prints label statistics.
//   make_dataset --preset inf265-det --split train --count 1000 --out /tmp/det --format png,coco,yolo
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "apps/cli.h"
#include "kernels/base/atomic_file.h"
#include "kernels/base/openmp_defaults.h"
#include "models/digits/export.h"
#include "models/digits/mnist.h"
#include "models/digits/scene.h"

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  CLI::App app{"Render augmented-MNIST scenes to PNG + COCO/YOLO annotations with a preview grid",
               "make_dataset"};
  std::string preset_name, split_text, out_dir, formats = "png,coco", preset_file, mnist_dir;
  int64_t count = 0;
  uint64_t seed = 0;
  app.add_option("--preset", preset_name,
                 "preset name (inf265-loc, inf265-det, det10, ayulockin-loc, or from --preset-file)")
      ->required();
  app.add_option("--split", split_text, "train | val | test")
      ->required()
      ->check(CLI::IsMember({"train", "val", "test"}));
  app.add_option("--count", count, "number of scenes (samples 0..count-1 of the split)")->required();
  app.add_option("--out", out_dir, "output directory")->required();
  app.add_option("--format", formats, "comma-separated subset of png,coco,yolo,csv")->capture_default_str();
  app.add_option("--seed", seed, "dataset seed")->capture_default_str();
  app.add_option("--preset-file", preset_file, "JSON file with user presets");
  app.add_option("--mnist", mnist_dir,
                 "MNIST folder (default: $LOCDET_MNIST_DIR, else data/mnist of the source tree this program "
                 "was built in, else ./data/mnist)");
  if (const int code = locdet::apps::parse_command_line(app, argc, argv); code >= 0) return code;
  try {
    using namespace locdet::data;
    Preset preset = find_preset(preset_name, preset_file);
    Split split = parse_split(split_text);
    ExportOptions options;
    options.formats = parse_formats(formats);
    locdet::check_dir_creatable(out_dir);
    DigitBank bank = DigitBank::from_mnist(load_mnist(find_mnist_dir(mnist_dir)));
    locdet::ensure_writable_dir(out_dir);
    DatasetStats stats = export_dataset(preset, split, seed, count, out_dir, bank, options);
    std::printf("preset: %s\nsplit: %s\nseed: %llu\nout: %s\n", preset.name.c_str(), split_name(split),
                static_cast<unsigned long long>(seed), out_dir.c_str());
    std::printf("%s", stats.report().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_dataset: error: %s\n", e.what());
    return 1;
  }
}
