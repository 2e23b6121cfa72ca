// Dataset export; see export.h.
#include "models/digits/export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/io/image.h"
#include "kernels/base/atomic_file.h"
#include "kernels/base/error.h"

namespace locdet::data {

namespace fs = std::filesystem;
using nlohmann::json;

ExportFormats parse_formats(const std::string& text) {
  ExportFormats f{false, false, false, false};
  std::stringstream in(text);
  std::string item;
  int n = 0;
  while (std::getline(in, item, ',')) {
    if (item == "png")
      f.png = true;
    else if (item == "coco")
      f.coco = true;
    else if (item == "yolo")
      f.yolo = true;
    else if (item == "csv")
      f.csv = true;
    else
      fail("unknown export format '", item, "' in '", text,
           "': expected a comma-separated list of png, coco, yolo, csv");
    ++n;
  }
  if (n == 0) fail("empty --format: expected a comma-separated list of png, coco, yolo, csv");
  return f;
}

void DatasetStats::add(const SceneLabel& label) {
  ++images;
  ++digits_per_image[label.count];
  if (label.count == 0) ++no_object_images;
  for (int k = 0; k < label.count; ++k) {
    if (label.cls[k] >= 0 && label.cls[k] < 10) ++class_counts[label.cls[k]];
    box_widths.push_back(label.box[k][2] - label.box[k][0]);
    box_heights.push_back(label.box[k][3] - label.box[k][1]);
  }
}

float percentile(std::vector<float> values, float q) {
  if (values.empty()) return 0.0f;
  std::sort(values.begin(), values.end());
  double pos = q / 100.0 * (values.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos)), hi = std::min(values.size() - 1, lo + 1);
  double frac = pos - lo;
  return static_cast<float>(values[lo] + (values[hi] - values[lo]) * frac);
}

namespace {
const float kPercentiles[] = {0, 5, 25, 50, 75, 95, 100};
}

std::string DatasetStats::report() const {
  std::ostringstream out;
  std::vector<std::pair<int, int64_t>> counts;
  for (int c = 0; c < 10; ++c)
    if (class_counts[c] > 0) counts.push_back({c, class_counts[c]});
  std::stable_sort(counts.begin(), counts.end(), [](auto& a, auto& b) { return a.second > b.second; });
  out << "images: " << images << "\n";
  out << "class_counts: Counter({";
  for (size_t i = 0; i < counts.size(); ++i)
    out << (i ? ", " : "") << counts[i].first << ": " << counts[i].second;
  out << "})\n";
  out << "digits_per_image:";
  for (const auto& [n, c] : digits_per_image) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " %d: %lld (%.1f%%)", n, static_cast<long long>(c),
                  images ? 100.0 * c / images : 0.0);
    out << buf << (n != digits_per_image.rbegin()->first ? "," : "");
  }
  out << "\n";
  for (int dim = 0; dim < 2; ++dim) {
    out << (dim == 0 ? "box_width_px_percentiles:" : "box_height_px_percentiles:");
    for (float q : kPercentiles) {
      char buf[48];
      std::snprintf(buf, sizeof buf, " p%g=%.1f", q, percentile(dim == 0 ? box_widths : box_heights, q));
      out << buf;
    }
    out << "\n";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "no_object_rate: %.4f\n", no_object_rate());
  out << buf;
  return out.str();
}

std::string DatasetStats::to_json() const {
  json j;
  j["images"] = images;
  json classes = json::object();
  for (int c = 0; c < 10; ++c) classes[std::to_string(c)] = class_counts[c];
  j["class_counts"] = classes;
  json hist = json::object();
  for (const auto& [n, c] : digits_per_image) hist[std::to_string(n)] = c;
  j["digits_per_image"] = hist;
  json w = json::object(), h = json::object();
  for (float q : kPercentiles) {
    char key[16];
    std::snprintf(key, sizeof key, "p%g", q);
    w[key] = percentile(box_widths, q);
    h[key] = percentile(box_heights, q);
  }
  j["box_width_px_percentiles"] = w;
  j["box_height_px_percentiles"] = h;
  j["no_object_rate"] = no_object_rate();
  return j.dump(2);
}

namespace {
// Per-sample label files: temp + rename (atomic), fsync left to the final files.
void write_text_renamed(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) fail("cannot write '", path, "'; is the folder writable?");
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    fail("cannot write '", path, "' (disk full?)");
  }
}
}  // namespace

void write_preview(const std::string& path, const SceneBatch& batch, int count, int cols, int zoom) {
  std::vector<io::RgbImage> tiles;
  for (int b = 0; b < std::min(count, batch.batch); ++b) {
    io::RgbImage tile = io::gray_to_rgb(batch.image(b), batch.height, batch.width, zoom);
    const SceneLabel& label = batch.labels[b];
    for (int k = 0; k < label.count; ++k) {
      const float* box = label.box[k];
      int x0 = static_cast<int>(std::floor(box[0] * zoom)), y0 = static_cast<int>(std::floor(box[1] * zoom));
      int x1 = static_cast<int>(std::ceil(box[2] * zoom)), y1 = static_cast<int>(std::ceil(box[3] * zoom));
      io::draw_rect(tile, x0, y0, x1, y1, io::kGreen);
      int ty = y0 - 7 >= 0 ? y0 - 7 : y1 + 2;
      io::draw_text(tile, x0, ty, std::to_string(label.cls[k]), io::kYellow);
    }
    tiles.push_back(std::move(tile));
  }
  io::write_png(path, io::compose_grid(tiles, cols));
}

