// Dataset export for other tools: rendered scenes as PNG files, COCO annotations
// (bbox [x, y, w, h] in pixels, category id = digit), YOLO txt labels (class cx cy w h,
// normalized), the second seed's CSV (file, x1, y1, x2, y2, class in pixels), a preview grid
// with boxes and classes drawn, and label statistics.
// Every file is written atomically (temp + rename).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/digits/scene.h"

namespace locdet::data {

struct ExportFormats {
  bool png = true, coco = true, yolo = false, csv = false;
};
// "png,coco,yolo,csv" (any non-empty subset, comma separated).
ExportFormats parse_formats(const std::string& text);

struct DatasetStats {
  int64_t images = 0;
  std::array<int64_t, 10> class_counts{};
  std::map<int, int64_t> digits_per_image;
  std::vector<float> box_widths, box_heights;  // pixels
  int64_t no_object_images = 0;

  void add(const SceneLabel& label);
  double no_object_rate() const { return images ? static_cast<double>(no_object_images) / images : 0.0; }
  // The printed report (collections.Counter-style class counts, histogram, percentiles).
  std::string report() const;
  std::string to_json() const;
};

// Percentile (0..100) by linear interpolation between order statistics, as numpy's default.
float percentile(std::vector<float> values, float q);

struct ExportOptions {
  ExportFormats formats;
  int preview_count = 32;  // scenes in preview.png
  int preview_cols = 8;
  int preview_zoom = 3;
};

// Renders samples 0 .. count-1 of the split and writes DIR/images/*.png,
// DIR/annotations.json, DIR/labels/*.txt (+ classes.txt), DIR/annotations.csv (a row
// "file,,,,," for an image without a digit), DIR/preview.png, DIR/stats.json.
DatasetStats export_dataset(const Preset& preset, Split split, uint64_t seed, int64_t count,
                            const std::string& dir, const DigitBank& bank, const ExportOptions& options = {});

// The preview grid of a batch: each scene zoomed, its boxes and classes drawn.
void write_preview(const std::string& path, const SceneBatch& batch, int count, int cols, int zoom);

}  // namespace locdet::data
