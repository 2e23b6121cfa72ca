#include "models/training_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "kernels/base/error.h"
#include "models/dataset_feed.h"
#include "models/run_schedule.h"

namespace locdet::models {

// ---- DatasetSpec ----------------------------------------------------------------------------

AugmentParams DatasetSpec::default_augment(int height, int width) {
  AugmentParams a;
  a.height = height;
  a.width = width;
  a.scale_min = 0.9f;
  a.scale_max = 1.1f;
  a.translate = 0.1f;
  a.contrast = 0.2f;
  a.brightness = 0.1f;
  a.noise = 0.05f;
  return a;
}

nlohmann::json DatasetSpec::to_json() const {
  return {{"dir", dir},
          {"format", format},
          {"layout", layout},
          {"input", {height, width}},
          {"letterbox", Dataset::letterbox_description()},
          {"classes", classes},
          {"val_fraction", val_fraction},
          {"val_source", val_source},
          {"train_images", train_images},
          {"val_images", val_images},
          {"test_images", test_images},
          {"augment",
           {{"scale", {augment.scale_min, augment.scale_max}},
            {"translate", augment.translate},
            {"contrast", augment.contrast},
            {"brightness", augment.brightness},
            {"noise", augment.noise}}}};
}

DatasetSpec DatasetSpec::from_json(const nlohmann::json& j) {
  DatasetSpec s;
  s.dir = j.at("dir").get<std::string>();
  s.format = j.at("format").get<std::string>();
  s.layout = j.value("layout", std::string());
  s.height = j.at("input").at(0).get<int>();
  s.width = j.at("input").at(1).get<int>();
  s.classes = j.at("classes").get<std::vector<std::string>>();
  s.val_fraction = j.at("val_fraction").get<double>();
  s.val_source = j.value("val_source", std::string());
  s.train_images = j.at("train_images").get<int64_t>();
  s.val_images = j.at("val_images").get<int64_t>();
  s.test_images = j.at("test_images").get<int64_t>();
  const auto& a = j.at("augment");
  s.augment.height = s.height;
  s.augment.width = s.width;
  s.augment.scale_min = a.at("scale").at(0).get<float>();
  s.augment.scale_max = a.at("scale").at(1).get<float>();
  s.augment.translate = a.at("translate").get<float>();
  s.augment.contrast = a.at("contrast").get<float>();
  s.augment.brightness = a.at("brightness").get<float>();
  s.augment.noise = a.at("noise").get<float>();
  return s;
}

void DatasetSpec::validate() const {
  LOCDET_CHECK(height >= 8 && width >= 8 && height % 4 == 0 && width % 4 == 0, "the model input ", height,
               "x", width, " must be at least 8x8 and a multiple of 4 (--input HxW)");
  LOCDET_CHECK(!classes.empty() && classes.size() <= static_cast<size_t>(kMaxClasses), "a dataset needs 1..",
               kMaxClasses, " classes, got ", classes.size());
  LOCDET_CHECK(train_images >= 1 && val_images >= 1, "a dataset run needs training and validation images");
  const AugmentParams& a = augment;
  LOCDET_CHECK(a.height == height && a.width == width, "augmentation size ", a.height, "x", a.width,
               " differs from the input ", height, "x", width);
  LOCDET_CHECK(a.scale_min > 0.05f && a.scale_min <= a.scale_max && a.scale_max <= 4.0f,
               "--augment scale must satisfy 0.05 < min <= max <= 4, got ", a.scale_min, ":", a.scale_max);
  for (float v : {a.translate, a.contrast, a.brightness, a.noise})
    LOCDET_CHECK(v >= 0 && v <= 1,
                 "--augment translate, contrast, brightness and noise must be in [0, 1], got ", v);
}

namespace {

// The --augment list "key=value,key=value": calls item(key, value) for each entry.
template <class ItemFn>
void for_each_augment_item(const std::string& text, ItemFn&& item) {
  std::stringstream in(text);
  for (std::string entry; std::getline(in, entry, ',');) {
    const size_t eq = entry.find('=');
    item(entry.substr(0, eq), eq == std::string::npos ? std::string() : entry.substr(eq + 1));
  }
}

float augment_number(const std::string& key, const std::string& value) {
  try {
    size_t used = 0;
    const float f = std::stof(value, &used);
    if (used == value.size()) return f;
  } catch (const std::exception&) {
  }
  fail("--augment ", key, ": '", value, "' is not a number");
}

}  // namespace

AugmentParams parse_augment(const std::string& text, int height, int width) {
  AugmentParams a = DatasetSpec::default_augment(height, width);
  if (text.empty() || text == "default") return a;
  if (text == "none") {
    AugmentParams none;
    none.height = height;
    none.width = width;
    return none;
  }
  for_each_augment_item(text, [&](const std::string& key, const std::string& value) {
    auto number = [&](const std::string& v) { return augment_number(key, v); };
    if (key == "scale") {
      const size_t colon = value.find(':');
      LOCDET_CHECK(colon != std::string::npos, "--augment scale=MIN:MAX, e.g. scale=0.9:1.1; got '", key, "=",
                   value, "'");
      a.scale_min = number(value.substr(0, colon));
      a.scale_max = number(value.substr(colon + 1));
    } else if (key == "translate") {
      a.translate = number(value);
    } else if (key == "contrast") {
      a.contrast = number(value);
    } else if (key == "brightness") {
      a.brightness = number(value);
    } else if (key == "noise") {
      a.noise = number(value);
    } else {
      fail("unknown --augment key '", key,
           "': with --data use none, default, or a comma list of scale=MIN:MAX, translate=F, ",
           "contrast=F, brightness=F, noise=F",
           key == "shear" || key == "stroke" ? " (shear and stroke "
                                               "change rendered digits: they are for preset runs)"
                                             : "");
    }
  });
  return a;
}

void apply_scene_augment(const std::string& text, data::Preset* preset) {
  if (text.empty() || text == "default") return;
  preset->train_shear = 0.0f;
  preset->train_stroke = 0.0f;
  if (text == "none") return;
  for_each_augment_item(text, [&](const std::string& key, const std::string& value) {
    if (key != "shear" && key != "stroke")
      fail("unknown --augment key '", key, "' for preset scenes: use none, default, or shear=K and/or ",
           "stroke=R (e.g. shear=0.3,stroke=0.7); scale, rotation and noise come from the preset, and ",
           "scale/translate/contrast/brightness/noise are for --data runs");
    (key == "shear" ? preset->train_shear : preset->train_stroke) = augment_number(key, value);
  });
  try {
    data::validate_preset(*preset);
  } catch (const Error& e) {
    fail("--augment ", text, ": ", e.what());
  }
}

void require_at_most_one_box(const Dataset& dataset) {
  for (const DatasetImage& image : dataset.images)
    LOCDET_CHECK(
        image.box_count <= 1, "'", image.file, "' has ", image.box_count,
        " boxes; a localizer learns zero or one object per image: train a detector (--task detect) or "
        "keep one box per image");
}

namespace {

std::vector<std::string> split_names(const DatasetSplits& s) {
  return {std::to_string(s.train.size()), std::to_string(s.val.size()), std::to_string(s.test.size())};
}

}  // namespace

LoadedDataset load_training_dataset(const std::string& dir, const std::string& format, int input_height,
                                    int input_width, double val_fraction, uint64_t split_seed,
                                    const std::string& augment) {
  DatasetOptions options;
  options.format = format;
  options.height = input_height;
  options.width = input_width;
  auto dataset = std::make_shared<Dataset>(load_dataset(dir, options));
  const DatasetSplits splits = split_dataset(*dataset, val_fraction, split_seed);
  LoadedDataset out;
  DatasetSpec& s = out.spec;
  s.dir = dir;
  s.format = dataset->format;
  s.layout = dataset->layout;
  s.height = dataset->height;
  s.width = dataset->width;
  s.classes = dataset->class_names;
  s.val_fraction = val_fraction;
  s.val_source = splits.val_source;
  s.train_images = static_cast<int64_t>(splits.train.size());
  s.val_images = static_cast<int64_t>(splits.val.size());
  s.test_images = static_cast<int64_t>(splits.test.size());
  s.augment = parse_augment(augment, s.height, s.width);
  s.validate();
  for (int64_t i = 0; i < dataset->size(); ++i)
    dataset_label(*dataset, i);  // refuses crowded images up front
  out.dataset = std::move(dataset);
  return out;
}

std::shared_ptr<const Dataset> reload_training_dataset(const DatasetSpec& spec, uint64_t split_seed) {
  std::error_code ec;
  LOCDET_CHECK(
      std::filesystem::is_directory(spec.dir, ec), "the run's dataset folder '", spec.dir,
      "' does not exist: config.json names it as train_gpu was given it, so run from the same folder "
      "(evaluate --data DIR scores other images)");
  DatasetOptions options;
  options.format = spec.format;
  options.height = spec.height;
  options.width = spec.width;
  options.classes = spec.classes;
  auto dataset = std::make_shared<Dataset>(load_dataset(spec.dir, options));
  const DatasetSplits splits = split_dataset(*dataset, spec.val_fraction, split_seed);
  const std::vector<std::string> now = split_names(splits);
  const std::vector<std::string> then = {std::to_string(spec.train_images), std::to_string(spec.val_images),
                                         std::to_string(spec.test_images)};
  if (now != then)
    fail("the dataset in ", spec.dir, " changed since this run started: it now has ", now[0], " training, ",
         now[1], " validation and ", now[2], " test images, the run was started with ", then[0], ", ",
         then[1], " and ", then[2], "; restore it, or start a new run (another --out)");
  return dataset;
}

// ---- labeled images -------------------------------------------------------------------------

namespace {

class RenderedScenes : public LabeledImages {
 public:
  RenderedScenes(const data::DigitBank& bank, const data::Preset& preset, data::Split split, uint64_t seed,
                 std::vector<int> label_values)
      : preset_(preset),
        split_(split),
        seed_(seed),
        source_(bank, preset_, split),
        values_(std::move(label_values)) {}
  int64_t size() const override { return data::split_size(preset_, split_); }
  int height() const override { return preset_.height; }
  int width() const override { return preset_.width; }
  void read(int64_t first, int count, data::SceneBatch* out) const override {
    data::render_scenes_cpu(preset_, split_, seed_, source_, static_cast<uint64_t>(first), count, out);
    if (values_.empty()) return;
    for (SceneLabel& label : out->labels)
      for (int k = 0; k < label.count; ++k) label.cls[k] = values_.at(label.cls[k]);
  }
  std::string describe() const override {
    return "preset " + preset_.name + ", " + data::split_name(split_) + " split (data seed " +
           std::to_string(seed_) + ")";
  }
  const data::Preset* preset() const override { return &preset_; }

