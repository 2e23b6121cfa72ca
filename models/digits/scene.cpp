// Presets, splits, digit bank, CPU batch rendering and label conventions; see scene.h.
#include "models/digits/scene.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <type_traits>

#include "kernels/base/error.h"
#include "kernels/cpu/scene.h"

namespace locdet::data {

using nlohmann::json;

const char* split_name(Split split) {
  switch (split) {
    case Split::kTrain:
      return "train";
    case Split::kVal:
      return "val";
    case Split::kTest:
      return "test";
  }
  return "?";
}

Split parse_split(const std::string& name) {
  if (name == "train") return Split::kTrain;
  if (name == "val") return Split::kVal;
  if (name == "test") return Split::kTest;
  fail("unknown split '", name, "': expected train, val or test");
}

SceneParams Preset::params(Split split) const {
  SceneParams p;
  p.height = height;
  p.width = width;
  p.min_digits = min_digits;
  p.max_digits = max_digits;
  p.no_object_rate = no_object_rate;
  p.scale_min = scale_min;
  p.scale_max = scale_max;
  p.rotation_deg = rotation_deg;
  p.noise_min = noise_min;
  p.noise_max = noise_max;
  p.smooth_min = smooth_min;
  p.smooth_max = smooth_max;
  p.max_iou = max_iou;
  p.ink_threshold = ink_threshold;
  p.integer_offset = integer_offset ? 1 : 0;
  p.patch_box = box == "patch" ? 1 : 0;
  p.grid_rows = grid_rows;
  p.grid_cols = grid_cols;
  p.max_tries = max_tries;
  if (split == Split::kTrain) {
    p.shear = train_shear;
    p.stroke = train_stroke;
  }
  return p;
}

namespace {

// The built-in presets as JSON: the same path as a user's preset file.
const char* kBuiltinPresetJson = R"json([
  {"name": "inf265-loc", "task": "localization",
   "description": "INF265 localization: 48x60, one digit with p=0.9, rotated +-20 deg, scaled 0.6-1.3, noisy background",
   "height": 48, "width": 60, "min_digits": 1, "max_digits": 1, "no_object_rate": 0.1,
   "scale_min": 0.6, "scale_max": 1.3, "rotation_deg": 20, "noise_min": 0.0, "noise_max": 0.4,
   "split_sizes": {"train": 60000, "val": 6000, "test": 10000}},
  {"name": "inf265-det", "task": "detection",
   "description": "INF265 detection: 48x60, 1-4 non-overlapping digits of classes 0 and 1, one per 2x3 grid cell",
   "height": 48, "width": 60, "min_digits": 1, "max_digits": 4, "no_object_rate": 0.0, "classes": [0, 1],
   "scale_min": 0.5, "scale_max": 1.0, "rotation_deg": 20, "noise_min": 0.0, "noise_max": 0.4,
   "max_iou": 0.0, "grid_rows": 2, "grid_cols": 3,
   "split_sizes": {"train": 30000, "val": 3000, "test": 5000}},
  {"name": "det10", "task": "detection",
   "description": "Detection: 48x60, 1-4 non-overlapping digits of all 10 classes",
   "height": 48, "width": 60, "min_digits": 1, "max_digits": 4, "no_object_rate": 0.0,
   "scale_min": 0.5, "scale_max": 1.0, "rotation_deg": 20, "noise_min": 0.0, "noise_max": 0.4, "max_iou": 0.0,
   "split_sizes": {"train": 30000, "val": 3000, "test": 5000}},
  {"name": "ayulockin-loc", "task": "localization",
   "description": "ayulockin synthetic localization: 100x100 black, unscaled 28x28 digit at an integer offset, box = patch",
   "height": 100, "width": 100, "min_digits": 1, "max_digits": 1, "no_object_rate": 0.0,
   "scale_min": 1.0, "scale_max": 1.0, "rotation_deg": 0, "noise_min": 0.0, "noise_max": 0.0,
   "integer_offset": true, "box": "patch",
   "split_sizes": {"train": 60000, "val": 6000, "test": 10000}}
])json";

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = {
      "name",         "base",       "task",         "description",    "height",
      "width",        "min_digits", "max_digits",   "no_object_rate", "classes",
      "scale_min",    "scale_max",  "rotation_deg", "noise_min",      "noise_max",
      "smooth_min",   "smooth_max", "max_iou",      "ink_threshold",  "integer_offset",
      "box",          "grid_rows",  "grid_cols",    "max_tries",      "train_shear",
      "train_stroke", "split_sizes"};
  return keys;
}

