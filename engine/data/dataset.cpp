// Datasets on disk; see dataset.h. Reading happens in three passes: the annotations of every
// split are parsed into raw images and boxes (category keys, source coordinates), the classes
// are unified, then every image is decoded (OpenMP over images), checked and letterboxed.
#include "engine/data/dataset.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "engine/io/image.h"
#include "kernels/base/error.h"

namespace locdet {

namespace fs = std::filesystem;
using nlohmann::json;

bool Dataset::has_split(const std::string& split) const {
  return std::any_of(images.begin(), images.end(), [&](const DatasetImage& i) { return i.split == split; });
}

int Dataset::max_boxes_per_image() const {
  int most = 0;
  for (const DatasetImage& i : images) most = std::max(most, i.box_count);
  return most;
}

std::string Dataset::letterbox_description() {
  return "gray (luma (77 R + 150 G + 29 B) / 256, alpha dropped), scaled by min(W/w, H/h) with bilinear "
         "sampling, centred, margins 0, stored as 8-bit; boxes mapped the same way";
}

namespace {

// A box as the annotations give it, before the image is decoded.
struct RawBox {
  std::string cls;                  // category key: its name
  double coords[4] = {0, 0, 0, 0};  // x1, y1, x2, y2: source pixels, or normalized
  bool normalized = false;
  std::string where;  // the entry, for errors: "annotations.json: annotation id 7"
};

struct RawImage {
  fs::path path;
  std::string file;  // relative to the root
  std::string split;
  std::string where;  // the entry that named it
  int declared_width = 0, declared_height = 0;
  std::vector<RawBox> boxes;
};

struct RawSplit {
  std::string split;
  std::vector<RawImage> images;
  std::vector<std::string> categories;  // class names in class order, when the format declares them
  std::string categories_from;
};

// Where one split's annotations and images are.
struct SplitSource {
  std::string split, format;
  fs::path annotations;              // COCO json / CSV file
  fs::path images_dir, labels_dir;   // YOLO
  std::vector<fs::path> image_dirs;  // where file names are looked up (COCO, CSV)
  std::vector<fs::path> name_dirs;   // YOLO: where classes.txt / obj.names / data.yaml may be
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

bool is_image_file(const fs::path& p) {
  static const std::set<std::string> kExtensions = {".png", ".jpg", ".jpeg", ".bmp",
                                                    ".pgm", ".ppm", ".tga",  ".gif"};
  return kExtensions.count(lower(p.extension().string())) > 0;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}
bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::string relative_to(const fs::path& p, const fs::path& root) {
  std::error_code ec;
  fs::path r = fs::relative(p, root, ec);
  return ec || r.empty() ? p.string() : r.generic_string();
}

std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read '", path.string(), "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool parse_double(const std::string& text, double* out) {
  const std::string t = trim(text);
  if (t.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size() && std::isfinite(*out);
}

bool parse_int(const std::string& text, int64_t* out) {
  const std::string t = trim(text);
  if (t.empty()) return false;
  char* end = nullptr;
  *out = std::strtoll(t.c_str(), &end, 10);
  return end == t.c_str() + t.size();
}

// The first of dirs/name that exists, or fails naming the entry and where it looked.
fs::path find_image(const std::string& name, const std::vector<fs::path>& dirs, const fs::path& root,
                    const std::string& where) {
  for (const fs::path& d : dirs)
    if (is_file(d / name)) return d / name;
  std::string looked;
  for (const fs::path& d : dirs) looked += (looked.empty() ? "" : ", ") + relative_to(d, root) + "/";
  fail(where, ": image '", name, "' not found (looked in ", looked,
       "); add the file or remove the entry from the annotations");
}

// ---- COCO -----------------------------------------------------------------------------------

RawSplit read_coco(const SplitSource& source, const fs::path& root) {
  const std::string file = relative_to(source.annotations, root);
  json j;
  try {
    j = json::parse(read_text(source.annotations));
  } catch (const json::exception& e) {
    fail(file, " is not valid JSON (", e.what(), ")");
  }
  RawSplit out;
  out.split = source.split;
  out.categories_from = file;
  try {
    LOCDET_CHECK(j.is_object() && j.contains("images") && j["images"].is_array(), file,
                 " has no \"images\" list; is it a COCO annotation file?");
    LOCDET_CHECK(j.contains("categories") && j["categories"].is_array() && !j["categories"].empty(), file,
                 " has no \"categories\" list; a COCO file must name its categories");
    std::map<int64_t, std::string> categories;
    for (const json& c : j["categories"]) {
      const int64_t id = c.at("id").get<int64_t>();
      const std::string name = c.contains("name") ? c["name"].get<std::string>() : std::to_string(id);
      LOCDET_CHECK(categories.emplace(id, name).second, file, ": category id ", id, " is listed twice");
    }
    std::set<std::string> names;
    for (const auto& [id, name] : categories) {
      LOCDET_CHECK(names.insert(name).second, file, ": two categories are named '", name, "'");
      out.categories.push_back(name);
    }
    std::map<int64_t, size_t> image_of_id;
    for (const json& im : j["images"]) {
      const int64_t id = im.at("id").get<int64_t>();
      RawImage raw;
      raw.where = file + ": image id " + std::to_string(id);
      const std::string name = im.at("file_name").get<std::string>();
      LOCDET_CHECK(image_of_id.emplace(id, out.images.size()).second, raw.where, " is listed twice");
      raw.path = find_image(name, source.image_dirs, root, raw.where);
      raw.file = relative_to(raw.path, root);
      raw.split = source.split;
      if (im.contains("width") && im.contains("height")) {
        raw.declared_width = im["width"].get<int>();
        raw.declared_height = im["height"].get<int>();
      }
      out.images.push_back(std::move(raw));
    }
    if (j.contains("annotations")) {
      for (const json& a : j["annotations"]) {
        const std::string where =
            file + ": annotation " + (a.contains("id") ? "id " + a["id"].dump() : std::string("without id"));
        const int64_t image_id = a.at("image_id").get<int64_t>();
        auto image = image_of_id.find(image_id);
        LOCDET_CHECK(image != image_of_id.end(), where, " refers to image id ", image_id,
                     ", which \"images\" does not list");
        if (a.contains("iscrowd") && a["iscrowd"].get<int>() != 0)
          continue;  // a crowd region, not one object
        const int64_t category = a.at("category_id").get<int64_t>();
        auto c = categories.find(category);
        if (c == categories.end())
          fail(where, " (image '", out.images[image->second].file, "'): category_id ", category,
               " is not in \"categories\" (ids ", categories.begin()->first, "..", categories.rbegin()->first,
               "); fix the annotation or add the category");
        const json& bbox = a.at("bbox");
        LOCDET_CHECK(bbox.is_array() && bbox.size() == 4, where,
                     ": \"bbox\" must be [x, y, width, height], got ", bbox.dump());
        RawBox box;
        box.cls = c->second;
        box.where = where;
        const double x = bbox[0].get<double>(), y = bbox[1].get<double>();
        box.coords[0] = x;
        box.coords[1] = y;
        box.coords[2] = x + bbox[2].get<double>();
        box.coords[3] = y + bbox[3].get<double>();
        out.images[image->second].boxes.push_back(box);
      }
    }
  } catch (const json::exception& e) {
    fail(file, " is not a COCO annotation file as expected (", e.what(), ")");
  }
  return out;
}

// ---- YOLO -----------------------------------------------------------------------------------

// Class names from classes.txt / obj.names (one per line) or data.yaml / dataset.yaml (names:
// as an inline list, a block list or an index map). Empty when none is found.
std::vector<std::string> read_yolo_names(const std::vector<fs::path>& dirs, const fs::path& root,
                                         std::string* from) {
  for (const fs::path& dir : dirs) {
    for (const char* name : {"classes.txt", "obj.names"}) {
      if (!is_file(dir / name)) continue;
      std::vector<std::string> names;
      std::istringstream in(read_text(dir / name));
      for (std::string line; std::getline(in, line);)
        if (!trim(line).empty()) names.push_back(trim(line));
      *from = relative_to(dir / name, root);
      return names;
    }
    for (const char* name : {"data.yaml", "dataset.yaml"}) {
      if (!is_file(dir / name)) continue;
      std::istringstream in(read_text(dir / name));
      std::vector<std::string> names;
      std::map<int64_t, std::string> indexed;
      auto unquote = [](std::string s) {
        s = trim(s);
        if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front())
          s = s.substr(1, s.size() - 2);
        return s;
      };
      bool in_block = false;
      for (std::string line; std::getline(in, line);) {
        const std::string t = trim(line);
        if (!in_block) {
          if (t.rfind("names:", 0) != 0) continue;
          const std::string rest = trim(t.substr(6));
          if (rest.empty()) {
            in_block = true;
            continue;
          }
          LOCDET_CHECK(rest.front() == '[' && rest.back() == ']', relative_to(dir / name, root),
                       ": cannot read \"names: ", rest, "\"; write names: [a, b] or one name per line");
          std::istringstream items(rest.substr(1, rest.size() - 2));
          for (std::string item; std::getline(items, item, ',');)
            if (!trim(item).empty()) names.push_back(unquote(item));
          break;
        }
        if (t.empty() || t[0] == '#') continue;
        if (!std::isspace(static_cast<unsigned char>(line[0]))) break;  // the block ended
        int64_t index = 0;
        const size_t colon = t.find(':');
        if (t[0] == '-') {
          names.push_back(unquote(t.substr(1)));
        } else if (colon != std::string::npos && parse_int(t.substr(0, colon), &index)) {
          indexed[index] = unquote(t.substr(colon + 1));
        }
      }
      for (const auto& [index, n] : indexed) {
        LOCDET_CHECK(index == static_cast<int64_t>(names.size()), relative_to(dir / name, root),
                     ": names must be numbered 0, 1, 2, ... without gaps; ", names.size(), " is missing");
        names.push_back(n);
      }
      if (names.empty()) continue;
      *from = relative_to(dir / name, root);
      return names;
    }
  }
  return {};
}

RawSplit read_yolo(const SplitSource& source, const fs::path& root) {
  RawSplit out;
  out.split = source.split;
  out.categories = read_yolo_names(source.name_dirs, root, &out.categories_from);
  std::map<std::string, fs::path> image_of_stem;
  for (const fs::path& p : sorted_entries(source.images_dir)) {
    if (!is_file(p) || !is_image_file(p)) continue;
    auto [it, fresh] = image_of_stem.emplace(p.stem().string(), p);
    LOCDET_CHECK(fresh, "two images share the name '", p.stem().string(), "' (",
                 relative_to(it->second, root), ", ", relative_to(p, root),
                 "); a YOLO label file could belong to either: rename one");
  }
  std::map<std::string, std::vector<RawBox>> boxes_of_stem;
  for (const fs::path& p : sorted_entries(source.labels_dir)) {
    if (!is_file(p) || lower(p.extension().string()) != ".txt") continue;
    const std::string file = relative_to(p, root), stem = p.stem().string();
    if (!image_of_stem.count(stem))
      fail(file, ": label file without an image (no ", stem, ".png/.jpg/... in ",
           relative_to(source.images_dir, root), "/); add the image or remove the label file");
    std::istringstream in(read_text(p));
    std::vector<RawBox>& boxes = boxes_of_stem[stem];
    int line_number = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_number;
      if (trim(line).empty()) continue;
      std::istringstream fields(line);
      std::vector<std::string> f;
      for (std::string s; fields >> s;) f.push_back(s);
      RawBox box;
      box.where = file + " line " + std::to_string(line_number);
      LOCDET_CHECK(f.size() == 5, box.where, ": expected \"class cx cy w h\" (5 numbers), got ", f.size(),
                   " fields", f.size() > 5 ? " (segmentation polygons are not supported)" : "");
      int64_t cls = 0;
      LOCDET_CHECK(parse_int(f[0], &cls) && cls >= 0, box.where, ": class '", f[0],
                   "' is not a non-negative integer");
      if (!out.categories.empty() && cls >= static_cast<int64_t>(out.categories.size()))
        fail(box.where, ": class ", cls, " is not in ", out.categories_from, " (", out.categories.size(),
             " classes, 0..", out.categories.size() - 1, "); fix the label or add the class name");
      box.cls = out.categories.empty() ? std::to_string(cls) : out.categories[cls];
      double v[4];
      for (int k = 0; k < 4; ++k)
        LOCDET_CHECK(parse_double(f[k + 1], &v[k]), box.where, ": '", f[k + 1], "' is not a number");
      box.normalized = true;
      box.coords[0] = v[0] - v[2] / 2;
      box.coords[1] = v[1] - v[3] / 2;
      box.coords[2] = v[0] + v[2] / 2;
      box.coords[3] = v[1] + v[3] / 2;
      boxes.push_back(box);
    }
  }
  for (const auto& [stem, path] : image_of_stem) {
    RawImage raw;
    raw.path = path;
    raw.file = relative_to(path, root);
    raw.split = source.split;
    raw.where = raw.file;
    auto b = boxes_of_stem.find(stem);
    if (b != boxes_of_stem.end()) raw.boxes = std::move(b->second);  // no label file: a background image
    out.images.push_back(std::move(raw));
  }
  return out;
}

// ---- CSV (the second seed) ------------------------------------------------------------------

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.push_back(trim(field));
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  fields.push_back(trim(field));
  return fields;
}

