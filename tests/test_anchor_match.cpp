// Anchor generation, matching rules (thresholds, forced positives, tie breaking, padding) and
// anchor-size k-means, on hand-made cases.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/base/error.h"
#include "kernels/cpu/anchor_match.h"

namespace locdet::cpu {
namespace {

TEST(AnchorGen, LayoutIsCellMajorThenSize) {
  const float sizes[4] = {8, 8, 16, 8};
  std::vector<float> a(2 * 3 * 2 * 4);
  generate_anchors(2, 3, 2, 8.0f, sizes, a.data());
  // index (y*W + x)*K + k; anchor 0: cell (0,0) size 8x8 centred at (4,4).
  EXPECT_EQ(std::vector<float>(a.begin(), a.begin() + 4), (std::vector<float>{0, 0, 8, 8}));
  // anchor 1: same cell, 16x8.
  EXPECT_EQ(std::vector<float>(a.begin() + 4, a.begin() + 8), (std::vector<float>{-4, 0, 12, 8}));
  // anchor 2*(1*3+2)+1 = 11: cell x=2, y=1 (centre (20, 12)), 16x8.
  EXPECT_EQ(std::vector<float>(a.begin() + 44, a.begin() + 48), (std::vector<float>{12, 8, 28, 16}));
}

struct MatchOut {
  std::vector<int32_t> assigned, cls;
  std::vector<float> targets;
};

MatchOut run_match(int64_t batch, const std::vector<float>& anchors, int64_t max_gt,
                   const std::vector<float>& gts, const std::vector<int32_t>& classes,
                   const std::vector<int32_t>& count, float pos, float neg) {
  const int64_t A = anchors.size() / 4;
  MatchOut o;
  o.assigned.assign(batch * A, 99);
  o.cls.assign(batch * A, 99);
  o.targets.assign(batch * A * 4, 99.0f);
  std::vector<int32_t> ws(match_anchors_workspace_elems(batch, max_gt));
  match_anchors<float>(batch, A, anchors.data(), max_gt, gts.data(), classes.data(), count.data(), pos, neg,
                       o.assigned.data(), o.targets.data(), o.cls.data(), ws.data());
  return o;
}

TEST(AnchorMatch, ThresholdsForcedPositivesAndPadding) {
  // Anchors (10x10 unless noted):
  //  0: (0,0,10,10)   IoU with gt0 (0,0,10,8) = 0.8 -> positive gt0
  //  1: (0,5,10,15)   IoU with gt0 = 30/(100+80-30) = 0.2 -> ignore (0.2 in [0.1, 0.5))
  //  2: (50,50,60,60) no overlap -> negative
  //  3: (30,0,40,10)  gt1 (30,0,32,10) IoU 0.2 -> below pos, but it is gt1's best anchor -> forced
  //  4: (31,0,41,10)  gt1 IoU 10/110 < 0.2
  std::vector<float> anchors = {0, 0, 10, 10, 0, 5, 10, 15, 50, 50, 60, 60, 30, 0, 40, 10, 31, 0, 41, 10};
  // Image 0: 2 real GTs + 1 padded slot that must be ignored (it would match anchor 2 perfectly).
  std::vector<float> gts = {0, 0, 10, 8, 30, 0, 32, 10, 50, 50, 60, 60};
  std::vector<int32_t> classes = {7, 3, 5};
  MatchOut o = run_match(1, anchors, 3, gts, classes, {2}, 0.5f, 0.1f);
  EXPECT_EQ(o.assigned, (std::vector<int32_t>{0, -2, -1, 1, -1}));
  EXPECT_EQ(o.cls, (std::vector<int32_t>{7, -2, -1, 3, -1}));
  EXPECT_EQ(std::vector<float>(o.targets.begin(), o.targets.begin() + 4), (std::vector<float>{0, 0, 10, 8}));
  EXPECT_EQ(std::vector<float>(o.targets.begin() + 12, o.targets.begin() + 16),
            (std::vector<float>{30, 0, 32, 10}));
  EXPECT_EQ(std::vector<float>(o.targets.begin() + 8, o.targets.begin() + 12),
            (std::vector<float>{0, 0, 0, 0}));
  std::vector<float> num_pos(1);
  count_positives<float>(1, 5, o.assigned.data(), num_pos.data());
  EXPECT_EQ(num_pos[0], 2.0f);
}

TEST(AnchorMatch, TiesGoToLowestIndex) {
  // Anchors 0 and 1 have the same IoU (0.25) with the GT: the forced one is anchor 0.
  std::vector<float> anchors = {0, 0, 10, 10, 10, 0, 20, 10};
  std::vector<float> gts = {5, 0, 15, 10};  // overlaps each anchor by 50: IoU 50/150 = 1/3
  MatchOut o = run_match(1, anchors, 1, gts, {4}, {1}, 0.5f, 0.4f);
  EXPECT_EQ(o.assigned, (std::vector<int32_t>{0, -1}));
  // Two identical GTs: each anchor's best GT is the lower index; forced conflict -> GT 0.
  std::vector<float> twin = {0, 0, 10, 10, 0, 0, 10, 10};
  MatchOut t = run_match(1, {0, 0, 10, 10}, 2, twin, {1, 2}, {2}, 0.5f, 0.4f);
  EXPECT_EQ(t.assigned, (std::vector<int32_t>{0}));
  EXPECT_EQ(t.cls, (std::vector<int32_t>{1}));
}

TEST(AnchorMatch, ForcedConflictTakesHighestIou) {
  // Both GTs' best anchor is anchor 0; GT 1 overlaps it more (IoU 0.9 vs 0.3) and wins it, even
  // though GT 0 comes first.
  std::vector<float> anchors = {0, 0, 10, 10, 100, 100, 110, 110};
  std::vector<float> gts = {0, 0, 3, 10, 0, 0, 9, 10};
  MatchOut o = run_match(1, anchors, 2, gts, {0, 1}, {2}, 0.95f, 0.1f);
  EXPECT_EQ(o.assigned, (std::vector<int32_t>{1, -1}));
}

TEST(AnchorMatch, EmptyImageIsAllNegativeAndBatchesAreIndependent) {
  std::vector<float> anchors = {0, 0, 10, 10, 20, 20, 30, 30};
  std::vector<float> gts = {0, 0, 10, 10, 20, 20, 30, 30};  // [B=2, G=1]
  MatchOut o = run_match(2, anchors, 1, gts, {3, 4}, {0, 1}, 0.5f, 0.4f);
  EXPECT_EQ(o.assigned, (std::vector<int32_t>{-1, -1, -1, 0}));
  EXPECT_EQ(o.cls, (std::vector<int32_t>{-1, -1, -1, 4}));
  std::vector<double> num_pos(2);
  count_positives<double>(2, 2, o.assigned.data(), num_pos.data());
  EXPECT_EQ(num_pos, (std::vector<double>{0.0, 1.0}));
}

TEST(AnchorSizes, KMeansFindsClustersDeterministically) {
  std::mt19937 rng(3);
  std::normal_distribution<double> n(0, 0.5);
  std::vector<std::pair<double, double>> wh;
  for (int i = 0; i < 60; ++i) wh.push_back({10 + n(rng), 14 + n(rng)});
  for (int i = 0; i < 40; ++i) wh.push_back({24 + n(rng), 20 + n(rng)});
  auto sizes = choose_anchor_sizes(wh, 2);
  ASSERT_EQ(sizes.size(), 2u);
  EXPECT_NEAR(sizes[0].first, 10, 0.5);
  EXPECT_NEAR(sizes[0].second, 14, 0.5);
  EXPECT_NEAR(sizes[1].first, 24, 0.5);
  EXPECT_NEAR(sizes[1].second, 20, 0.5);
  EXPECT_GT(mean_best_anchor_iou(wh, sizes), 0.9);
  EXPECT_GT(mean_best_anchor_iou(wh, sizes), mean_best_anchor_iou(wh, {{16, 16}}));
  EXPECT_EQ(choose_anchor_sizes(wh, 2), sizes);  // same input, same answer
  EXPECT_THROW(choose_anchor_sizes(wh, 0), locdet::Error);
  EXPECT_THROW(choose_anchor_sizes({{1, 1}}, 2), locdet::Error);
}

}  // namespace
}  // namespace locdet::cpu