std::string join_keys() {
  std::string out;
  for (const auto& key : known_keys()) out += (out.empty() ? "" : ", ") + key;
  return out;
}

// Checked conversions: nlohmann's get<int>() on 1e30, or get<float>() on 1e300, is a C++
// float-cast overflow (undefined behaviour, found by tests/fuzz/fuzz_preset_json).
template <typename T>
T json_to(const json& v, const char* key, const std::string& where) {
  auto wrong = [&](const char* expected) {
    fail(where, ": key '", key, "' has the wrong type or range: it must be ", expected, ", got ", v.dump());
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) wrong("true or false");
    return v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
    if (v.is_number_unsigned()) {
      if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        wrong("an integer in range");
      return static_cast<T>(v.get<uint64_t>());
    }
    if (v.is_number_integer()) {
      const int64_t i = v.get<int64_t>();
      if (i < std::numeric_limits<T>::min() || i > std::numeric_limits<T>::max())
        wrong("an integer in range");
      return static_cast<T>(i);
    }
    // 48.0 is accepted as 48; 48.5, 1e30 and NaN are not.
    if (!v.is_number_float()) wrong("an integer");
    const double d = v.get<double>();
    if (!(d >= lo && d < hi) || d != std::floor(d)) wrong("an integer in range");
    return static_cast<T>(d);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) wrong("a number");
    const double d = v.get<double>();
    if (!(std::fabs(d) <= static_cast<double>(std::numeric_limits<T>::max())))
      wrong("a finite number in range");
    return static_cast<T>(d);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) wrong("a string");
    return v.get<std::string>();
  } else {
    static_assert(std::is_same_v<T, std::vector<int>>, "add a conversion");
    if (!v.is_array()) wrong("a list of integers");
    std::vector<int> out;
    for (const json& item : v) out.push_back(json_to<int>(item, key, where));
    return out;
  }
}

template <typename T>
void read_value(const json& obj, const char* key, T* value, const std::string& where) {
  if (!obj.contains(key)) return;
  *value = json_to<T>(obj.at(key), key, where);
}

