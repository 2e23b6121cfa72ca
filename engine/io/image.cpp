// stb_image and stb_image_write are compiled in engine/io/stb_image_impl.cpp.
#include "engine/io/image.h"

#include <stb_image.h>
#include <stb_image_write.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "kernels/base/atomic_file.h"
#include "kernels/base/error.h"

namespace locdet::io {

RgbImage::RgbImage(int w, int h, Color fill) : width(w), height(h), pixels(static_cast<size_t>(w) * h * 3) {
  LOCDET_CHECK(w >= 0 && h >= 0, "image size must be non-negative, got ", w, "x", h);
  for (size_t i = 0; i < pixels.size(); i += 3) {
    pixels[i] = fill.r;
    pixels[i + 1] = fill.g;
    pixels[i + 2] = fill.b;
  }
}

void RgbImage::set(int x, int y, Color c) {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  uint8_t* p = pixels.data() + (static_cast<size_t>(y) * width + x) * 3;
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

RgbImage gray_to_rgb(const float* gray, int height, int width, int zoom) {
  LOCDET_CHECK(zoom >= 1, "zoom must be at least 1, got ", zoom);
  RgbImage out(width * zoom, height * zoom);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      float v = gray[(y / zoom) * width + x / zoom];
      auto level = static_cast<uint8_t>(std::lround(std::min(1.0f, std::max(0.0f, v)) * 255.0f));
      out.set(x, y, {level, level, level});
    }
  return out;
}

void draw_rect(RgbImage& image, int x0, int y0, int x1, int y1, Color color, int thickness) {
  for (int t = 0; t < thickness && x1 - x0 > 2 * t && y1 - y0 > 2 * t; ++t) {
    const int left = x0 + t, top = y0 + t, right = x1 - 1 - t, bottom = y1 - 1 - t;
    for (int x = left; x <= right; ++x) {
      image.set(x, top, color);
      image.set(x, bottom, color);
    }
    for (int y = top; y <= bottom; ++y) {
      image.set(left, y, color);
      image.set(right, y, color);
    }
  }
}

void fill_rect(RgbImage& image, int x0, int y0, int x1, int y1, Color color) {
  for (int y = std::max(0, y0); y < std::min(y1, image.height); ++y)
    for (int x = std::max(0, x0); x < std::min(x1, image.width); ++x) image.set(x, y, color);
}

namespace {
// 3x5 glyphs, rows top to bottom, '1' = ink.
const std::map<char, const char*>& font() {
  static const std::map<char, const char*> glyphs = {
      {'0', "111101101101111"}, {'1', "010110010010111"}, {'2', "111001111100111"}, {'3', "111001111001111"},
      {'4', "101101111001001"}, {'5', "111100111001111"}, {'6', "111100111101111"}, {'7', "111001001001001"},
      {'8', "111101111101111"}, {'9', "111101111001111"}, {'A', "010101111101101"}, {'B', "110101110101110"},
      {'C', "011100100100011"}, {'D', "110101101101110"}, {'E', "111100110100111"}, {'F', "111100110100100"},
      {'G', "011100101101011"}, {'H', "101101111101101"}, {'I', "111010010010111"}, {'J', "001001001101010"},
      {'K', "101101110101101"}, {'L', "100100100100111"}, {'M', "101111111101101"}, {'N', "110101101101101"},
      {'O', "010101101101010"}, {'P', "110101110100100"}, {'Q', "010101101110011"}, {'R', "110101110101101"},
      {'S', "011100010001110"}, {'T', "111010010010010"}, {'U', "101101101101111"}, {'V', "101101101101010"},
      {'W', "101101111111101"}, {'X', "101101010101101"}, {'Y', "101101010010010"}, {'Z', "111001010100111"},
      {'.', "000000000000010"}, {'%', "101001010100101"}, {':', "000010000010000"}, {'-', "000000111000000"},
      {'_', "000000000000111"}, {'/', "001001010100100"}, {'=', "000111000111000"}, {'+', "000010111010000"},
      {'(', "001010010010001"}, {')', "100010010010100"}, {'#', "101111101111101"}, {',', "000000000010100"},
      {' ', "000000000000000"}, {'?', "111001010000010"}};
  return glyphs;
}
}  // namespace

int text_width(const std::string& text, int scale) {
  return text.empty() ? 0 : static_cast<int>(text.size()) * 4 * scale - scale;
}

void draw_text(RgbImage& image, int x, int y, const std::string& text, Color color, int scale) {
  const auto& glyphs = font();
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
    auto it = glyphs.find(ch);
    const char* glyph = it == glyphs.end() ? glyphs.at('?') : it->second;
    const int left = x + static_cast<int>(i) * 4 * scale;
    for (int row = 0; row < 5; ++row)
      for (int col = 0; col < 3; ++col)
        if (glyph[row * 3 + col] == '1')
          for (int dy = 0; dy < scale; ++dy)
            for (int dx = 0; dx < scale; ++dx)
              image.set(left + col * scale + dx, y + row * scale + dy, color);
  }
}

