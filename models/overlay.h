// Drawing predictions on images, the same way for both tasks and every program (train_gpu's
// overlays/test.png, evaluate --overlay / --mistakes, predict):
//   green  a true digit (box and class);
//   red    a prediction that is right (its class and score);
//   yellow a prediction that is wrong, or a true digit nothing found; a tile with any
//          mistake gets a yellow frame and an "X" in its caption.
// Line width and text size grow with the image, so a photo's box is not one pixel wide, and
// labels are placed where they overlap no earlier label when there is room.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/io/image.h"

namespace locdet::models {

// Which scenes an evaluation keeps for overlays: the first `first` scenes, and the first
// `mistakes` scenes it got wrong.
struct OverlayPick {
  int first = 0;
  int mistakes = 0;
};

// The one format of a score (a probability) wherever it is shown: "0.973". JSON files hold
// rounded_score(), the same number.
std::string format_score(float score);
double rounded_score(float score);
// How a class is shown: its name in `names` (a model's class names, indexed as `value` is), else
// `value` as text (the digit presets' classes are their digits).
std::string class_label(const std::vector<std::string>& names, int value);
// A box as JSON: [x0, y0, x1, y1] rounded to 1/100 pixel.
nlohmann::json box_json(const float xyxy[4]);

enum class Mark { kTruth, kRight, kWrong };
io::Color mark_color(Mark mark);

// Line width and text scale for an image of this size.
struct OverlayStyle {
  int line = 1;
  int text = 2;
};
OverlayStyle overlay_style(int width, int height);

// Where a label was drawn: [x0, x1) x [y0, y1).
struct LabelRect {
  int x0, y0, x1, y1;
};

// Boxes with labels on one image, in the image's pixels.
class OverlayCanvas {
 public:
  explicit OverlayCanvas(io::RgbImage image);
  // The box and, when `label` is not empty, the label on a dark background next to it: above
  // its top-left corner, else below it, else inside it, else in rows further above or below;
  // the first spot that overlaps no earlier label, else the one that overlaps them least.
  void box(const float xyxy[4], Mark mark, const std::string& label);
  // A label in the top-left corner (e.g. "NONE" when there is no box to attach it to).
  void corner_label(const std::string& label, Mark mark);
  const io::RgbImage& image() const { return image_; }
  const OverlayStyle& style() const { return style_; }
  const std::vector<LabelRect>& labels() const { return labels_; }

 private:
  void draw_label(const LabelRect& at, const std::string& label, Mark mark);

  io::RgbImage image_;
  OverlayStyle style_;
  std::vector<LabelRect> labels_;
};

// A tile of an overlay grid: `image` above a caption, one line per (text, mark); a yellow frame
// around it all when `mistake`.
io::RgbImage caption_tile(const io::RgbImage& image, const std::vector<std::pair<std::string, Mark>>& lines,
                          bool mistake);

// The tiles in a grid, written atomically as a PNG.
void write_overlay_grid(const std::string& path, const std::vector<io::RgbImage>& tiles, int columns);

}  // namespace locdet::models