Preset preset_from_object(const json& obj, const std::vector<Preset>& bases, const std::string& where) {
  if (!obj.is_object()) fail(where, ": a preset must be a JSON object, got ", obj.dump());
  for (const auto& item : obj.items()) {
    if (!known_keys().count(item.key()))
      fail(where, ": unknown key '", item.key(), "'; allowed keys: ", join_keys());
  }
  Preset preset;
  if (obj.contains("base")) {
    std::string base = obj.at("base").is_string() ? obj.at("base").get<std::string>() : obj.at("base").dump();
    auto it = std::find_if(bases.begin(), bases.end(), [&](const Preset& p) { return p.name == base; });
    if (it == bases.end()) fail(where, ": unknown base preset '", base, "'");
    preset = *it;
    preset.description.clear();
  }
  read_value(obj, "name", &preset.name, where);
  read_value(obj, "task", &preset.task, where);
  read_value(obj, "description", &preset.description, where);
  read_value(obj, "height", &preset.height, where);
  read_value(obj, "width", &preset.width, where);
  read_value(obj, "min_digits", &preset.min_digits, where);
  read_value(obj, "max_digits", &preset.max_digits, where);
  read_value(obj, "no_object_rate", &preset.no_object_rate, where);
  read_value(obj, "classes", &preset.classes, where);
  read_value(obj, "scale_min", &preset.scale_min, where);
  read_value(obj, "scale_max", &preset.scale_max, where);
  read_value(obj, "rotation_deg", &preset.rotation_deg, where);
  read_value(obj, "noise_min", &preset.noise_min, where);
  read_value(obj, "noise_max", &preset.noise_max, where);
  read_value(obj, "smooth_min", &preset.smooth_min, where);
  read_value(obj, "smooth_max", &preset.smooth_max, where);
  read_value(obj, "max_iou", &preset.max_iou, where);
  read_value(obj, "ink_threshold", &preset.ink_threshold, where);
  read_value(obj, "integer_offset", &preset.integer_offset, where);
  read_value(obj, "box", &preset.box, where);
  read_value(obj, "grid_rows", &preset.grid_rows, where);
  read_value(obj, "grid_cols", &preset.grid_cols, where);
  read_value(obj, "max_tries", &preset.max_tries, where);
  read_value(obj, "train_shear", &preset.train_shear, where);
  read_value(obj, "train_stroke", &preset.train_stroke, where);
  if (obj.contains("split_sizes")) {
    const json& sizes = obj.at("split_sizes");
    if (!sizes.is_object()) fail(where, ": 'split_sizes' must be an object like {\"train\": 60000, ...}");
    for (const auto& item : sizes.items()) {
      if (item.key() != "train" && item.key() != "val" && item.key() != "test")
        fail(where, ": unknown split '", item.key(), "' in split_sizes; allowed: train, val, test");
    }
    read_value(sizes, "train", &preset.train_size, where);
    read_value(sizes, "val", &preset.val_size, where);
    read_value(sizes, "test", &preset.test_size, where);
  }
  if (preset.name.empty()) fail(where, ": a preset needs a \"name\"");
  try {
    validate_preset(preset);
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
  return preset;
}

json parse_json_text(const std::string& text, const std::string& where) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e999
    fail(where, ": not valid JSON: ", e.what());
  }
}

std::vector<Preset> presets_from_json(const json& root, const std::vector<Preset>& builtins,
                                      const std::string& where) {
  std::vector<json> items;
  if (root.is_array()) {
    items.assign(root.begin(), root.end());
  } else if (root.is_object() && root.contains("presets") && root.size() == 1) {
    if (!root.at("presets").is_array()) fail(where, ": 'presets' must be a list of preset objects");
    items.assign(root.at("presets").begin(), root.at("presets").end());
  } else {
    items.push_back(root);
  }
  std::vector<Preset> out;
  std::vector<Preset> bases = builtins;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string label = where + (items.size() > 1 ? " [preset " + std::to_string(i) + "]" : "");
    Preset preset = preset_from_object(items[i], bases, label);
    out.push_back(preset);
    bases.push_back(preset);
  }
  return out;
}

}  // namespace

