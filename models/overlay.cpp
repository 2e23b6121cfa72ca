#include "models/overlay.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace locdet::models {

std::string format_score(float score) {
  char text[16];
  std::snprintf(text, sizeof(text), "%.3f", rounded_score(score));
  return text;
}

double rounded_score(float score) {
  return std::round(static_cast<double>(score) * 1000.0) / 1000.0;
}

std::string class_label(const std::vector<std::string>& names, int value) {
  return value >= 0 && value < static_cast<int>(names.size()) && !names[value].empty()
             ? names[value]
             : std::to_string(value);
}

nlohmann::json box_json(const float xyxy[4]) {
  nlohmann::json list = nlohmann::json::array();
  for (int k = 0; k < 4; ++k) list.push_back(std::round(xyxy[k] * 100.0) / 100.0);
  return list;
}

io::Color mark_color(Mark mark) {
  switch (mark) {
    case Mark::kTruth:
      return io::kGreen;
    case Mark::kRight:
      return io::kRed;
    case Mark::kWrong:
      break;
  }
  return io::kYellow;
}

OverlayStyle overlay_style(int width, int height) {
  const int side = std::min(width, height);
  return {std::max(1, side / 120), std::max(2, side / 100)};
}

OverlayCanvas::OverlayCanvas(io::RgbImage image)
    : image_(std::move(image)), style_(overlay_style(image_.width, image_.height)) {}

void OverlayCanvas::draw_label(const LabelRect& at, const std::string& label, Mark mark) {
  io::fill_rect(image_, at.x0, at.y0, at.x1, at.y1, io::kBlack);
  io::draw_text(image_, at.x0 + style_.text, at.y0 + style_.text, label, mark_color(mark), style_.text);
  labels_.push_back(at);
}

void OverlayCanvas::box(const float xyxy[4], Mark mark, const std::string& label) {
  const int x0 = static_cast<int>(std::lround(xyxy[0])), y0 = static_cast<int>(std::lround(xyxy[1]));
  const int x1 = static_cast<int>(std::lround(xyxy[2])), y1 = static_cast<int>(std::lround(xyxy[3]));
  io::draw_rect(image_, x0, y0, x1, y1, mark_color(mark), style_.line);
  if (label.empty()) return;
  const int w = io::text_width(label, style_.text) + 2 * style_.text;
  const int h = io::text_height(style_.text) + 2 * style_.text;
  const int line = style_.line;
  // Next to the box first, then rows further above and below it (a crowded scene).
  std::vector<std::pair<int, int>> spots = {
      {x0, y0 - h}, {x0, y1}, {x0 + line, y0 + line}, {x1 - w, y0 - h}, {x1 - w, y1}};
  for (int row = 1; row <= 3; ++row)
    for (int x : {x0, x1 - w}) {
      spots.emplace_back(x, y1 + row * h);
      spots.emplace_back(x, y0 - (row + 1) * h);
    }
  LabelRect best{};
  long best_overlap = -1;
  for (const auto& spot : spots) {
    // Kept inside the image (a label that does not fit anywhere is at least fully visible).
    const int x = std::clamp(spot.first, 0, std::max(0, image_.width - w));
    const int y = std::clamp(spot.second, 0, std::max(0, image_.height - h));
    const LabelRect r{x, y, x + w, y + h};
    long overlap = 0;
    for (const LabelRect& o : labels_)
      overlap += static_cast<long>(std::max(0, std::min(r.x1, o.x1) - std::max(r.x0, o.x0))) *
                 std::max(0, std::min(r.y1, o.y1) - std::max(r.y0, o.y0));
    if (best_overlap < 0 || overlap < best_overlap) {
      best = r;
      best_overlap = overlap;
    }
    if (overlap == 0) break;
  }
  draw_label(best, label, mark);
}

void OverlayCanvas::corner_label(const std::string& label, Mark mark) {
  const int w = io::text_width(label, style_.text) + 2 * style_.text;
  const int h = io::text_height(style_.text) + 2 * style_.text;
  draw_label({0, 0, w, h}, label, mark);
}

io::RgbImage caption_tile(const io::RgbImage& image, const std::vector<std::pair<std::string, Mark>>& lines,
                          bool mistake) {
  const OverlayStyle style = overlay_style(image.width, image.height);
  const int line_height = io::text_height(style.text) + 2 * style.text;
  // Every tile keeps room for the frame, so framed and unframed tiles line up in a grid.
  const int frame = std::max(3, 2 * style.line);
  io::RgbImage tile(image.width + 2 * frame,
                    image.height + static_cast<int>(lines.size()) * line_height + style.text + 2 * frame,
                    {30, 30, 30});
  for (int y = 0; y < image.height; ++y)
    std::memcpy(tile.pixels.data() + (static_cast<size_t>(y + frame) * tile.width + frame) * 3,
                image.pixels.data() + static_cast<size_t>(y) * image.width * 3,
                static_cast<size_t>(image.width) * 3);
  for (size_t i = 0; i < lines.size(); ++i)
    io::draw_text(tile, frame + style.text,
                  frame + image.height + style.text + static_cast<int>(i) * line_height, lines[i].first,
                  mark_color(lines[i].second), style.text);
  if (mistake) io::draw_rect(tile, 0, 0, tile.width, tile.height, mark_color(Mark::kWrong), frame);
  return tile;
}

void write_overlay_grid(const std::string& path, const std::vector<io::RgbImage>& tiles, int columns) {
  const io::RgbImage grid = io::compose_grid(tiles, columns, 4);
  // A legend above the grid: what each colour means.
  constexpr int kScale = 2, kPad = 6;
  const std::pair<const char*, Mark> legend[] = {{"GREEN: TRUTH", Mark::kTruth},
                                                 {"RED: RIGHT PREDICTION", Mark::kRight},
                                                 {"YELLOW: MISTAKE", Mark::kWrong}};
  const int legend_height = io::text_height(kScale) + 2 * kPad;
  int legend_width = kPad;
  for (const auto& entry : legend) legend_width += io::text_width(entry.first, kScale) + 6 * kScale;
  const bool empty = tiles.empty();
  io::RgbImage out(std::max(grid.width, legend_width), grid.height + legend_height * (empty ? 2 : 1),
                   {40, 40, 40});
  int x = kPad;
  for (const auto& [text, mark] : legend) {
    io::draw_text(out, x, kPad, text, mark_color(mark), kScale);
    x += io::text_width(text, kScale) + 6 * kScale;
  }
  if (empty) io::draw_text(out, kPad, legend_height + kPad, "NO SCENES TO SHOW", io::kWhite, kScale);
  for (int y = 0; y < grid.height; ++y)
    std::memcpy(out.pixels.data() + static_cast<size_t>(y + legend_height) * out.width * 3,
                grid.pixels.data() + static_cast<size_t>(y) * grid.width * 3,
                static_cast<size_t>(grid.width) * 3);
  io::write_png(path, out);
}

}  // namespace locdet::models
