// Images in and out: atomic PNG writing (stb_image_write; temp file + rename, so a
// crash never leaves a half-written file), an RGB canvas with rectangle outlines and a
// tiny 3x5 bitmap font for overlays, grid composition, and reading PNG/JPEG/PGM/BMP
// as grayscale floats in [0, 1] (stb_image) with errors that name the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace locdet::io {

struct Color {
  uint8_t r, g, b;
};
constexpr Color kGreen{0, 220, 0};
constexpr Color kRed{230, 30, 30};
constexpr Color kYellow{240, 220, 0};
constexpr Color kWhite{255, 255, 255};
constexpr Color kBlack{0, 0, 0};

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3]

  RgbImage() = default;
  RgbImage(int w, int h, Color fill = {0, 0, 0});
  void set(int x, int y, Color c);  // ignores pixels outside the image
};

struct GrayImage {
  int width = 0, height = 0;
  std::vector<float> pixels;  // [height, width], values in [0, 1]
};

// gray [h, w] in [0, 1] (clamped) -> RGB, each pixel repeated `zoom` x `zoom` times.
RgbImage gray_to_rgb(const float* gray, int height, int width, int zoom = 1);
// Outline of the box [x0, x1) x [y0, y1) (pixel edges, as the scene labels), `thickness`
// pixels wide, drawn inwards.
void draw_rect(RgbImage& image, int x0, int y0, int x1, int y1, Color color, int thickness = 1);
// The box [x0, x1) x [y0, y1) filled.
void fill_rect(RgbImage& image, int x0, int y0, int x1, int y1, Color color);
// Text in a 3x5 font (digits, letters, . % : - _ / = + ( ) #; lowercase as uppercase),
// each font pixel scale x scale; (x, y) is the top-left corner.
void draw_text(RgbImage& image, int x, int y, const std::string& text, Color color, int scale = 1);
int text_width(const std::string& text, int scale = 1);
inline int text_height(int scale = 1) {
  return 5 * scale;
}
// Tiles images into a grid with `pad` pixels of `background` between them.
RgbImage compose_grid(const std::vector<RgbImage>& tiles, int cols, int pad = 2,
                      Color background = {40, 40, 40});

// Atomic: the file appears complete under `path` or not at all. durable = fsync too
// (kernels/base/atomic_file.h); false = temp + rename only, for bulk dataset images.
void write_png(const std::string& path, const RgbImage& image, bool durable = true);
void write_png_gray(const std::string& path, const float* gray, int height, int width, bool durable = true);

GrayImage read_image_gray(const std::string& path);
// The same decoding on a file's bytes in memory; read_image_gray reads the file and calls
// this. `name` labels the error messages. Images above kMaxImagePixels are refused before
// decoding (a forged header must not make us allocate gigabytes).
GrayImage decode_image_gray(const void* data, size_t size, const std::string& name);
constexpr int64_t kMaxImagePixels = int64_t{1} << 26;  // 8192 x 8192

// Fits an image into height x width without distorting it: scaled by
// scale = min(width / w, height / h) (bilinear), centred, the margins filled with `fill`.
// A point (x, y) of the result is (x - offset_x, y - offset_y) / scale in the original.
struct Letterbox {
  GrayImage image;
  float scale = 1.0f, offset_x = 0.0f, offset_y = 0.0f;
};
Letterbox letterbox(const GrayImage& source, int height, int width, float fill = 0.0f);

}  // namespace locdet::io