RawSplit read_csv(const SplitSource& source, const fs::path& root) {
  const std::string file = relative_to(source.annotations, root);
  RawSplit out;
  out.split = source.split;
  std::istringstream in(read_text(source.annotations));
  std::map<std::string, size_t> image_of_name;
  bool all_unit = true;  // every coordinate in [0, 1]: the file is normalized
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (trim(line).empty()) continue;
    const std::vector<std::string> f = split_csv_line(line);
    const std::string where = file + " line " + std::to_string(line_number);
    double v[4];
    const bool numeric = f.size() >= 5 && parse_double(f[1], &v[0]);
    if (line_number == 1 && !numeric && f.size() >= 2) continue;  // a header
    LOCDET_CHECK(f.size() == 6, where, ": expected \"file, x1, y1, x2, y2, class\" (6 fields), got ",
                 f.size());
    auto [it, fresh] = image_of_name.emplace(f[0], out.images.size());
    if (fresh) {
      RawImage raw;
      raw.where = where;
      raw.path = find_image(f[0], source.image_dirs, root, where);
      raw.file = relative_to(raw.path, root);
      raw.split = source.split;
      out.images.push_back(std::move(raw));
    }
    const bool empty = f[1].empty() && f[2].empty() && f[3].empty() && f[4].empty() && f[5].empty();
    if (empty) continue;  // an image without a box
    RawBox box;
    box.where = where;
    for (int k = 0; k < 4; ++k) {
      LOCDET_CHECK(parse_double(f[k + 1], &v[k]), where, ": '", f[k + 1], "' is not a number");
      box.coords[k] = v[k];
      all_unit = all_unit && v[k] >= 0 && v[k] <= 1;
    }
    LOCDET_CHECK(!f[5].empty(), where, ": the class is empty");
    box.cls = f[5];
    out.images[it->second].boxes.push_back(box);
  }
  for (RawImage& image : out.images)
    for (RawBox& box : image.boxes) box.normalized = all_unit;
  return out;
}

