// What the overlays and predict's JSON promise (models/overlay.h): lines and text grow with the
// image, labels of nearby boxes do not overlap, a mistake is framed, a score reads the same in
// the picture and in the JSON, and what counts as a mistake for each task.
#include <gtest/gtest.h>

#include <cmath>

#include "models/detector/report.h"
#include "models/localizer/report.h"
#include "models/overlay.h"

namespace locdet::models {
namespace {

io::Color pixel(const io::RgbImage& image, int x, int y) {
  const uint8_t* p = image.pixels.data() + (static_cast<size_t>(y) * image.width + x) * 3;
  return {p[0], p[1], p[2]};
}
bool same(io::Color a, io::Color b) {
  return a.r == b.r && a.g == b.g && a.b == b.b;
}

TEST(Overlay, LinesAndTextGrowWithTheImage) {
  const OverlayStyle tile = overlay_style(180, 144);  // a 48x60 scene at zoom 3
  EXPECT_EQ(tile.line, 1);
  EXPECT_EQ(tile.text, 2);  // 10-pixel-high glyphs
  const OverlayStyle photo = overlay_style(1000, 800);
  EXPECT_GE(photo.line, 5);
  EXPECT_GE(photo.text, 8);

  OverlayCanvas canvas(io::RgbImage(1000, 800));
  const float box[4] = {100, 200, 400, 600};
  canvas.box(box, Mark::kRight, "7 0.973");
  for (int t = 0; t < photo.line; ++t)
    EXPECT_TRUE(same(pixel(canvas.image(), 100 + t, 400), io::kRed))
        << "the box's edge is " << photo.line << " pixels wide; missing at " << t;
  EXPECT_FALSE(same(pixel(canvas.image(), 100 + photo.line, 400), io::kRed));
  ASSERT_EQ(canvas.labels().size(), 1u);
  EXPECT_GE(canvas.labels()[0].y1 - canvas.labels()[0].y0, 5 * photo.text)
      << "text as tall as the style says";
}

TEST(Overlay, LabelsOfNearbyBoxesDoNotOverlapAndStayInside) {
  // Four digits side by side near the top of a detector tile, as det10 often places them.
  OverlayCanvas canvas(io::RgbImage(240, 192));
  for (int i = 0; i < 4; ++i) {
    const float box[4] = {10.0f + 40 * i, 4, 46.0f + 40 * i, 60};
    canvas.box(box, Mark::kTruth, std::to_string(i));
    canvas.box(box, Mark::kRight, std::to_string(i) + " 0.973");
  }
  const auto& labels = canvas.labels();
  ASSERT_EQ(labels.size(), 8u);
  for (size_t i = 0; i < labels.size(); ++i) {
    EXPECT_GE(labels[i].x0, 0);
    EXPECT_GE(labels[i].y0, 0);
    EXPECT_LE(labels[i].x1, 240);
    EXPECT_LE(labels[i].y1, 192);
    for (size_t j = 0; j < i; ++j) {
      const bool apart = labels[i].x1 <= labels[j].x0 || labels[j].x1 <= labels[i].x0 ||
                         labels[i].y1 <= labels[j].y0 || labels[j].y1 <= labels[i].y0;
      EXPECT_TRUE(apart) << "labels " << j << " and " << i << " overlap";
    }
  }
}

TEST(Overlay, MistakesAreFramedAndCaptionsAddLines) {
  const io::RgbImage image(180, 144, {90, 90, 90});
  const io::RgbImage right =
      caption_tile(image, {{"TRUE 7", Mark::kTruth}, {"PRED 7 0.973", Mark::kRight}}, false);
  const io::RgbImage wrong =
      caption_tile(image, {{"TRUE 7", Mark::kTruth}, {"X PRED 1 0.610", Mark::kWrong}}, true);
  EXPECT_GT(right.height, image.height + 2 * 10) << "two caption lines under the image";
  EXPECT_FALSE(same(pixel(right, 0, 0), io::kYellow));
  EXPECT_TRUE(same(pixel(wrong, 0, 0), io::kYellow));
  EXPECT_TRUE(same(pixel(wrong, wrong.width - 1, wrong.height - 1), io::kYellow));
}

TEST(Overlay, ScoresReadTheSameInPicturesAndJson) {
  for (float score : {0.97349f, 0.5f, 0.0004f, 1.0f, 0.12351f, 0.9995f}) {
    // The number a JSON reader gets is the number the picture and the terminal print.
    const double in_json = nlohmann::json::parse(nlohmann::json(rounded_score(score)).dump()).get<double>();
    EXPECT_EQ(in_json, std::stod(format_score(score))) << score;
  }
  EXPECT_EQ(format_score(0.97349f), "0.973");
}

SceneLabel one_digit(int digit, float x0, float y0, float x1, float y1) {
  SceneLabel label{};
  label.count = 1;
  label.cls[0] = digit;
  const float box[4] = {x0, y0, x1, y1};
  std::copy_n(box, 4, label.box[0]);
  return label;
}

LocalizerPrediction predicted(float presence, int digit, float confidence, float x0, float y0, float x1,
                              float y1, int height, int width) {
  LocalizerPrediction p;
  p.presence = presence;
  p.digit = digit;
  p.confidence = confidence;
  const float box[4] = {x0 / width, y0 / height, x1 / width, y1 / height};
  std::copy_n(box, 4, p.box);
  return p;
}

TEST(Overlay, WhatCountsAsALocalizerMistake) {
  const int h = 48, w = 60;
  const SceneLabel seven = one_digit(7, 10, 10, 30, 40);
  const SceneLabel empty{};
  EXPECT_FALSE(localizer_mistake(seven, predicted(0.9f, 7, 0.9f, 11, 10, 30, 41, h, w), h, w));
  EXPECT_TRUE(localizer_mistake(seven, predicted(0.9f, 1, 0.9f, 11, 10, 30, 41, h, w), h, w)) << "class";
  EXPECT_TRUE(localizer_mistake(seven, predicted(0.9f, 7, 0.9f, 30, 10, 50, 40, h, w), h, w)) << "IoU 0";
  EXPECT_TRUE(localizer_mistake(seven, predicted(0.2f, 7, 0.9f, 11, 10, 30, 41, h, w), h, w)) << "missed";
  EXPECT_TRUE(localizer_mistake(empty, predicted(0.9f, 7, 0.9f, 11, 10, 30, 41, h, w), h, w)) << "invented";
  EXPECT_FALSE(localizer_mistake(empty, predicted(0.2f, 7, 0.9f, 11, 10, 30, 41, h, w), h, w));
}

TEST(Overlay, PredictJsonOfNoDigitHasNoBoxNorScore) {
  const float box[4] = {1.234f, 2, 30.006f, 40};
  const nlohmann::json none = localizer_prediction_json(predicted(0.2f, 3, 0.9f, 0, 0, 10, 10, 48, 60), box);
  EXPECT_EQ(none["present"], false);
  EXPECT_TRUE(none["digit"].is_null());
  EXPECT_TRUE(none["score"].is_null());
  EXPECT_TRUE(none["box_xyxy"].is_null());
  EXPECT_DOUBLE_EQ(none["presence"].get<double>(), 0.2);
  const nlohmann::json seven = localizer_prediction_json(predicted(0.9f, 7, 0.8f, 0, 0, 10, 10, 48, 60), box);
  EXPECT_EQ(seven["digit"], 7);
  EXPECT_DOUBLE_EQ(seven["score"].get<double>(), 0.72) << "presence x confidence, as the overlay shows it";
  EXPECT_EQ(seven["box_xyxy"].dump(), "[1.23,2.0,30.01,40.0]");
}

Detection detection(int digit, float score, float x0, float y0, float x1, float y1) {
  Detection d;
  d.cls = d.digit = digit;
  d.score = score;
  const float box[4] = {x0, y0, x1, y1};
  std::copy_n(box, 4, d.box);
  return d;
}

TEST(Overlay, DetectionsAreMatchedToTheTruthForMarking) {
  SceneLabel label = one_digit(3, 0, 0, 10, 10);
  label.count = 2;
  label.cls[1] = 5;
  const float second[4] = {20, 0, 30, 10};
  std::copy_n(second, 4, label.box[1]);
  const std::vector<Detection> detections = {
      detection(3, 0.9f, 0, 0, 10, 11),    // right
      detection(3, 0.8f, 0, 0, 10, 10),    // a duplicate of the 3: wrong
      detection(7, 0.7f, 20, 0, 30, 10),   // the 5 with the wrong class: wrong (and the 5 missed)
      detection(5, 0.1f, 20, 0, 30, 10)};  // below min_score: ignored
  const DetectionMatch match = match_detections(label, detections, 0.3f);
  EXPECT_EQ(match.right, (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(match.found, (std::vector<bool>{true, false}));
  EXPECT_EQ(match.wrong, 2);
  EXPECT_EQ(match.missed, 1);
  EXPECT_TRUE(match.mistake());
  EXPECT_FALSE(match_detections(label, {detections[0], detection(5, 0.6f, 21, 0, 30, 10)}).mistake());
}

}  // namespace
}  // namespace locdet::models