RgbImage compose_grid(const std::vector<RgbImage>& tiles, int cols, int pad, Color background) {
  LOCDET_CHECK(cols >= 1, "grid needs at least one column, got ", cols);
  if (tiles.empty()) return RgbImage(0, 0);
  int tile_w = 0, tile_h = 0;
  for (const auto& t : tiles) {
    tile_w = std::max(tile_w, t.width);
    tile_h = std::max(tile_h, t.height);
  }
  const int n = static_cast<int>(tiles.size());
  const int used_cols = std::min(cols, n), rows = (n + cols - 1) / cols;
  RgbImage out(used_cols * tile_w + (used_cols + 1) * pad, rows * tile_h + (rows + 1) * pad, background);
  for (int i = 0; i < n; ++i) {
    const int ox = pad + (i % cols) * (tile_w + pad), oy = pad + (i / cols) * (tile_h + pad);
    const RgbImage& t = tiles[i];
    for (int y = 0; y < t.height; ++y)
      std::memcpy(out.pixels.data() + (static_cast<size_t>(oy + y) * out.width + ox) * 3,
                  t.pixels.data() + static_cast<size_t>(y) * t.width * 3, static_cast<size_t>(t.width) * 3);
  }
  return out;
}

namespace {
void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

// Temp + rename without fsync: atomic against a crash of this process (the bulk path for
// dataset images, where an fsync per file would cost 10 ms each), not against power loss.
void write_file_renamed(const std::string& path, const std::string& bytes) {
  const std::string temp = path + ".tmp";
  FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) fail("cannot write '", path, "': ", std::strerror(errno), "; is the folder writable?");
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  int err = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    err = ok ? errno : err;
    std::remove(temp.c_str());
    fail("cannot write '", path, "': ", std::strerror(err));
  }
}

void write_png_raw(const std::string& path, int width, int height, int channels, const uint8_t* data,
                   bool durable) {
  LOCDET_CHECK(width > 0 && height > 0, "cannot write an empty image (", width, "x", height, ") to '", path,
               "'");
  std::string bytes;
  if (!stbi_write_png_to_func(append_bytes, &bytes, width, height, channels, data, width * channels))
    fail("PNG encoding failed for '", path, "'");
  if (durable) {
    ::locdet::write_file_atomic(path, bytes);
  } else {
    write_file_renamed(path, bytes);
  }
}
}  // namespace

void write_png(const std::string& path, const RgbImage& image, bool durable) {
  write_png_raw(path, image.width, image.height, 3, image.pixels.data(), durable);
}

void write_png_gray(const std::string& path, const float* gray, int height, int width, bool durable) {
  std::vector<uint8_t> bytes(static_cast<size_t>(height) * width);
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>(std::lround(std::min(1.0f, std::max(0.0f, gray[i])) * 255.0f));
  write_png_raw(path, width, height, 1, bytes.data(), durable);
}

GrayImage read_image_gray(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) fail("cannot read image '", path, "': ", std::strerror(errno));
  if (!S_ISREG(info.st_mode)) fail("cannot read image '", path, "': not a regular file");
  if (info.st_size == 0) fail("cannot read image '", path, "': the file is empty");
  std::vector<char> bytes;
  {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) fail("cannot read image '", path, "': ", std::strerror(errno));
    bytes.resize(static_cast<size_t>(info.st_size));
    const size_t got = std::fread(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    bytes.resize(got);
  }
  return decode_image_gray(bytes.data(), bytes.size(), path);
}

