// engine/io/image: PNG write/read round trip, atomic writes, drawing, grids, bad files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/io/image.h"
#include "kernels/base/error.h"

namespace {

namespace fs = std::filesystem;
using namespace locdet::io;

fs::path temp_dir(const char* name) {
  fs::path dir = fs::temp_directory_path() / (std::string("locdet_test_image_") + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Image, GrayPngRoundTripIsExactOn8BitLevels) {
  fs::path dir = temp_dir("roundtrip");
  std::vector<float> gray(12 * 7);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<float>(i % 256) / 255.0f;
  for (bool durable : {true, false}) {
    std::string path = (dir / (durable ? "a.png" : "b.png")).string();
    write_png_gray(path, gray.data(), 7, 12, durable);
    GrayImage back = read_image_gray(path);
    ASSERT_EQ(back.width, 12);
    ASSERT_EQ(back.height, 7);
    for (size_t i = 0; i < gray.size(); ++i) EXPECT_FLOAT_EQ(back.pixels[i], gray[i]);
  }
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().extension(), ".png") << "leftover temp file " << entry.path();
}

TEST(Image, DrawRectAndTextAndGrid) {
  RgbImage img(20, 10);
  draw_rect(img, 2, 3, 6, 8, kGreen);  // [2, 6) x [3, 8)
  auto at = [&](int x, int y) { return img.pixels[(static_cast<size_t>(y) * img.width + x) * 3 + 1]; };
  EXPECT_EQ(at(2, 3), kGreen.g);
  EXPECT_EQ(at(5, 7), kGreen.g);
  EXPECT_EQ(at(3, 5), 0);  // inside stays empty
  EXPECT_EQ(at(6, 3), 0);  // x1 is exclusive
  RgbImage text(20, 10);
  draw_text(text, 0, 0, "7:%", kWhite);
  int lit = 0;
  for (size_t i = 0; i < text.pixels.size(); i += 3) lit += text.pixels[i] == 255;
  EXPECT_EQ(lit, 7 + 2 + 7);  // glyph ink pixels: 7 in "7", 2 in ":", 7 in "%"
  EXPECT_EQ(text_width("abc"), 11);
  RgbImage grid = compose_grid({img, text, img}, 2, 1);
  EXPECT_EQ(grid.width, 2 * 20 + 3);
  EXPECT_EQ(grid.height, 2 * 10 + 3);
  write_png((temp_dir("grid") / "g.png").string(), grid);
}

// Colour and 16-bit files are converted to gray here: luma (77 R + 150 G + 29 B) / 256, as
// stb_image weights it, on samples scaled by the file's maximum value (PNM is big-endian).
TEST(Image, ColourAndSixteenBitFilesConvertToGray) {
  auto luma = [](float r, float g, float b) { return (77.0f * r + 150.0f * g + 29.0f * b) / 256.0f; };
  const std::string rgb = std::string("P6 2 1 255\n") + std::string("\xff\x00\x00\x10\x80\xf0", 6);
  GrayImage a = decode_image_gray(rgb.data(), rgb.size(), "rgb.ppm");
  ASSERT_EQ(a.width, 2);
  ASSERT_EQ(a.height, 1);
  EXPECT_FLOAT_EQ(a.pixels[0], luma(1.0f, 0.0f, 0.0f));
  EXPECT_FLOAT_EQ(a.pixels[1], luma(0x10 / 255.0f, 0x80 / 255.0f, 0xf0 / 255.0f));
  const std::string rgb16 = std::string("P6\n# a comment\n2 1\n65535\n") +
                            std::string("\xff\xff\x00\x00\x00\x00\x10\x00\x80\x00\xf0\x00", 12);
  GrayImage b = decode_image_gray(rgb16.data(), rgb16.size(), "rgb16.ppm");
  ASSERT_EQ(b.pixels.size(), 2u);
  EXPECT_FLOAT_EQ(b.pixels[0], luma(1.0f, 0.0f, 0.0f));
  EXPECT_FLOAT_EQ(b.pixels[1], luma(0x1000 / 65535.0f, 0x8000 / 65535.0f, 0xf000 / 65535.0f));
  const std::string gray16 = std::string("P5 3 1 1023\n") + std::string("\x00\x00\x01\xff\x03\xff", 6);
  GrayImage c = decode_image_gray(gray16.data(), gray16.size(), "gray16.pgm");
  ASSERT_EQ(c.pixels.size(), 3u);
  EXPECT_FLOAT_EQ(c.pixels[0], 0.0f);
  EXPECT_FLOAT_EQ(c.pixels[1], 511 / 1023.0f);
  EXPECT_FLOAT_EQ(c.pixels[2], 1.0f);
  // A truncated file, a header number over 65535 and a missing height are refused by name.
  for (const std::string& bad : {std::string("P5 3 1 255\n\x01\x02", 13),
                                 std::string("P5 99999999999 1 255\n"), std::string("P6 4\n")}) {
    try {
      decode_image_gray(bad.data(), bad.size(), "bad.pgm");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const locdet::Error& e) {
      EXPECT_NE(std::string(e.what()).find("corrupt PGM/PPM"), std::string::npos) << e.what();
    }
  }
}

TEST(Image, BadFilesGiveClearErrors) {
  fs::path dir = temp_dir("bad");
  std::ofstream((dir / "empty.png").string()).close();
  std::ofstream((dir / "text.png").string()) << "not an image at all";
  try {
    read_image_gray((dir / "empty.png").string());
    FAIL() << "empty file accepted";
  } catch (const locdet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
  try {
    read_image_gray((dir / "text.png").string());
    FAIL() << "text file accepted";
  } catch (const locdet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("text.png"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_image_gray((dir / "missing.png").string()), locdet::Error);
  EXPECT_THROW(read_image_gray(dir.string()), locdet::Error);
  std::vector<float> px(4, 0.5f);
  EXPECT_THROW(write_png_gray((dir / "no_such_dir" / "x.png").string(), px.data(), 2, 2), locdet::Error);
}

}  // namespace