void validate_preset(const Preset& p) {
  auto bad = [&](const auto&... parts) { fail("preset '", p.name, "': ", parts...); };
  if (p.task != "localization" && p.task != "detection")
    bad("task must be \"localization\" or \"detection\", got \"", p.task, "\"");
  if (p.height < 8 || p.height > 4096 || p.width < 8 || p.width > 4096)
    bad("height and width must lie in [8, 4096], got ", p.height, "x", p.width);
  if (p.min_digits < 0 || p.max_digits < p.min_digits || p.max_digits > kSceneMaxDigits)
    bad("digits per image must satisfy 0 <= min_digits <= max_digits <= ", kSceneMaxDigits,
        ", got min_digits ", p.min_digits, ", max_digits ", p.max_digits);
  if (!(p.no_object_rate >= 0.0f && p.no_object_rate <= 1.0f))
    bad("no_object_rate must lie in [0, 1], got ", p.no_object_rate);
  if (p.classes.empty()) bad("classes must list at least one digit 0..9");
  std::set<int> seen;
  for (int c : p.classes) {
    if (c < 0 || c > 9) bad("classes must be digits 0..9, got ", c);
    if (!seen.insert(c).second) bad("class ", c, " is listed twice");
  }
  if (!(p.scale_min > 0.05f && p.scale_max >= p.scale_min && p.scale_max <= 10.0f))
    bad("scale range must satisfy 0.05 < scale_min <= scale_max <= 10, got [", p.scale_min, ", ", p.scale_max,
        "]");
  if (!(p.rotation_deg >= 0.0f && p.rotation_deg <= 180.0f))
    bad("rotation_deg must lie in [0, 180] (angles are drawn in +-rotation_deg), got ", p.rotation_deg);
  if (!(p.noise_min >= 0.0f && p.noise_max >= p.noise_min && p.noise_max <= 1.0f))
    bad("noise range must satisfy 0 <= noise_min <= noise_max <= 1, got [", p.noise_min, ", ", p.noise_max,
        "]");
  if (!(p.smooth_min >= 0.0f && p.smooth_max >= p.smooth_min && p.smooth_max <= 1.0f))
    bad("smooth noise range must satisfy 0 <= smooth_min <= smooth_max <= 1, got [", p.smooth_min, ", ",
        p.smooth_max, "]");
  if (!(p.max_iou >= 0.0f && p.max_iou <= 1.0f)) bad("max_iou must lie in [0, 1], got ", p.max_iou);
  if (!(p.ink_threshold > 0.0f && p.ink_threshold <= 1.0f))
    bad("ink_threshold must lie in (0, 1], got ", p.ink_threshold);
  if (p.box != "ink" && p.box != "patch") bad("box must be \"ink\" or \"patch\", got \"", p.box, "\"");
  if (p.grid_rows < 0 || p.grid_cols < 0 || (p.grid_rows > 0) != (p.grid_cols > 0))
    bad("grid_rows and grid_cols must both be 0 (no grid) or both positive, got ", p.grid_rows, "x",
        p.grid_cols);
  if (p.grid_rows > 0 && p.max_digits > p.grid_rows * p.grid_cols)
    bad("max_digits ", p.max_digits, " exceeds the ", p.grid_rows, "x", p.grid_cols, " grid's ",
        p.grid_rows * p.grid_cols, " cells (one digit per cell)");
  if (p.max_tries < 1 || p.max_tries > 1000) bad("max_tries must lie in [1, 1000], got ", p.max_tries);
  if (!(p.train_shear >= 0.0f && p.train_shear <= 1.0f))
    bad("train_shear must lie in [0, 1] (a shear factor, drawn in +-train_shear), got ", p.train_shear);
  if (!(p.train_stroke >= 0.0f && p.train_stroke <= 1.5f))
    bad("train_stroke must lie in [0, 1.5] source pixels (drawn in +-train_stroke), got ", p.train_stroke);
  if (p.train_size < 1 || p.val_size < 1 || p.test_size < 1)
    bad("split_sizes must be positive, got ", p.train_size, "/", p.val_size, "/", p.test_size);
  // Fit: the smallest digit (MNIST ink lies in a 20x20 box; the patch is 28x28, plus one
  // pixel of bilinear support) must fit the canvas, and with no overlap allowed the
  // canvas must have room for max_digits of them.
  const float side = (p.box == "patch" ? 28.0f : 22.0f) * p.scale_min;
  if (side > static_cast<float>(std::min(p.height, p.width)))
    bad("a digit at scale_min ", p.scale_min, " (", side, " px) does not fit the ", p.height, "x", p.width,
        " canvas; lower scale_min or enlarge the canvas");
  if (p.max_iou < 1.0f && static_cast<float>(p.max_digits) * side * side > 0.6f * p.height * p.width)
    bad("too many digits for the canvas: ", p.max_digits, " digits of at least ", side, "x", side,
        " px cannot be placed without overlap in ", p.height, "x", p.width,
        "; lower max_digits or scale_min, raise max_iou, or enlarge the canvas");
}

const std::vector<Preset>& builtin_presets() {
  static const std::vector<Preset> presets =
      presets_from_json(json::parse(kBuiltinPresetJson), {}, "built-in presets");
  return presets;
}

std::vector<Preset> load_preset_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot open preset file '", path, "'");
  std::stringstream text;
  text << in.rdbuf();
  return parse_preset_file_text(text.str(), path);
}