namespace {
// stb_image 2.27 (Debian 12's libstb) writes past a Huffman table when a JPEG DHT segment
// declares more than 256 codes (found by tests/fuzz/fuzz_image; regression input in
// tests/fuzz/regressions/fuzz_image/). Every FF C4 byte pair of a JPEG is checked as stb
// would read a DHT there: a real JPEG never has FF C4 inside its entropy-coded data (FF is
// stuffed as FF 00), so this sees every table stb can see, and rejects only broken files.
bool jpeg_huffman_tables_fit(const uint8_t* p, size_t n) {
  // stb's JPEG test: 0xFF, any number of 0xFF fill bytes, then D8 (start of image).
  size_t soi = 1;
  while (soi < n && p[soi] == 0xFF) ++soi;
  if (n < 2 || p[0] != 0xFF || soi >= n || p[soi] != 0xD8) return true;  // not a JPEG
  auto byte = [&](size_t i) -> size_t { return i < n ? p[i] : 0; };      // stb reads 0 past the end
  for (size_t i = 2; i + 1 < n; ++i) {
    if (p[i] != 0xFF || p[i + 1] != 0xC4) continue;
    int64_t remaining = static_cast<int64_t>((byte(i + 2) << 8) | byte(i + 3)) - 2;
    for (size_t table = i + 4; remaining > 0 && table < n;) {
      size_t codes = 0;
      for (size_t k = 1; k <= 16; ++k) codes += byte(table + k);
      if (codes > 256) return false;
      remaining -= static_cast<int64_t>(17 + codes);
      table += 17 + codes;
    }
  }
  return true;
}

// Luma with stb_image's weights (77, 150, 29) / 256, on samples scaled to [0, 1].
float luma(float r, float g, float b) {
  return (77.0f * r + 150.0f * g + 29.0f * b) / 256.0f;
}

// Binary PGM (P5) and PPM (P6), 8 or 16 bits per sample, decoded here instead of by
// stb_image 2.27, which overflows an int on a ten-digit header number, reads 16-bit samples
// in the wrong byte order (PNM is big-endian), converts a 16-bit PPM's channels past its
// buffer, and leaves the pixels a truncated file lacks uninitialized (the overflows were
// found by tests/fuzz/fuzz_image). Samples are scaled by the file's maximum value. Returns
// false when the bytes are not a binary PGM/PPM.
bool decode_pnm_gray(const uint8_t* p, size_t n, const std::string& path, GrayImage* out) {
  if (n < 2 || p[0] != 'P' || (p[1] != '5' && p[1] != '6')) return false;
  const int channels = p[1] == '5' ? 1 : 3;
  auto bad = [&](const auto&... why) { fail("cannot read image '", path, "': corrupt PGM/PPM: ", why...); };
  auto space = [](uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  size_t i = 2;
  int64_t numbers[3] = {0, 0, 0};  // width, height, maximum value
  const char* names[3] = {"width", "height", "maximum value"};
  for (int field = 0; field < 3; ++field) {
    for (;;) {  // whitespace and '#' comments up to the end of the line
      while (i < n && space(p[i])) ++i;
      if (i >= n || p[i] != '#') break;
      while (i < n && p[i] != '\n' && p[i] != '\r') ++i;
    }
    if (i >= n || p[i] < '0' || p[i] > '9') bad("the header has no ", names[field]);
    for (; i < n && p[i] >= '0' && p[i] <= '9'; ++i) {
      numbers[field] = numbers[field] * 10 + (p[i] - '0');
      if (numbers[field] > 65535) bad("the ", names[field], " is larger than 65535");
    }
  }
  if (i >= n || !space(p[i])) bad("no whitespace after the header");
  ++i;  // exactly one whitespace byte, then the samples
  const int64_t width = numbers[0], height = numbers[1], max_value = numbers[2];
  if (width == 0 || height == 0) fail("cannot read image '", path, "': zero-size image");
  if (max_value == 0) bad("the maximum value is 0");
  if (width * height > kMaxImagePixels)
    fail("cannot read image '", path, "': ", width, "x", height, " is larger than the ", kMaxImagePixels,
         " pixels this tool accepts; downscale it first");
  const int sample_bytes = max_value > 255 ? 2 : 1;
  const size_t needed = static_cast<size_t>(width * height) * channels * sample_bytes;
  if (n - i < needed) bad("truncated: ", n - i, " bytes of pixels, ", needed, " expected");
  const float scale = 1.0f / static_cast<float>(max_value);
  auto sample = [&](size_t k) {
    const uint8_t* s = p + i + k * sample_bytes;
    const int v = sample_bytes == 2 ? (s[0] << 8) | s[1] : s[0];
    return std::min(v * scale, 1.0f);  // a sample above the maximum value is clipped
  };
  out->width = static_cast<int>(width);
  out->height = static_cast<int>(height);
  out->pixels.resize(static_cast<size_t>(width * height));
  for (size_t k = 0; k < out->pixels.size(); ++k)
    out->pixels[k] = channels == 1 ? sample(k) : luma(sample(3 * k), sample(3 * k + 1), sample(3 * k + 2));
  return true;
}

}  // namespace

GrayImage decode_image_gray(const void* data, size_t size, const std::string& path) {
  if (size == 0) fail("cannot read image '", path, "': the file is empty");
  LOCDET_CHECK(size <= static_cast<size_t>(INT32_MAX), "cannot read image '", path, "': larger than 2 GiB");
  const auto* bytes = static_cast<const stbi_uc*>(data);
  const int length = static_cast<int>(size);
  if (!jpeg_huffman_tables_fit(bytes, size))
    fail("cannot read image '", path, "': corrupt JPEG (a Huffman table declares more than 256 codes)");
  GrayImage out;
  if (decode_pnm_gray(bytes, size, path, &out)) return out;
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_memory(bytes, length, &width, &height, &channels))
    fail("cannot read image '", path, "': ", stbi_failure_reason(),
         " (supported: PNG, JPEG, BMP, PGM/PPM, TGA, GIF)");
  if (width <= 0 || height <= 0) fail("cannot read image '", path, "': zero-size image");
  if (static_cast<int64_t>(width) * height > kMaxImagePixels)
    fail("cannot read image '", path, "': ", width, "x", height, " is larger than the ", kMaxImagePixels,
         " pixels this tool accepts; downscale it first");
  // The file's own channels (req_comp 0), converted to gray here (alpha dropped), so that
  // stb's channel conversion never runs.
  unsigned char* pixels = stbi_load_from_memory(bytes, length, &width, &height, &channels, 0);
  if (!pixels)
    fail("cannot read image '", path, "': ", stbi_failure_reason(),
         " (supported: PNG, JPEG, BMP, PGM/PPM, TGA, GIF)");
  if (channels < 1 || channels > 4) {
    stbi_image_free(pixels);
    fail("cannot read image '", path, "': ", channels, " channels per pixel (expected 1 to 4)");
  }
  out.width = width;
  out.height = height;
  out.pixels.resize(static_cast<size_t>(width) * height);
  for (size_t i = 0; i < out.pixels.size(); ++i) {
    const unsigned char* px = pixels + i * channels;
    out.pixels[i] = channels >= 3 ? luma(px[0] / 255.0f, px[1] / 255.0f, px[2] / 255.0f) : px[0] / 255.0f;
  }
  stbi_image_free(pixels);
  if (width <= 0 || height <= 0) fail("cannot read image '", path, "': zero-size image");
  return out;
}