// ---- layout ---------------------------------------------------------------------------------

// The annotations of one folder in `format` ("" = the first found of coco, yolo, csv).
bool folder_source(const fs::path& dir, const fs::path& root, const std::string& split,
                   const std::string& format, SplitSource* out) {
  out->split = split;
  if (format.empty() || format == "coco") {
    for (const char* name : {"annotations.json", "_annotations.coco.json"}) {
      if (!is_file(dir / name)) continue;
      out->format = "coco";
      out->annotations = dir / name;
      out->image_dirs = {dir, dir / "images"};
      return true;
    }
  }
  if ((format.empty() || format == "yolo") && is_dir(dir / "labels")) {
    out->format = "yolo";
    out->labels_dir = dir / "labels";
    out->images_dir = is_dir(dir / "images") ? dir / "images" : dir;
    out->name_dirs = {dir, root};
    return true;
  }
  if (format.empty() || format == "csv") {
    std::vector<fs::path> csvs;
    for (const fs::path& p : sorted_entries(dir))
      if (is_file(p) && lower(p.extension().string()) == ".csv") csvs.push_back(p);
    fs::path chosen;
    for (const fs::path& p : csvs)
      if (p.filename() == "annotations.csv" || p.filename() == "labels.csv") chosen = p;
    if (chosen.empty() && csvs.size() == 1) chosen = csvs[0];
    if (chosen.empty() && csvs.size() > 1)
      fail(relative_to(dir, root), "/ holds ", csvs.size(),
           " CSV files and none is annotations.csv; keep one, or name the annotations annotations.csv");
    if (!chosen.empty()) {
      out->format = "csv";
      out->annotations = chosen;
      out->image_dirs = {dir, dir / "images"};
      return true;
    }
  }
  return false;
}