std::vector<Preset> parse_preset_file_text(const std::string& json_text, const std::string& where) {
  return presets_from_json(parse_json_text(json_text, where), builtin_presets(), where);
}

Preset preset_from_json(const std::string& json_text, const std::string& where) {
  json root = parse_json_text(json_text, where);
  std::vector<Preset> presets = presets_from_json(root, builtin_presets(), where);
  if (presets.size() != 1) fail(where, ": expected one preset, got ", presets.size());
  return presets[0];
}

std::vector<std::string> preset_names(const std::string& preset_file) {
  std::vector<std::string> names;
  for (const auto& p : builtin_presets()) names.push_back(p.name);
  if (!preset_file.empty())
    for (const auto& p : load_preset_file(preset_file))
      if (std::find(names.begin(), names.end(), p.name) == names.end()) names.push_back(p.name);
  return names;
}

Preset find_preset(const std::string& name, const std::string& preset_file) {
  if (!preset_file.empty()) {
    for (const auto& p : load_preset_file(preset_file))
      if (p.name == name) return p;
  }
  for (const auto& p : builtin_presets())
    if (p.name == name) return p;
  std::string known;
  for (const auto& n : preset_names(preset_file)) known += (known.empty() ? "" : ", ") + n;
  fail("unknown preset '", name, "'; known presets: ", known);
}

std::string preset_to_json(const Preset& p) {
  json j = {{"name", p.name},
            {"task", p.task},
            {"description", p.description},
            {"height", p.height},
            {"width", p.width},
            {"min_digits", p.min_digits},
            {"max_digits", p.max_digits},
            {"no_object_rate", p.no_object_rate},
            {"classes", p.classes},
            {"scale_min", p.scale_min},
            {"scale_max", p.scale_max},
            {"rotation_deg", p.rotation_deg},
            {"noise_min", p.noise_min},
            {"noise_max", p.noise_max},
            {"smooth_min", p.smooth_min},
            {"smooth_max", p.smooth_max},
            {"max_iou", p.max_iou},
            {"ink_threshold", p.ink_threshold},
            {"integer_offset", p.integer_offset},
            {"box", p.box},
            {"grid_rows", p.grid_rows},
            {"grid_cols", p.grid_cols},
            {"max_tries", p.max_tries},
            {"train_shear", p.train_shear},
            {"train_stroke", p.train_stroke},
            {"split_sizes", {{"train", p.train_size}, {"val", p.val_size}, {"test", p.test_size}}}};
  return j.dump(2);
}

DigitRange split_digit_range(Split split, int train_count, int test_count) {
  // 55000 of 60000: val is the last twelfth of MNIST train, as in the usual 55k/5k split.
  const int val_first =
      static_cast<int>(static_cast<int64_t>(train_count) * kValFirstDigit / kMnistTrainDigits);
  switch (split) {
    case Split::kTrain:
      return {0, val_first};
    case Split::kVal:
      return {val_first, train_count};
    case Split::kTest:
      return {train_count, train_count + test_count};
  }
  return {0, 0};
}

int64_t split_size(const Preset& preset, Split split) {
  switch (split) {
    case Split::kTrain:
      return preset.train_size;
    case Split::kVal:
      return preset.val_size;
    case Split::kTest:
      return preset.test_size;
  }
  return 0;
}

namespace {
void compute_ink_boxes(DigitBank* bank) {
  const int n = bank->count();
  bank->ink_box.assign(static_cast<size_t>(n) * 4, 0);
  for (int i = 0; i < n; ++i) {
    const uint8_t* img = bank->pixels.data() + static_cast<size_t>(i) * kDigitSide * kDigitSide;
    int x0 = kDigitSide, y0 = kDigitSide, x1 = -1, y1 = -1;
    for (int y = 0; y < kDigitSide; ++y)
      for (int x = 0; x < kDigitSide; ++x)
        if (img[y * kDigitSide + x] > 0) {
          x0 = std::min(x0, x);
          y0 = std::min(y0, y);
          x1 = std::max(x1, x);
          y1 = std::max(y1, y);
        }
    uint8_t* box = bank->ink_box.data() + static_cast<size_t>(i) * 4;
    if (x1 < 0) {  // blank: max < min marks "no ink"
      box[0] = box[1] = 1;
      box[2] = box[3] = 0;
    } else {
      box[0] = static_cast<uint8_t>(x0);
      box[1] = static_cast<uint8_t>(y0);
      box[2] = static_cast<uint8_t>(x1);
      box[3] = static_cast<uint8_t>(y1);
    }
  }
}
}  // namespace