 private:
  data::Preset preset_;
  data::Split split_;
  uint64_t seed_;
  data::SceneSource source_;
  std::vector<int> values_;
};

class DatasetImages : public LabeledImages {
 public:
  DatasetImages(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices, std::string what,
                std::vector<int> label_values)
      : dataset_(std::move(dataset)),
        indices_(std::move(indices)),
        what_(std::move(what)),
        values_(std::move(label_values)) {}
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  int height() const override { return dataset_->height; }
  int width() const override { return dataset_->width; }
  void read(int64_t first, int count, data::SceneBatch* out) const override {
    const size_t plane = static_cast<size_t>(height()) * width();
    out->batch = count;
    out->height = height();
    out->width = width();
    out->images.resize(plane * count);
    out->labels.resize(count);
    for (int b = 0; b < count; ++b) {
      const int64_t image = indices_.at(first + b);
      const uint8_t* pixels = dataset_->image_pixels(image);
      for (size_t i = 0; i < plane; ++i) out->images[plane * b + i] = pixels[i] / 255.0f;
      out->labels[b] = dataset_label(*dataset_, image, values_);
    }
  }
  std::string describe() const override { return what_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  std::vector<int64_t> indices_;
  std::string what_;
  std::vector<int> values_;
};

}  // namespace

std::unique_ptr<LabeledImages> rendered_scenes(const data::DigitBank& bank, const data::Preset& preset,
                                               data::Split split, uint64_t data_seed,
                                               std::vector<int> label_values) {
  return std::make_unique<RenderedScenes>(bank, preset, split, data_seed, std::move(label_values));
}

std::unique_ptr<LabeledImages> dataset_images(std::shared_ptr<const Dataset> dataset,
                                              std::vector<int64_t> indices, std::string what,
                                              std::vector<int> label_values) {
  return std::make_unique<DatasetImages>(std::move(dataset), std::move(indices), std::move(what),
                                         std::move(label_values));
}

std::unique_ptr<LabeledImages> evaluation_images(const RunSchedule& run,
                                                 const std::vector<std::string>& class_names,
                                                 const std::vector<int>& label_values,
                                                 const EvaluationSource& source,
                                                 const std::function<const data::DigitBank&()>& bank) {
  LOCDET_CHECK(source.data_dir.empty() || source.preset.empty(), "pass --data or --preset, not both");
  const std::string split = data::split_name(source.split);
  if (!source.data_dir.empty()) {
    DatasetOptions options;
    options.format = source.data_format;
    options.height = run.input_height();
    options.width = run.input_width();
    options.classes = class_names;
    options.splits = {split};
    auto dataset = std::make_shared<Dataset>(load_dataset(source.data_dir, options));
    std::vector<int64_t> all(dataset->size());
    for (int64_t i = 0; i < dataset->size(); ++i) all[i] = i;
    const std::string what = dataset->layout == "split folders"
                                 ? "the " + split + " split of " + source.data_dir
                                 : "all images of " + source.data_dir;
    return dataset_images(std::move(dataset), std::move(all), what, label_values);
  }
  if (!source.preset.empty()) {
    const data::Preset preset = data::find_preset(source.preset, source.preset_file);
    std::vector<int> values(10, -1);
    for (int digit : preset.classes) {
      const auto it = std::find(class_names.begin(), class_names.end(), std::to_string(digit));
      LOCDET_CHECK(it != class_names.end(), "the model has no class named '", digit,
                   "', so it cannot be scored on preset '", preset.name, "'");
      const int index = static_cast<int>(it - class_names.begin());
      values[digit] = label_values.empty() ? index : label_values[index];
    }
    return rendered_scenes(bank(), preset, source.split, run.data_seed, values);
  }
  if (run.on_files())
    return TrainingData(reload_training_dataset(run.data, run.data_seed), run.data, run.data_seed)
        .images(source.split);
  return rendered_scenes(bank(), run.preset, source.split, run.data_seed);
}

// ---- TrainingData ---------------------------------------------------------------------------

TrainingData::TrainingData(const data::DigitBank& bank, const data::Preset& preset, uint64_t data_seed)
    : bank_(&bank), preset_(preset), data_seed_(data_seed) {}

TrainingData::TrainingData(std::shared_ptr<const Dataset> dataset, const DatasetSpec& spec,
                           uint64_t split_seed)
    : dataset_(std::move(dataset)),
      spec_(spec),
      splits_(split_dataset(*dataset_, spec.val_fraction, split_seed)) {
  LOCDET_CHECK(dataset_->height == spec.height && dataset_->width == spec.width, "the dataset was read at ",
               dataset_->height, "x", dataset_->width, " but the run's input is ", spec.height, "x",
               spec.width);
}

int TrainingData::height() const {
  return dataset_ ? dataset_->height : preset_.height;
}

int TrainingData::width() const {
  return dataset_ ? dataset_->width : preset_.width;
}

SceneFeed TrainingData::add_train_feed(Graph& g, int batch, uint64_t seed, Device device) const {
  if (!dataset_) {
    auto stream = std::make_shared<SceneStream>(*bank_, preset_, data::Split::kTrain, seed);
    if (device == Device::kCuda) stream->prepare_cuda();
    return add_scene_feed(g, stream, batch);
  }
  auto stream = std::make_shared<DatasetStream>(*dataset_, splits_.train, spec_.augment, seed);
  if (device == Device::kCuda) device_bytes_ = stream->prepare_cuda();
  return add_dataset_feed(g, stream, batch);
}

std::unique_ptr<LabeledImages> TrainingData::images(data::Split split) const {
  if (!dataset_) return rendered_scenes(*bank_, preset_, split, data_seed_);
  const std::string n_val = std::to_string(splits_.val.size()), n_test = std::to_string(splits_.test.size());
  switch (split) {
    case data::Split::kTrain:
      return dataset_images(dataset_, splits_.train, "the dataset's training images", {});
    case data::Split::kVal:
      return dataset_images(dataset_, splits_.val, "the validation images (" + splits_.val_source + ")", {});
    case data::Split::kTest:
      if (splits_.test.empty())
        return dataset_images(
            dataset_, splits_.val,
            "the validation images (the dataset has no test split; " + splits_.val_source + ")", {});
      return dataset_images(dataset_, splits_.test, "the dataset's test split", {});
  }
  fail("unknown split");
}

std::vector<std::pair<double, double>> TrainingData::training_box_sizes(int max_images) const {
  std::vector<std::pair<double, double>> wh;
  if (!dataset_) {
    const int count =
        static_cast<int>(std::min<int64_t>(max_images, data::split_size(preset_, data::Split::kTrain)));
    data::SceneSource source(*bank_, preset_, data::Split::kTrain);
    data::SceneBatch scenes;
    data::render_scenes_cpu(preset_, data::Split::kTrain, /*seed=*/0, source, 0, count, &scenes);
    for (const SceneLabel& label : scenes.labels)
      for (int k = 0; k < label.count; ++k)
        wh.emplace_back(label.box[k][2] - label.box[k][0], label.box[k][3] - label.box[k][1]);
    return wh;
  }
  const size_t count = std::min<size_t>(static_cast<size_t>(max_images), splits_.train.size());
  for (size_t i = 0; i < count; ++i) {
    const int64_t image = splits_.train[i];
    const DatasetBox* boxes = dataset_->image_boxes(image);
    for (int k = 0; k < dataset_->images[image].box_count; ++k)
      wh.emplace_back(boxes[k].box[2] - boxes[k].box[0], boxes[k].box[3] - boxes[k].box[1]);
  }
  return wh;
}

}  // namespace locdet::models