std::string split_of_folder(const std::string& name) {
  const std::string n = lower(name);
  if (n == "train") return "train";
  if (n == "val" || n == "valid" || n == "validation") return "val";
  if (n == "test") return "test";
  return "";
}

std::vector<SplitSource> find_sources(const fs::path& root, const std::string& format, std::string* layout) {
  std::vector<SplitSource> sources;
  // train/ val/ test/ folders, each a dataset of its own.
  for (const fs::path& p : sorted_entries(root)) {
    const std::string split = split_of_folder(p.filename().string());
    SplitSource s;
    if (!split.empty() && is_dir(p) && folder_source(p, root, split, format, &s)) sources.push_back(s);
  }
  // COCO's own layout: annotations/instances_<split>*.json, images in <split>*/ or images/.
  if (sources.empty() && (format.empty() || format == "coco") && is_dir(root / "annotations")) {
    for (const fs::path& p : sorted_entries(root / "annotations")) {
      const std::string name = p.stem().string();
      if (!is_file(p) || lower(p.extension().string()) != ".json" || name.rfind("instances_", 0) != 0)
        continue;
      const std::string tail = name.substr(10);
      const std::string split = tail.rfind("train", 0) == 0  ? "train"
                                : tail.rfind("val", 0) == 0  ? "val"
                                : tail.rfind("test", 0) == 0 ? "test"
                                                             : "";
      if (split.empty()) continue;
      SplitSource s;
      s.split = split;
      s.format = "coco";
      s.annotations = p;
      s.image_dirs = {root / tail, root / "images" / tail, root / "images", root};
      sources.push_back(s);
    }
  }
  // Ultralytics' layout: images/<split>/ + labels/<split>/.
  if (sources.empty() && (format.empty() || format == "yolo") && is_dir(root / "labels") &&
      is_dir(root / "images")) {
    for (const fs::path& p : sorted_entries(root / "labels")) {
      const std::string split = split_of_folder(p.filename().string());
      if (split.empty() || !is_dir(p) || !is_dir(root / "images" / p.filename())) continue;
      SplitSource s;
      s.split = split;
      s.format = "yolo";
      s.labels_dir = p;
      s.images_dir = root / "images" / p.filename();
      s.name_dirs = {root};
      sources.push_back(s);
    }
  }
  if (!sources.empty()) {
    std::set<std::string> seen;
    for (const SplitSource& s : sources)
      LOCDET_CHECK(seen.insert(s.split).second, root.string(), " has two folders for the ", s.split,
                   " split; keep one");
    *layout = "split folders";
    return sources;
  }
  SplitSource s;
  if (folder_source(root, root, "", format, &s)) {
    *layout = "one folder";
    return {s};
  }
  fail(
      root.string(), " holds no ", format.empty() ? "dataset" : format + " dataset",
      ": expected annotations.json (COCO), labels/ + images/ (YOLO) or a CSV of file, x1, y1, x2, y2, class, "
      "in the folder itself or in train/, val/ and test/ folders (docs/DATASETS.md)");
}

