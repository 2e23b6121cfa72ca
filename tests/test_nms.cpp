// Batched class-aware NMS (CPU reference) on hand-made cases: ties, empty images, suppression
// chains, classes that never suppress each other, the max_det cut, the score threshold at its
// boundary, and a 1000-box image checked against a naive re-implementation.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "kernels/common/box.h"
#include "kernels/cpu/nms.h"

namespace locdet::cpu {
namespace {

struct NmsOut {
  std::vector<float> boxes, scores;
  std::vector<int32_t> classes, count;
};

NmsOut run(int64_t batch, int64_t n, int c, const std::vector<float>& boxes, const std::vector<float>& scores,
           const NmsParams& p) {
  NmsOut o;
  o.boxes.assign(batch * p.max_det * 4, 7.0f);
  o.scores.assign(batch * p.max_det, 7.0f);
  o.classes.assign(batch * p.max_det, 7);
  o.count.assign(batch, 7);
  std::vector<char> ws(nms_workspace_bytes(n, c, p));
  batched_nms<float>(batch, n, c, boxes.data(), scores.data(), p, o.boxes.data(), o.scores.data(),
                     o.classes.data(), o.count.data(), ws.data());
  return o;
}

TEST(Nms, SuppressesOverlapsKeepsDisjointAndPadsOutput) {
  // Boxes 0 and 1 overlap heavily (IoU 0.81), box 2 is apart. One class.
  std::vector<float> boxes = {0, 0, 10, 10, 0, 0, 10, 9, 20, 20, 30, 30};
  std::vector<float> scores = {0.8f, 0.9f, 0.3f};
  NmsParams p;
  p.max_det = 5;
  NmsOut o = run(1, 3, 1, boxes, scores, p);
  EXPECT_EQ(o.count[0], 2);
  EXPECT_EQ(o.scores, (std::vector<float>{0.9f, 0.3f, 0, 0, 0}));
  EXPECT_EQ(o.classes, (std::vector<int32_t>{0, 0, -1, -1, -1}));
  EXPECT_EQ(std::vector<float>(o.boxes.begin(), o.boxes.begin() + 4), (std::vector<float>{0, 0, 10, 9}));
  EXPECT_EQ(o.boxes[8], 0.0f);
}

TEST(Nms, DifferentClassesNeverSuppressEachOther) {
  // Same box scored for two classes: both survive; a second identical box is suppressed per class.
  std::vector<float> boxes = {0, 0, 10, 10, 0, 0, 10, 10};
  std::vector<float> scores = {0.9f, 0.8f, 0.7f, 0.6f};  // [N=2, C=2]
  NmsParams p;
  p.max_det = 4;
  NmsOut o = run(1, 2, 2, boxes, scores, p);
  EXPECT_EQ(o.count[0], 2);
  EXPECT_EQ(o.classes, (std::vector<int32_t>{0, 1, -1, -1}));
  EXPECT_EQ(o.scores, (std::vector<float>{0.9f, 0.8f, 0, 0}));
}

TEST(Nms, TiesBreakByLowestFlatIndex) {
  // Three identical boxes, identical scores: the lowest index wins and suppresses the others;
  // in a second class the tie goes the same way.
  std::vector<float> boxes = {0, 0, 10, 10, 1, 0, 11, 10, 0, 1, 10, 11};
  std::vector<float> scores = {0.5f, 0.5f, 0.5f};
  NmsParams p;
  p.max_det = 3;
  NmsOut o = run(1, 3, 1, boxes, scores, p);
  EXPECT_EQ(o.count[0], 1);
  EXPECT_EQ(std::vector<float>(o.boxes.begin(), o.boxes.begin() + 4), (std::vector<float>{0, 0, 10, 10}));
  // Disjoint tied boxes: kept in index order.
  std::vector<float> apart = {20, 0, 30, 10, 0, 0, 10, 10, 40, 0, 50, 10};
  NmsOut a = run(1, 3, 1, apart, scores, p);
  EXPECT_EQ(a.count[0], 3);
  EXPECT_EQ(a.boxes[0], 20.0f);
  EXPECT_EQ(a.boxes[4], 0.0f);
  EXPECT_EQ(a.boxes[8], 40.0f);
}

TEST(Nms, EmptyImagesAllBelowThresholdAndBoundary) {
  std::vector<float> boxes = {0, 0, 10, 10, 20, 20, 30, 30, 0, 0, 10, 10, 20, 20, 30, 30};
  // Image 0: every score at or below the threshold (exactly 0.05 is NOT a candidate).
  // Image 1: one score just above it.
  std::vector<float> scores = {0.05f, 0.01f, 0.05f, std::nextafter(0.05f, 1.0f)};
  NmsParams p;
  p.max_det = 2;
  NmsOut o = run(2, 2, 1, boxes, scores, p);
  EXPECT_EQ(o.count, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(o.classes, (std::vector<int32_t>{-1, -1, 0, -1}));
  EXPECT_EQ(o.boxes[8], 20.0f);
  // IoU exactly at the threshold does not suppress (strict >): (0,0,10,10) vs (0,0,10,5) is 0.5.
  std::vector<float> half = {0, 0, 10, 10, 0, 0, 10, 5};
  NmsParams q;
  q.iou_threshold = 0.5f;
  NmsOut h = run(1, 2, 1, half, {0.9f, 0.8f}, q);
  EXPECT_EQ(h.count[0], 2);
  q.iou_threshold = std::nextafter(0.5f, 0.0f);
  EXPECT_EQ(run(1, 2, 1, half, {0.9f, 0.8f}, q).count[0], 1);
}

TEST(Nms, AllSuppressedButOneAndMaxDetAndTopk) {
  // A chain of 50 nearly identical boxes: only the best survives.
  std::vector<float> boxes, scores;
  for (int i = 0; i < 50; ++i) {
    boxes.insert(boxes.end(), {0.01f * i, 0, 10 + 0.01f * i, 10});
    scores.push_back(0.2f + 0.01f * ((i * 7) % 50));
  }
  NmsParams p;
  NmsOut o = run(1, 50, 1, boxes, scores, p);
  EXPECT_EQ(o.count[0], 1);
  EXPECT_EQ(o.scores[0], *std::max_element(scores.begin(), scores.end()));
  // Disjoint boxes: max_det cuts, pre_nms_topk cuts before NMS.
  std::vector<float> grid;
  for (int i = 0; i < 50; ++i) grid.insert(grid.end(), {20.0f * i, 0, 20.0f * i + 10, 10});
  p.max_det = 10;
  NmsOut m = run(1, 50, 1, grid, scores, p);
  EXPECT_EQ(m.count[0], 10);
  for (int i = 1; i < 10; ++i) EXPECT_GE(m.scores[i - 1], m.scores[i]);
  p.max_det = 100;
  p.pre_nms_topk = 7;
  EXPECT_EQ(run(1, 50, 1, grid, scores, p).count[0], 7);
}

TEST(Nms, ThousandBoxesMatchNaiveReference) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(0, 1);
  const int n = 1000, c = 3;
  std::vector<float> boxes(4 * n), scores(n * c);
  for (int i = 0; i < n; ++i) {
    float x = u(rng) * 50, y = u(rng) * 40, w = 4 + u(rng) * 10, h = 4 + u(rng) * 10;
    boxes[4 * i] = x, boxes[4 * i + 1] = y, boxes[4 * i + 2] = x + w, boxes[4 * i + 3] = y + h;
  }
  for (auto& s : scores) s = std::round(u(rng) * 64) / 64;  // many ties
  NmsParams p;
  p.pre_nms_topk = 2000;
  p.max_det = 300;
  NmsOut o = run(1, n, c, boxes, scores, p);
  // Naive: per class, candidates in (score desc, index asc), keep unless a kept one overlaps.
  std::vector<std::pair<float, int>> all;
  for (int j = 0; j < n * c; ++j)
    if (scores[j] > p.score_threshold) all.push_back({scores[j], j});
  std::sort(all.begin(), all.end(),
            [](auto a, auto b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  all.resize(std::min<size_t>(all.size(), p.pre_nms_topk));
  std::vector<int> kept;
  for (auto [s, j] : all) {
    bool ok = true;
    for (int k : kept)
      if (k % c == j % c && box_iou(&boxes[4 * (k / c)], &boxes[4 * (j / c)]) > p.iou_threshold) ok = false;
    if (ok) kept.push_back(j);
    if (static_cast<int>(kept.size()) == p.max_det) break;
  }
  ASSERT_EQ(o.count[0], static_cast<int32_t>(kept.size()));
  EXPECT_GT(kept.size(), 50u);
  for (size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(o.classes[i], kept[i] % c) << i;
    EXPECT_EQ(o.scores[i], scores[kept[i]]) << i;
    EXPECT_EQ(o.boxes[4 * i], boxes[4 * (kept[i] / c)]) << i;
  }
}

}  // namespace
}  // namespace locdet::cpu