DigitBank DigitBank::from_mnist(const Mnist& mnist) {
  LOCDET_CHECK(mnist.train.rows == kDigitSide && mnist.train.cols == kDigitSide &&
                   mnist.test.rows == kDigitSide && mnist.test.cols == kDigitSide,
               "scene rendering needs 28x28 MNIST digits, got ", mnist.train.rows, "x", mnist.train.cols,
               " and ", mnist.test.rows, "x", mnist.test.cols);
  DigitBank bank;
  bank.train_count = mnist.train.count;
  bank.test_count = mnist.test.count;
  bank.pixels = mnist.train.images;
  bank.pixels.insert(bank.pixels.end(), mnist.test.images.begin(), mnist.test.images.end());
  bank.labels = mnist.train.labels;
  bank.labels.insert(bank.labels.end(), mnist.test.labels.begin(), mnist.test.labels.end());
  compute_ink_boxes(&bank);
  return bank;
}

DigitBank DigitBank::from_images(std::vector<uint8_t> pixels, std::vector<uint8_t> labels, int train_count) {
  const int n = static_cast<int>(labels.size());
  LOCDET_CHECK(pixels.size() == static_cast<size_t>(n) * kDigitSide * kDigitSide,
               "digit bank: ", pixels.size(), " bytes of pixels for ", n, " labels; expected 784 per digit");
  LOCDET_CHECK(train_count >= 0 && train_count <= n, "digit bank: train_count ", train_count, " outside [0, ",
               n, "]");
  DigitBank bank;
  bank.train_count = train_count;
  bank.test_count = n - train_count;
  bank.pixels = std::move(pixels);
  bank.labels = std::move(labels);
  compute_ink_boxes(&bank);
  return bank;
}

std::vector<int32_t> DigitBank::pool(Split split, const std::vector<int>& classes) const {
  DigitRange range = split_digit_range(split, train_count, test_count);
  bool wanted[10] = {};
  for (int c : classes)
    if (c >= 0 && c < 10) wanted[c] = true;
  std::vector<int32_t> out;
  for (int i = range.begin; i < range.end; ++i) {
    const uint8_t* box = ink_box.data() + static_cast<size_t>(i) * 4;
    if (labels[i] < 10 && wanted[labels[i]] && box[2] >= box[0]) out.push_back(i);
  }
  return out;
}

SceneSource::SceneSource(const DigitBank& digit_bank, const Preset& preset, Split split)
    : bank(&digit_bank), pool(digit_bank.pool(split, preset.classes)) {
  if (pool.empty() && preset.max_digits > 0)
    fail("preset '", preset.name, "': the ", split_name(split),
         " split has no digits of the preset's classes");
}

DigitSource SceneSource::view() const {
  DigitSource s;
  s.pixels = bank->pixels.data();
  s.labels = bank->labels.data();
  s.ink_box = bank->ink_box.data();
  s.pool = pool.data();
  s.pool_size = static_cast<int>(pool.size());
  return s;
}

namespace {
void check_indices(const Preset& preset, Split split, uint64_t lo, uint64_t hi, SceneMode mode) {
  if (mode == SceneMode::kEndless) return;
  const auto size = static_cast<uint64_t>(split_size(preset, split));
  if (hi >= size || lo >= size)
    fail("sample index ", hi >= size ? hi : lo, " is outside the ", split_name(split), " split of preset '",
         preset.name, "' (", size, " scenes); use the endless mode for unbounded streams");
}
}  // namespace