// ---- classes --------------------------------------------------------------------------------

std::vector<std::string> unify_classes(const std::vector<RawSplit>& splits) {
  const RawSplit* declared = nullptr;
  for (const RawSplit& s : splits) {
    if (s.categories.empty()) continue;
    if (!declared) {
      declared = &s;
    } else if (s.categories != declared->categories) {
      fail(s.categories_from, " and ", declared->categories_from,
           " list different categories; every split must use the same ones, in the same order");
    }
  }
  if (declared) return declared->categories;
  std::set<std::string> keys;
  bool all_integers = true;
  for (const RawSplit& s : splits)
    for (const RawImage& i : s.images)
      for (const RawBox& b : i.boxes) {
        int64_t v = 0;
        keys.insert(b.cls);
        all_integers = all_integers && parse_int(b.cls, &v);
      }
  std::vector<std::string> names(keys.begin(), keys.end());
  if (all_integers)
    std::sort(names.begin(), names.end(),
              [](const std::string& a, const std::string& b) { return std::stoll(a) < std::stoll(b); });
  return names;
}

struct Decoded {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;
  std::string error;
};

uint8_t to_byte(float v) {
  return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
}

int round_up(int v, int multiple) {
  return (v + multiple - 1) / multiple * multiple;
}

}  // namespace

