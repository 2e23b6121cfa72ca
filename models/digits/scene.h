// Augmented-MNIST scenes on the host side: presets (data, not code; built in or from a
// JSON file, validated), splits and their digit ranges, the digit bank (all 70k MNIST
// digits with global indices and ink boxes), the CPU batch renderer and the label
// conventions of both seeds. Rendering math: kernels/common/scene.h. Guide:
// docs/DATASETS.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/common/scene.h"
#include "models/digits/mnist.h"

namespace locdet::data {

enum class Split { kTrain = 0, kVal = 1, kTest = 2 };
const char* split_name(Split split);
Split parse_split(const std::string& name);  // "train" | "val" | "test"

struct Preset {
  std::string name;
  std::string task = "localization";  // "localization" | "detection"
  std::string description;
  int height = 48, width = 60;
  int min_digits = 1, max_digits = 1;
  float no_object_rate = 0.0f;
  std::vector<int> classes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  float scale_min = 1.0f, scale_max = 1.0f;
  float rotation_deg = 0.0f;
  float noise_min = 0.0f, noise_max = 0.0f;
  float smooth_min = 0.0f, smooth_max = 0.0f;
  float max_iou = 0.0f;        // overlap rule: 0 = digits never overlap, 1 = anything goes
  float ink_threshold = 0.5f;  // coverage a pixel needs to count as ink for the box
  bool integer_offset = false;
  std::string box = "ink";           // "ink" (tight box) | "patch" (the 28x28 patch)
  int grid_rows = 0, grid_cols = 0;  // one digit per cell (and the grid label encoding)
  int max_tries = 32;
  // Training augmentation of the digits' shape (SceneParams::shear, ::stroke): the training
  // split's scenes only, so validation and test scenes, and every figure, stay comparable.
  float train_shear = 0.0f;   // horizontal shear factor, drawn in [-train_shear, train_shear]
  float train_stroke = 0.0f;  // stroke change in source pixels, drawn in [-train_stroke, train_stroke]
  int64_t train_size = 60000, val_size = 6000, test_size = 10000;

  // The renderer's numbers for one split (the shape augmentations on the training split only).
  SceneParams params(Split split) const;
};

// inf265-loc, inf265-det, det10, ayulockin-loc.
const std::vector<Preset>& builtin_presets();
std::vector<std::string> preset_names(const std::string& preset_file = "");
// A built-in preset, or one from `preset_file` (user presets win over built-ins).
Preset find_preset(const std::string& name, const std::string& preset_file = "");
// Parses one preset object; unknown keys, wrong types and impossible values throw with
// the key, the value and what is allowed. `base` (a preset name) supplies defaults.
Preset preset_from_json(const std::string& json_text, const std::string& where = "preset");
// A file holding one preset object, a list of them, or {"presets": [...]}.
std::vector<Preset> load_preset_file(const std::string& path);
// The same parsing on the file's text; load_preset_file reads the file and calls this.
std::vector<Preset> parse_preset_file_text(const std::string& json_text, const std::string& where);
void validate_preset(const Preset& preset);  // throws locdet::Error
std::string preset_to_json(const Preset& preset);

// Digit ranges: train draws MNIST train [0, 55000), val MNIST train [55000, 60000),
// test MNIST test [0, 10000). Global digit index = MNIST train index, or 60000 + test index.
constexpr int kMnistTrainDigits = 60000;
constexpr int kValFirstDigit = 55000;
struct DigitRange {
  int begin, end;  // global indices [begin, end)
};
DigitRange split_digit_range(Split split, int train_count = kMnistTrainDigits, int test_count = 10000);
int64_t split_size(const Preset& preset, Split split);

// All source digits in one array (MNIST train then test) + per-digit ink boxes.
struct DigitBank {
  int train_count = 0, test_count = 0;
  std::vector<uint8_t> pixels;   // [n, 28, 28]
  std::vector<uint8_t> labels;   // [n]
  std::vector<uint8_t> ink_box;  // [n, 4]: min col, min row, max col, max row of pixels > 0

  static DigitBank from_mnist(const Mnist& mnist);
  // Digits given directly (tests): the first train_count are "train", the rest "test".
  static DigitBank from_images(std::vector<uint8_t> pixels, std::vector<uint8_t> labels, int train_count);
  int count() const { return train_count + test_count; }
  // The global indices a split may draw for these classes.
  std::vector<int32_t> pool(Split split, const std::vector<int>& classes) const;
};

// Host scene source: a bank + the pool for one (preset, split), ready for the kernels.
struct SceneSource {
  SceneSource(const DigitBank& bank, const Preset& preset, Split split);
  DigitSource view() const;
  const DigitBank* bank;
  std::vector<int32_t> pool;
};

enum class SceneMode {
  kFixed,   // sample indices must lie in [0, split_size)
  kEndless  // any sample index (training streams)
};

struct SceneBatch {
  int batch = 0, height = 0, width = 0;
  std::vector<float> images;  // [batch, 1, H, W]
  std::vector<SceneLabel> labels;
  const float* image(int b) const { return images.data() + static_cast<size_t>(b) * height * width; }
};

// Renders samples first_index .. first_index + count - 1 (or `indices`) on the CPU.
void render_scenes_cpu(const Preset& preset, Split split, uint64_t seed, const SceneSource& source,
                       uint64_t first_index, int count, SceneBatch* out, SceneMode mode = SceneMode::kFixed);
void render_scenes_cpu(const Preset& preset, Split split, uint64_t seed, const SceneSource& source,
                       const std::vector<uint64_t>& indices, SceneBatch* out,
                       SceneMode mode = SceneMode::kFixed);

// ---- Label conventions ----
// First seed (localization): [p_c, x, y, w, h, c], centre and size normalized by the
// image; the first digit is used; all zeros when there is none.
std::array<float, 6> label_pc_xywh(const SceneLabel& label, int height, int width);
// Second seed: box k as normalized [x1, y1, x2, y2].
std::array<float, 4> label_xyxy_normalized(const SceneLabel& label, int k, int height, int width);
struct LabeledBox {
  int cls;
  std::array<float, 4> xyxy;  // pixels
};
std::vector<LabeledBox> label_boxes(const SceneLabel& label);
// First seed (detection): rows x cols cells over the image, each [p_c, x, y, w, h, c]
// with x, y the box centre relative to its cell (in [0, 1) of the cell size) and w, h
// relative to the image. A box belongs to the cell holding its centre; if two boxes
// share a cell, the larger one is kept and *dropped counts the other.
std::vector<float> label_grid(const SceneLabel& label, int height, int width, int rows = 2, int cols = 3,
                              int* dropped = nullptr);

}  // namespace locdet::data