Letterbox letterbox(const GrayImage& source, int height, int width, float fill) {
  LOCDET_CHECK(source.width > 0 && source.height > 0, "cannot letterbox an empty image");
  LOCDET_CHECK(width > 0 && height > 0, "letterbox target must be non-empty");
  Letterbox out;
  out.scale = std::min(static_cast<float>(width) / source.width, static_cast<float>(height) / source.height);
  const float new_w = source.width * out.scale, new_h = source.height * out.scale;
  out.offset_x = 0.5f * (width - new_w);
  out.offset_y = 0.5f * (height - new_h);
  out.image.width = width;
  out.image.height = height;
  out.image.pixels.assign(static_cast<size_t>(width) * height, fill);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      // Sample the source at the centre of this output pixel (pixel-centre convention).
      const float sx = (x + 0.5f - out.offset_x) / out.scale - 0.5f;
      const float sy = (y + 0.5f - out.offset_y) / out.scale - 0.5f;
      if (sx < -0.5f || sy < -0.5f || sx > source.width - 0.5f || sy > source.height - 0.5f) continue;
      const float cx = std::clamp(sx, 0.0f, source.width - 1.0f),
                  cy = std::clamp(sy, 0.0f, source.height - 1.0f);
      const int x0 = static_cast<int>(cx), y0 = static_cast<int>(cy);
      const int x1 = std::min(x0 + 1, source.width - 1), y1 = std::min(y0 + 1, source.height - 1);
      const float fx = cx - x0, fy = cy - y0;
      auto at = [&](int xx, int yy) { return source.pixels[static_cast<size_t>(yy) * source.width + xx]; };
      out.image.pixels[static_cast<size_t>(y) * width + x] =
          (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x1, y0)) +
          fy * ((1 - fx) * at(x0, y1) + fx * at(x1, y1));
    }
  }
  return out;
}

}  // namespace locdet::io