Dataset load_dataset(const std::string& dir, const DatasetOptions& options) {
  const fs::path root(dir);
  LOCDET_CHECK(is_dir(root), "dataset folder '", dir, "' does not exist");
  LOCDET_CHECK(options.format.empty() || options.format == "coco" || options.format == "yolo" ||
                   options.format == "csv",
               "unknown dataset format '", options.format, "': use coco, yolo or csv");
  LOCDET_CHECK(options.max_scale_ratio >= 1, "the size ratio limit must be >= 1");
  Dataset out;
  out.root = dir;
  std::vector<SplitSource> sources = find_sources(root, options.format, &out.layout);
  if (!options.splits.empty() && out.layout == "split folders") {
    std::vector<SplitSource> wanted;
    for (const SplitSource& s : sources)
      if (std::find(options.splits.begin(), options.splits.end(), s.split) != options.splits.end())
        wanted.push_back(s);
    if (wanted.empty()) {
      std::string have;
      for (const SplitSource& s : sources) have += (have.empty() ? "" : ", ") + s.split;
      fail(dir, " has no ", options.splits.front(), " split (it has ", have, ")");
    }
    sources = wanted;
  }
  out.format = sources.front().format;
  for (const SplitSource& s : sources)
    LOCDET_CHECK(s.format == out.format, dir, " mixes formats (", out.format, " and ", s.format,
                 "); pass --data-format to choose one");

  std::vector<RawSplit> splits;
  for (const SplitSource& s : sources)
    splits.push_back(s.format == "coco"   ? read_coco(s, root)
                     : s.format == "yolo" ? read_yolo(s, root)
                                          : read_csv(s, root));
  // Classes: the model's (by name), or the dataset's.
  const std::vector<std::string> dataset_classes = unify_classes(splits);
  std::vector<RawImage> raw;
  for (RawSplit& s : splits)
    for (RawImage& i : s.images) raw.push_back(std::move(i));
  LOCDET_CHECK(!raw.empty(), dir, " (", out.format, ") lists no images; add images and their annotations");

  out.class_names = options.classes.empty() ? dataset_classes : options.classes;
  LOCDET_CHECK(!out.class_names.empty(), dir, " has no categories and no boxes; nothing to learn");
  std::map<std::string, int32_t> class_index;
  for (size_t c = 0; c < out.class_names.size(); ++c)
    class_index[out.class_names[c]] = static_cast<int32_t>(c);

  // Decode every image (in parallel; the first error in file order is reported).
  std::vector<Decoded> decoded(raw.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < static_cast<int64_t>(raw.size()); ++i) {
    try {
      const io::GrayImage image = io::read_image_gray(raw[i].path.string());
      decoded[i].width = image.width;
      decoded[i].height = image.height;
      decoded[i].pixels.resize(image.pixels.size());
      std::transform(image.pixels.begin(), image.pixels.end(), decoded[i].pixels.begin(), to_byte);
    } catch (const std::exception& e) {
      decoded[i].error = e.what();
    }
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!decoded[i].error.empty()) fail(raw[i].where, ": ", decoded[i].error);
    if (raw[i].declared_width > 0 &&
        (raw[i].declared_width != decoded[i].width || raw[i].declared_height != decoded[i].height))
      fail(raw[i].where, ": the annotations say ", raw[i].declared_width, "x", raw[i].declared_height,
           " but '", raw[i].file, "' is ", decoded[i].width, "x", decoded[i].height,
           " (width x height); fix one of them");
  }

  // The model input, and the letterbox scale of each image against the typical one.
  std::map<std::pair<int, int>, int64_t> size_count;
  for (const Decoded& d : decoded) ++size_count[{d.width, d.height}];
  const auto typical =
      std::max_element(size_count.begin(), size_count.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      })->first;
  out.width = options.width;
  out.height = options.height;
  if (out.width <= 0 || out.height <= 0) {
    const double fit =
        std::min(1.0, static_cast<double>(options.max_side) / std::max(typical.first, typical.second));
    out.width = std::max(8, round_up(static_cast<int>(std::lround(typical.first * fit)), options.multiple));
    out.height = std::max(8, round_up(static_cast<int>(std::lround(typical.second * fit)), options.multiple));
  }
  auto fit_scale = [&](int w, int h) {
    return std::min(static_cast<double>(out.width) / w, static_cast<double>(out.height) / h);
  };
  const double typical_scale = fit_scale(typical.first, typical.second);
  for (size_t i = 0; i < raw.size(); ++i) {
    const double ratio = fit_scale(decoded[i].width, decoded[i].height) / typical_scale;
    if (ratio > options.max_scale_ratio || ratio < 1.0 / options.max_scale_ratio)
      fail(raw[i].where, ": '", raw[i].file, "' is ", decoded[i].width, "x", decoded[i].height,
           " but most images are ", typical.first, "x", typical.second, ": letterboxed to the ", out.width,
           "x", out.height, " input its content would be ", ratio > 1 ? ratio : 1 / ratio, "x ",
           ratio > 1 ? "larger" : "smaller", " than theirs (the limit is ", options.max_scale_ratio,
           "x); resize it to about ", typical.first, "x", typical.second, " or remove it");
  }

  // Letterbox each image; map, check and keep its boxes.
  const size_t plane = static_cast<size_t>(out.width) * out.height;
  out.pixels.resize(plane * raw.size());
  out.images.resize(raw.size());
  constexpr double kTolerance = 1.0;  // pixels a box may reach past its image (rounding in other tools)
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < static_cast<int64_t>(raw.size()); ++i) {
    const Decoded& d = decoded[i];
    DatasetImage& image = out.images[i];
    uint8_t* dst = out.pixels.data() + plane * i;
    if (d.width == out.width && d.height == out.height) {
      std::copy(d.pixels.begin(), d.pixels.end(), dst);
      continue;  // scale 1, offset 0
    }
    io::GrayImage source;
    source.width = d.width;
    source.height = d.height;
    source.pixels.resize(d.pixels.size());
    for (size_t k = 0; k < d.pixels.size(); ++k) source.pixels[k] = d.pixels[k] / 255.0f;
    const io::Letterbox fitted = io::letterbox(source, out.height, out.width);
    std::transform(fitted.image.pixels.begin(), fitted.image.pixels.end(), dst, to_byte);
    image.scale = fitted.scale;
    image.offset_x = fitted.offset_x;
    image.offset_y = fitted.offset_y;
  }
  int64_t total_boxes = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    DatasetImage& image = out.images[i];
    const Decoded& d = decoded[i];
    image.file = raw[i].file;
    image.split = raw[i].split;
    image.source_width = d.width;
    image.source_height = d.height;
    image.first_box = static_cast<int64_t>(out.boxes.size());
    for (const RawBox& b : raw[i].boxes) {
      double c[4];
      for (int k = 0; k < 4; ++k)
        c[k] = b.normalized ? b.coords[k] * (k % 2 ? d.height : d.width) : b.coords[k];
      auto box_text = [&] {
        char text[128];
        std::snprintf(text, sizeof text, "[%.1f, %.1f, %.1f, %.1f]", c[0], c[1], c[2], c[3]);
        return std::string(text);
      };
      if (!(c[2] > c[0] && c[3] > c[1]))
        fail(b.where, " (image '", image.file, "'): the box x1, y1, x2, y2 = ", box_text(),
             " has no area; remove it or fix its size");
      if (c[0] < -kTolerance || c[1] < -kTolerance || c[2] > d.width + kTolerance ||
          c[3] > d.height + kTolerance)
        fail(b.where, " (image '", image.file, "'): the box x1, y1, x2, y2 = ", box_text(),
             " reaches outside the ", d.width, "x", d.height, " image; fix the box",
             b.normalized ? " (YOLO boxes are centre x, centre y, width, height, normalized)" : "");
      const auto cls = class_index.find(b.cls);
      if (cls == class_index.end()) {
        std::string known;
        for (size_t k = 0; k < out.class_names.size() && k < 12; ++k)
          known += (k ? ", " : "") + out.class_names[k];
        fail(b.where, " (image '", image.file, "'): class '", b.cls, "' is not one of the ",
             options.classes.empty() ? "dataset's" : "model's", " classes (", known,
             out.class_names.size() > 12 ? ", ..." : "", ")");
      }
      DatasetBox box;
      box.cls = cls->second;
      const double limit[2] = {static_cast<double>(d.width), static_cast<double>(d.height)};
      const double scale = image.scale, offset[2] = {image.offset_x, image.offset_y};
      for (int k = 0; k < 4; ++k)
        box.box[k] = static_cast<float>(std::clamp(c[k], 0.0, limit[k % 2]) * scale + offset[k % 2]);
      out.boxes.push_back(box);
      ++image.box_count;
    }
    total_boxes += image.box_count;
  }
  LOCDET_CHECK(total_boxes > 0, dir, " has ", raw.size(),
               " images but not one box; nothing to learn or score");
  return out;
}

