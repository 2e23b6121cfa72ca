// Where a run's images come from: scenes rendered from the digit bank with the run's preset, or a
// dataset on disk (engine/data/dataset) split into train/val/test and augmented on the device.
// Both give a training feed (the same SceneFeed: images and SceneLabel rows) and fixed, unaugmented
// labeled images for validation and testing, so the trainers, the evaluation and the anchors do
// not care which it is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/data/dataset.h"
#include "kernels/base/device.h"
#include "kernels/common/augment.h"
#include "models/digits/scene.h"
#include "models/scene_feed.h"

namespace locdet::models {

// A dataset run's data as config.json records it (the "data" key): enough to load the same
// dataset the same way again and to notice when it changed.
struct DatasetSpec {
  std::string dir;                   // empty: the run trains on its preset's rendered scenes
  std::string format, layout;        // as found (coco | yolo | csv; one folder | split folders)
  int height = 0, width = 0;         // the model input every image is letterboxed to
  std::vector<std::string> classes;  // class index -> name (the dataset's categories)
  double val_fraction = 0.1;         // held out of the training images when there is no val split
  std::string val_source;
  int64_t train_images = 0, val_images = 0, test_images = 0;
  AugmentParams augment = default_augment(0, 0);

  bool empty() const { return dir.empty(); }
  static AugmentParams default_augment(int height, int width);
  nlohmann::json to_json() const;
  static DatasetSpec from_json(const nlohmann::json& j);  // throws nlohmann exceptions
  void validate() const;
};

// "none", "default", or "scale=0.9:1.1,translate=0.1,contrast=0.2,brightness=0.1,noise=0.05"
// (any subset; the rest stays at the defaults).
AugmentParams parse_augment(const std::string& text, int height, int width);
// The same flag on a preset run: "default" keeps the preset's training augmentation, "none"
// turns it off, "shear=K,stroke=R" (either or both) sets its train_shear / train_stroke.
void apply_scene_augment(const std::string& text, data::Preset* preset);

// Loads `dir` for training: the model input, classes, splits and counts into a spec (with
// `augment`). `input_height`/`input_width` 0 = from the images.
struct LoadedDataset {
  std::shared_ptr<const Dataset> dataset;
  DatasetSpec spec;
};
LoadedDataset load_training_dataset(const std::string& dir, const std::string& format, int input_height,
                                    int input_width, double val_fraction, uint64_t split_seed,
                                    const std::string& augment);
// A localizer learns zero or one box per image: refuses, naming the first image with more.
void require_at_most_one_box(const Dataset& dataset);
// Loads a run's dataset again (resume): the same folder read the same way; refuses, saying what
// differs, when the images, splits or classes are no longer what the run was started with.
std::shared_ptr<const Dataset> reload_training_dataset(const DatasetSpec& spec, uint64_t split_seed);

// Labeled images of one split, read in order: images [count, H, W] in [0, 1] and SceneLabel rows.
class LabeledImages {
 public:
  virtual ~LabeledImages() = default;
  virtual int64_t size() const = 0;
  virtual int height() const = 0;
  virtual int width() const = 0;
  // Images first .. first + count - 1 into *out.
  virtual void read(int64_t first, int count, data::SceneBatch* out) const = 0;
  // Where they come from, for messages: "preset det10, test split" / "the dataset's test split".
  virtual std::string describe() const = 0;
  // The preset's 2x3-grid metric applies (inf265-det); null for datasets.
  virtual const data::Preset* preset() const { return nullptr; }
};

// The `split` scenes of `preset` rendered with `data_seed`. `label_values` (optional, indexed by
// digit) replaces each digit with the label value a model trained on a dataset uses for it.
std::unique_ptr<LabeledImages> rendered_scenes(const data::DigitBank& bank, const data::Preset& preset,
                                               data::Split split, uint64_t data_seed,
                                               std::vector<int> label_values = {});
// Images `indices` of `dataset` (their boxes as dataset_label rows with `label_values`).
std::unique_ptr<LabeledImages> dataset_images(std::shared_ptr<const Dataset> dataset,
                                              std::vector<int64_t> indices, std::string what,
                                              std::vector<int> label_values = {});

// The images to score a trained model on (evaluate): a dataset folder (`data_dir`: its `split`
// folder when it has split folders, else all of it; read at the model's input, its classes matched
// to the model's by name), another preset's rendered split (`preset`), or else the run's own data
// (its preset's split, or its dataset's split as training defined it). `label_values` maps a model
// class index to the label value its targets use (the detector's digit list; empty = the index).
struct EvaluationSource {
  std::string data_dir, data_format;  // a dataset folder
  std::string preset, preset_file;    // another preset
  data::Split split = data::Split::kTest;
};
struct RunSchedule;
std::unique_ptr<LabeledImages> evaluation_images(const RunSchedule& run,
                                                 const std::vector<std::string>& class_names,
                                                 const std::vector<int>& label_values,
                                                 const EvaluationSource& source,
                                                 const std::function<const data::DigitBank&()>& bank);

class TrainingData {
 public:
  // Scenes of `preset` (the bank is the caller's and must outlive this).
  TrainingData(const data::DigitBank& bank, const data::Preset& preset, uint64_t data_seed);
  // A dataset split as `spec` says (spec.val_fraction, `split_seed`).
  TrainingData(std::shared_ptr<const Dataset> dataset, const DatasetSpec& spec, uint64_t split_seed);

  bool from_files() const { return dataset_ != nullptr; }
  int height() const;
  int width() const;
  // The training feed (images uploaded / digits uploaded to the GPU once when device is CUDA).
  SceneFeed add_train_feed(Graph& g, int batch, uint64_t seed, Device device) const;
  // Fixed labeled images: the val split, or the test split (a dataset without one: its val split).
  std::unique_ptr<LabeledImages> images(data::Split split) const;
  // (w, h) in pixels of the boxes in the first `max_images` training images (anchors).
  std::vector<std::pair<double, double>> training_box_sizes(int max_images) const;
  // Bytes the training images take on the GPU once uploaded (0 for scenes, or before).
  int64_t device_bytes() const { return device_bytes_; }

 private:
  const data::DigitBank* bank_ = nullptr;
  data::Preset preset_;
  uint64_t data_seed_ = 0;
  std::shared_ptr<const Dataset> dataset_;
  DatasetSpec spec_;
  DatasetSplits splits_;
  mutable int64_t device_bytes_ = 0;
};

}  // namespace locdet::models