DatasetStats export_dataset(const Preset& preset, Split split, uint64_t seed, int64_t count,
                            const std::string& dir, const DigitBank& bank, const ExportOptions& options) {
  const int64_t size = split_size(preset, split);
  if (count < 1 || count > size)
    fail("--count ", count, " is outside [1, ", size, "]: the ", split_name(split), " split of preset '",
         preset.name, "' has ", size, " scenes");
  ensure_writable_dir(dir);
  const fs::path root(dir);
  if (options.formats.png) ensure_writable_dir((root / "images").string());
  if (options.formats.yolo) ensure_writable_dir((root / "labels").string());

  SceneSource source(bank, preset, split);
  DatasetStats stats;
  json images = json::array(), annotations = json::array();
  std::string csv = "file,x1,y1,x2,y2,class\n";
  int64_t annotation_id = 1;
  const int chunk = 2048;
  SceneBatch batch;
  for (int64_t first = 0; first < count; first += chunk) {
    const int n = static_cast<int>(std::min<int64_t>(chunk, count - first));
    render_scenes_cpu(preset, split, seed, source, static_cast<uint64_t>(first), n, &batch);
    if (first == 0)
      write_preview((root / "preview.png").string(), batch, options.preview_count, options.preview_cols,
                    options.preview_zoom);
    for (int b = 0; b < n; ++b) {
      const int64_t index = first + b;
      const SceneLabel& label = batch.labels[b];
      stats.add(label);
      char stem[64];
      std::snprintf(stem, sizeof stem, "%s_%06lld", split_name(split), static_cast<long long>(index));
      const std::string file_name = std::string("images/") + stem + ".png";
      if (options.formats.png)
        io::write_png_gray((root / file_name).string(), batch.image(b), batch.height, batch.width,
                           /*durable=*/false);
      if (options.formats.coco) {
        images.push_back({{"id", index + 1},
                          {"file_name", file_name},
                          {"width", preset.width},
                          {"height", preset.height}});
        for (int k = 0; k < label.count; ++k) {
          const float* box = label.box[k];
          const float w = box[2] - box[0], h = box[3] - box[1];
          annotations.push_back({{"id", annotation_id++},
                                 {"image_id", index + 1},
                                 {"category_id", label.cls[k]},
                                 {"bbox", {box[0], box[1], w, h}},
                                 {"area", w * h},
                                 {"iscrowd", 0}});
        }
      }
      if (options.formats.csv) {
        char row[160];
        for (int k = 0; k < label.count; ++k) {
          const float* box = label.box[k];
          std::snprintf(row, sizeof row, "%s,%g,%g,%g,%g,%d\n", file_name.c_str(), box[0], box[1], box[2],
                        box[3], label.cls[k]);
          csv += row;
        }
        if (label.count == 0) csv += file_name + ",,,,,\n";
      }
      if (options.formats.yolo) {
        std::ostringstream lines;
        char line[128];
        for (int k = 0; k < label.count; ++k) {
          const float* box = label.box[k];
          std::snprintf(line, sizeof line, "%d %.6f %.6f %.6f %.6f\n", label.cls[k],
                        0.5 * (box[0] + box[2]) / preset.width, 0.5 * (box[1] + box[3]) / preset.height,
                        (box[2] - box[0]) / preset.width, (box[3] - box[1]) / preset.height);
          lines << line;
        }
        write_text_renamed((root / "labels" / (std::string(stem) + ".txt")).string(), lines.str());
      }
    }
  }
  if (options.formats.coco) {
    json categories = json::array();
    for (int c = 0; c < 10; ++c)
      categories.push_back({{"id", c}, {"name", std::to_string(c)}, {"supercategory", "digit"}});
    json coco = {{"info",
                  {{"description", "locdet " + preset.name + " " + split_name(split) + " scenes"},
                   {"preset", preset.name},
                   {"split", split_name(split)},
                   {"seed", seed},
                   {"version", "1"}}},
                 {"licenses", json::array()},
                 {"images", images},
                 {"annotations", annotations},
                 {"categories", categories}};
    write_file_atomic((root / "annotations.json").string(), coco.dump());
  }
  if (options.formats.yolo) {
    std::string names;
    for (int c = 0; c < 10; ++c) names += std::to_string(c) + "\n";
    write_file_atomic((root / "classes.txt").string(), names);
  }
  if (options.formats.csv) write_file_atomic((root / "annotations.csv").string(), csv);
  write_file_atomic((root / "stats.json").string(), stats.to_json());
  return stats;
}

}  // namespace locdet::data
