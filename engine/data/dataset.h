// Detection and localization datasets on disk, read once into memory for training and
// evaluation. Formats (docs/DATASETS.md, "Your own data"):
//   COCO   annotations.json (or _annotations.coco.json) beside the images, or
//          annotations/instances_<split>*.json with the images in <split>*/;
//   YOLO   images/ + labels/ (one "class cx cy w h" line per box, normalized), class names
//          from classes.txt, obj.names or data.yaml;
//   CSV    the second seed's layout: PNGs and one CSV of "file, x1, y1, x2, y2, class"
//          (pixels, or normalized when every coordinate is in [0, 1]).
// Each either in one folder or split into train/ val/ (valid/) test/ folders (YOLO also as
// images/<split>/ + labels/<split>/). Every image is converted to gray (luma of RGB, alpha
// dropped), letterboxed to the model input (io::letterbox: scaled by min(W / w, H / h) with
// bilinear sampling, centred, margins 0) and stored as bytes; its boxes are mapped the same
// way, into model pixels. Classes are the dataset's categories in id order (or a trained
// model's class list, matched by name).
//
// A bad dataset is refused before anything is returned, with an error that names the file and
// the entry: a missing image, a box outside its image or without area, an unknown category, a
// label file without an image, an empty dataset, an image whose size is far from the others'.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace locdet {

struct DatasetBox {
  int32_t cls = 0;              // class index into Dataset::class_names
  float box[4] = {0, 0, 0, 0};  // x1, y1, x2, y2 in model pixels
};

struct DatasetImage {
  std::string file;   // relative to the dataset folder
  std::string split;  // "train" | "val" | "test", or "" when the dataset has no splits
  int source_width = 0, source_height = 0;
  float scale = 1, offset_x = 0, offset_y = 0;  // model pixel = source pixel * scale + offset
  int64_t first_box = 0;
  int box_count = 0;
};

struct DatasetOptions {
  std::string format;                // "" (detect) | "coco" | "yolo" | "csv"
  int height = 0, width = 0;         // model input; 0 = from the images (see load_dataset)
  int multiple = 4;                  // a default input side is rounded up to a multiple of this
  int max_side = 256;                // a default input is the typical size scaled down to fit this
  float max_scale_ratio = 2.0f;      // refuse an image letterboxed this many times smaller or
                                     // larger than the typical one
  std::vector<std::string> classes;  // a fixed class list (a trained model's), matched by name;
                                     // empty = the dataset's categories
  std::vector<std::string> splits;   // splits to load ("train", "val", "test"); empty = all
};

struct Dataset {
  std::string root, format, layout;  // layout: "one folder" | "split folders"
  int height = 0, width = 0;         // the model input every image was letterboxed to
  std::vector<std::string> class_names;
  std::vector<DatasetImage> images;
  std::vector<DatasetBox> boxes;
  std::vector<uint8_t> pixels;  // [images, height, width], gray 0..255

  int64_t size() const { return static_cast<int64_t>(images.size()); }
  const uint8_t* image_pixels(int64_t i) const { return pixels.data() + i * height * width; }
  const DatasetBox* image_boxes(int64_t i) const { return boxes.data() + images[i].first_box; }
  bool has_split(const std::string& split) const;
  int max_boxes_per_image() const;
  // How images became model inputs, for the run's config.
  static std::string letterbox_description();
};

// Reads DIR. The model input is options.height x options.width, or else the most common image
// size, scaled down to fit options.max_side and rounded up to options.multiple.
Dataset load_dataset(const std::string& dir, const DatasetOptions& options = {});

// Which images train, validate and test: the dataset's own splits where it has them; a
// validation split it lacks is held out of its training images (of all its images when it has
// no splits): a fixed fraction chosen by a seeded hash of each file name, so it never overlaps
// the training images and does not change from run to run.
struct DatasetSplits {
  std::vector<int64_t> train, val, test;
  std::string val_source;  // "the dataset's val split" | "held out: 10% of ..."
};
DatasetSplits split_dataset(const Dataset& dataset, double val_fraction, uint64_t seed);

}  // namespace locdet