void render_scenes_cpu(const Preset& preset, Split split, uint64_t seed, const SceneSource& source,
                       uint64_t first_index, int count, SceneBatch* out, SceneMode mode) {
  LOCDET_CHECK(count >= 0, "negative scene count ", count);
  if (count > 0)
    check_indices(preset, split, first_index, first_index + static_cast<uint64_t>(count) - 1, mode);
  out->batch = count;
  out->height = preset.height;
  out->width = preset.width;
  out->images.resize(static_cast<size_t>(count) * preset.height * preset.width);
  out->labels.resize(static_cast<size_t>(count));
  cpu::render_scene_batch(preset.params(split), source.view(), scene_key(seed, static_cast<int>(split)),
                          first_index, nullptr, count, out->images.data(), out->labels.data());
}

void render_scenes_cpu(const Preset& preset, Split split, uint64_t seed, const SceneSource& source,
                       const std::vector<uint64_t>& indices, SceneBatch* out, SceneMode mode) {
  for (uint64_t i : indices) check_indices(preset, split, i, i, mode);
  const int count = static_cast<int>(indices.size());
  out->batch = count;
  out->height = preset.height;
  out->width = preset.width;
  out->images.resize(static_cast<size_t>(count) * preset.height * preset.width);
  out->labels.resize(static_cast<size_t>(count));
  cpu::render_scene_batch(preset.params(split), source.view(), scene_key(seed, static_cast<int>(split)), 0,
                          indices.data(), count, out->images.data(), out->labels.data());
}

std::array<float, 6> label_pc_xywh(const SceneLabel& label, int height, int width) {
  std::array<float, 6> out;
  scene_label_to_localizer(label, height, width, out.data());
  return out;
}

std::array<float, 4> label_xyxy_normalized(const SceneLabel& label, int k, int height, int width) {
  LOCDET_CHECK(k >= 0 && k < label.count, "box ", k, " requested from a label with ", label.count, " boxes");
  const float* b = label.box[k];
  return {b[0] / width, b[1] / height, b[2] / width, b[3] / height};
}

std::vector<LabeledBox> label_boxes(const SceneLabel& label) {
  std::vector<LabeledBox> out;
  for (int k = 0; k < label.count; ++k)
    out.push_back({label.cls[k], {label.box[k][0], label.box[k][1], label.box[k][2], label.box[k][3]}});
  return out;
}

std::vector<float> label_grid(const SceneLabel& label, int height, int width, int rows, int cols,
                              int* dropped) {
  LOCDET_CHECK(rows > 0 && cols > 0, "grid encoding needs positive rows and cols, got ", rows, "x", cols);
  std::vector<float> grid(static_cast<size_t>(rows) * cols * 6, 0.0f);
  std::vector<float> area(static_cast<size_t>(rows) * cols, -1.0f);
  const float cell_w = static_cast<float>(width) / cols, cell_h = static_cast<float>(height) / rows;
  int lost = 0;
  for (int k = 0; k < label.count; ++k) {
    const float* b = label.box[k];
    float cx = 0.5f * (b[0] + b[2]), cy = 0.5f * (b[1] + b[3]);
    int col = std::min(cols - 1, std::max(0, static_cast<int>(std::floor(cx / cell_w))));
    int row = std::min(rows - 1, std::max(0, static_cast<int>(std::floor(cy / cell_h))));
    int cell = row * cols + col;
    float a = (b[2] - b[0]) * (b[3] - b[1]);
    if (area[cell] >= 0.0f) {
      ++lost;
      if (a <= area[cell]) continue;
    }
    area[cell] = a;
    float* v = grid.data() + static_cast<size_t>(cell) * 6;
    v[0] = 1.0f;
    v[1] = (cx - col * cell_w) / cell_w;
    v[2] = (cy - row * cell_h) / cell_h;
    v[3] = (b[2] - b[0]) / width;
    v[4] = (b[3] - b[1]) / height;
    v[5] = static_cast<float>(label.cls[k]);
  }
  if (dropped) *dropped = lost;
  return grid;
}

}  // namespace locdet::data