namespace {
// FNV-1a of the file name, keyed by the seed, then a splitmix64 finish: a stable hash across
// runs, machines and compilers (std::hash is none of these).
uint64_t file_hash(const std::string& file, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ (seed * 0x9E3779B97F4A7C15ull);
  for (unsigned char c : file) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}
}  // namespace

DatasetSplits split_dataset(const Dataset& dataset, double val_fraction, uint64_t seed) {
  LOCDET_CHECK(val_fraction > 0 && val_fraction < 1, "--val-fraction must be in (0, 1), got ", val_fraction);
  DatasetSplits s;
  std::vector<int64_t> pool;  // the images a validation split is held out of
  const bool has_splits = dataset.has_split("train") || dataset.has_split("val") || dataset.has_split("test");
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const std::string& split = dataset.images[i].split;
    if (split == "val") s.val.push_back(i);
    if (split == "test") s.test.push_back(i);
    if (split == "train" || !has_splits) pool.push_back(i);
  }
  LOCDET_CHECK(!pool.empty(), dataset.root, " has no training images (",
               has_splits ? "no train split" : "none", "); add a train/ folder");
  if (!s.val.empty()) {
    s.train = pool;
    s.val_source = "the dataset's val split";
    return s;
  }
  const int64_t held = std::max<int64_t>(1, std::llround(val_fraction * pool.size()));
  LOCDET_CHECK(static_cast<int64_t>(pool.size()) > held, dataset.root, " has ", pool.size(),
               " training images: too few to hold out a validation split; add images or a val/ folder");
  std::vector<std::pair<uint64_t, int64_t>> order;
  for (int64_t i : pool) order.emplace_back(file_hash(dataset.images[i].file, seed), i);
  std::sort(order.begin(), order.end());
  for (size_t k = 0; k < order.size(); ++k)
    (static_cast<int64_t>(k) < held ? s.val : s.train).push_back(order[k].second);
  std::sort(s.val.begin(), s.val.end());
  std::sort(s.train.begin(), s.train.end());
  char text[128];
  std::snprintf(text, sizeof text, "held out: %lld of %zu %simages (--val-fraction %g, seed %llu)",
                static_cast<long long>(held), pool.size(), has_splits ? "train " : "", val_fraction,
                static_cast<unsigned long long>(seed));
  s.val_source = text;
  return s;
}

}  // namespace locdet
