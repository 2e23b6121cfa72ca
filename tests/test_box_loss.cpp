// Box math and IoU-family losses: hand-computed forward values (torchvision's formulas), analytic
// gradients against central differences in double, and the detector box parametrization.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/common/box.h"
#include "kernels/cpu/box_loss.h"
#include "tests/grad_check.h"

namespace locdet {
namespace {

constexpr double kPi = 3.14159265358979323846;

double loss_of(IouKind kind, std::vector<double> p, std::vector<double> g) {
  double out = 0;
  cpu::iou_loss_forward<double>(1, kind, p.data(), g.data(), &out);
  return out;
}

TEST(BoxMath, ConversionsRoundTrip) {
  const double xyxy[4] = {1.0, 2.0, 5.0, 10.0};
  double c[4], back[4], px[4], norm[4];
  xyxy_to_cxcywh(xyxy, c);
  EXPECT_DOUBLE_EQ(c[0], 3.0);
  EXPECT_DOUBLE_EQ(c[1], 6.0);
  EXPECT_DOUBLE_EQ(c[2], 4.0);
  EXPECT_DOUBLE_EQ(c[3], 8.0);
  cxcywh_to_xyxy(c, back);
  for (int k = 0; k < 4; ++k) EXPECT_DOUBLE_EQ(back[k], xyxy[k]);
  pixels_to_normalized(xyxy, 60.0, 48.0, norm);
  EXPECT_DOUBLE_EQ(norm[0], 1.0 / 60.0);
  EXPECT_DOUBLE_EQ(norm[3], 10.0 / 48.0);
  normalized_to_pixels(norm, 60.0, 48.0, px);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(px[k], xyxy[k], 1e-12);
  EXPECT_DOUBLE_EQ(box_area(xyxy), 32.0);
}

TEST(BoxMath, PlainIou) {
  const float a[4] = {0, 0, 2, 2}, b[4] = {1, 1, 3, 3}, far[4] = {5, 5, 6, 6}, touch[4] = {2, 0, 3, 2};
  EXPECT_FLOAT_EQ(box_iou(a, b), 1.0f / 7.0f);
  EXPECT_EQ(box_iou(a, far), 0.0f);
  EXPECT_EQ(box_iou(a, touch), 0.0f);  // shared edge: zero-area intersection
  EXPECT_EQ(box_iou(a, a), 1.0f);
}

// Expected values written out with torchvision's formulas (ops/giou_loss.py, diou_loss.py,
// ciou_loss.py, eps = 1e-7):
//   iou = inter / (union + eps); giou = iou - (area_c - union) / (area_c + eps)
//   diou_loss = 1 - iou + centers_distance^2 / (diagonal^2 + eps)
//   ciou_loss = diou_loss + alpha * v, v = 4/pi^2 (atan(wg/hg) - atan(wp/hp))^2,
//   alpha = v / (1 - iou + v + eps)
// The eps terms move these values by < 1e-6, hence the tolerance.
TEST(BoxLoss, ForwardMatchesHandComputedOverlap) {
  // p = (0,0,2,2), g = (1,1,3,3): inter 1, union 7, enclosing 3x3, centres (1,1) vs (2,2).
  std::vector<double> p = {0, 0, 2, 2}, g = {1, 1, 3, 3};
  EXPECT_NEAR(loss_of(IouKind::kIou, p, g), 1.0 - 1.0 / 7.0, 1e-6);
  EXPECT_NEAR(loss_of(IouKind::kGiou, p, g), 1.0 - (1.0 / 7.0 - 2.0 / 9.0), 1e-6);
  EXPECT_NEAR(loss_of(IouKind::kDiou, p, g), 1.0 - 1.0 / 7.0 + 2.0 / 18.0, 1e-6);
  EXPECT_NEAR(loss_of(IouKind::kCiou, p, g), 1.0 - 1.0 / 7.0 + 2.0 / 18.0, 1e-6);  // same aspect: v = 0
}

TEST(BoxLoss, ForwardMatchesHandComputedAspect) {
  // p = (0,0,4,2), g = (0,0,2,2): inter 4, union 8, enclosing 4x2 = 8, rho^2 = 1, c^2 = 20.
  std::vector<double> p = {0, 0, 4, 2}, g = {0, 0, 2, 2};
  EXPECT_NEAR(loss_of(IouKind::kIou, p, g), 0.5, 1e-6);
  EXPECT_NEAR(loss_of(IouKind::kGiou, p, g), 0.5, 1e-6);
  EXPECT_NEAR(loss_of(IouKind::kDiou, p, g), 0.55, 1e-6);
  const double v = 4.0 / (kPi * kPi) * std::pow(std::atan(1.0) - std::atan(2.0), 2);
  const double alpha = v / (1.0 - 0.5 + v);
  EXPECT_NEAR(loss_of(IouKind::kCiou, p, g), 0.55 + alpha * v, 1e-6);
}

TEST(BoxLoss, ForwardMatchesHandComputedDisjoint) {
  // p = (0,0,1,1), g = (2,0,3,1): no overlap, union 2, enclosing 3x1, rho^2 = 4, c^2 = 10.
  std::vector<double> p = {0, 0, 1, 1}, g = {2, 0, 3, 1};
  EXPECT_NEAR(loss_of(IouKind::kIou, p, g), 1.0, 1e-6);
  EXPECT_NEAR(loss_of(IouKind::kGiou, p, g), 1.0 + 1.0 / 3.0, 1e-6);
  EXPECT_NEAR(loss_of(IouKind::kDiou, p, g), 1.4, 1e-6);
  EXPECT_NEAR(loss_of(IouKind::kCiou, p, g), 1.4, 1e-6);
  // Identical boxes: every loss is ~0.
  for (IouKind k : {IouKind::kIou, IouKind::kGiou, IouKind::kDiou, IouKind::kCiou})
    EXPECT_NEAR(loss_of(k, g, g), 0.0, 1e-6);
}

TEST(BoxLoss, FloatMatchesDouble) {
  std::vector<float> p = {0.1f, 0.2f, 0.7f, 0.9f}, g = {0.3f, 0.1f, 0.8f, 0.6f};
  std::vector<double> pd(p.begin(), p.end()), gd(g.begin(), g.end());
  for (IouKind k : {IouKind::kIou, IouKind::kGiou, IouKind::kDiou, IouKind::kCiou}) {
    float lf = 0;
    cpu::iou_loss_forward<float>(1, k, p.data(), g.data(), &lf);
    EXPECT_NEAR(lf, loss_of(k, pd, gd), 1e-6);
  }
}

// Random pairs in three configurations: overlapping, disjoint, nested (pred inside target and
// target inside pred).
std::vector<double> random_pairs(int n, uint64_t seed, std::vector<double>& target) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> pred(4 * n);
  target.assign(4 * n, 0.0);
  for (int i = 0; i < n; ++i) {
    double* p = &pred[4 * i];
    double* g = &target[4 * i];
    double gx = u(rng) * 10, gy = u(rng) * 10, gw = 1 + u(rng) * 5, gh = 1 + u(rng) * 5;
    g[0] = gx, g[1] = gy, g[2] = gx + gw, g[3] = gy + gh;
    switch (i % 4) {
      case 0: {  // overlapping, shifted
        double dx = (u(rng) - 0.5) * gw, dy = (u(rng) - 0.5) * gh;
        p[0] = g[0] + dx, p[1] = g[1] + dy, p[2] = g[2] + dx * 0.3 + 0.5, p[3] = g[3] - dy * 0.2 + 0.3;
        break;
      }
      case 1: {  // disjoint: to the right and below
        p[0] = g[2] + 0.5 + u(rng), p[1] = g[3] + 0.2 + u(rng);
        p[2] = p[0] + 1 + u(rng) * 3, p[3] = p[1] + 1 + u(rng) * 3;
        break;
      }
      case 2: {  // pred nested inside target
        p[0] = g[0] + 0.1 * gw + 0.1 * u(rng) * gw, p[1] = g[1] + 0.1 * gh + 0.1 * u(rng) * gh;
        p[2] = g[2] - 0.1 * gw - 0.1 * u(rng) * gw, p[3] = g[3] - 0.1 * gh - 0.1 * u(rng) * gh;
        break;
      }
      default: {  // target nested inside pred
        p[0] = g[0] - 0.5 - u(rng), p[1] = g[1] - 0.5 - u(rng);
        p[2] = g[2] + 0.5 + 2 * u(rng), p[3] = g[3] + 0.3 + u(rng);
        break;
      }
    }
  }
  return pred;
}

// Kinks: a predicted edge within 1e-3 of a target edge on the same axis, or a vanishing overlap.
bool near_box_kink(size_t i, const std::vector<double>& x, const std::vector<double>& target) {
  const size_t b = i / 4;
  const double* p = &x[4 * b];
  const double* g = &target[4 * b];
  const double m = 1e-3;
  for (int a = 0; a < 2; ++a)
    for (int e : {a, a + 2})
      for (int f : {a, a + 2})
        if (std::fabs(p[e] - g[f]) < m) return true;
  return false;
}

// CIoU's aspect term written out independently: v = 4/pi^2 (atan(wg/hg) - atan(wp/hp))^2.
double ciou_v(const double* p, const double* g) {
  double d = std::atan((g[2] - g[0]) / (g[3] - g[1])) - std::atan((p[2] - p[0]) / (p[3] - p[1]));
  return 4.0 / (kPi * kPi) * d * d;
}
double ciou_alpha(const double* p, const double* g) {
  double iou = 0;
  iou_loss_value(IouKind::kIou, p, g, &iou);
  double v = ciou_v(p, g);
  return v / (1.0 - iou + v + kBoxEps);
}

TEST(BoxLoss, CiouEqualsDiouPlusAlphaV) {
  const double p[4] = {0.5, 1.0, 4.0, 2.5}, g[4] = {1.0, 0.0, 3.0, 4.0};
  EXPECT_NEAR(iou_loss_value(IouKind::kCiou, p, g),
              iou_loss_value(IouKind::kDiou, p, g) + ciou_alpha(p, g) * ciou_v(p, g), 1e-12);
}

class BoxLossGrad : public ::testing::TestWithParam<IouKind> {};

TEST_P(BoxLossGrad, MatchesFiniteDifferences) {
  const IouKind kind = GetParam();
  const int n = 64;
  std::vector<double> target;
  std::vector<double> pred = random_pairs(n, 1234 + static_cast<int>(kind), target);
  std::vector<double> dy = test::random_uniform(n, 99, 0.5, 1.5);
  std::vector<double> loss(n), analytic(4 * n);
  cpu::iou_loss_backward<double>(n, kind, pred.data(), target.data(), dy.data(), analytic.data());
  // CIoU's alpha is a constant in the gradient (torchvision computes it under no_grad), so the
  // finite-difference objective freezes alpha at the unperturbed prediction.
  std::vector<double> alpha(n, 0.0);
  for (int i = 0; i < n; ++i) alpha[i] = ciou_alpha(&pred[4 * i], &target[4 * i]);
  auto objective = [&]() {
    if (kind == IouKind::kCiou) {
      for (int i = 0; i < n; ++i)
        loss[i] = iou_loss_value(IouKind::kDiou, &pred[4 * i], &target[4 * i]) +
                  alpha[i] * ciou_v(&pred[4 * i], &target[4 * i]);
    } else {
      cpu::iou_loss_forward<double>(n, kind, pred.data(), target.data(), loss.data());
    }
    return test::dot(dy, loss);
  };
  test::GradCheckOptions opt;
  opt.h = 1e-6;
  opt.rel_tol = 1e-5;
  opt.abs_tol = 1e-8;
  opt.near_kink = [&](size_t i, const std::vector<double>& x) { return near_box_kink(i, x, target); };
  auto r = test::check_gradient(pred, analytic, objective, opt);
  EXPECT_GRAD_OK(r, "iou loss kind " + std::to_string(static_cast<int>(kind)));
  EXPECT_GT(r.checked, 200u);
  // The gradient must be non-trivial (disjoint IoU is flat, but the other variants are not).
  double norm = 0;
  for (double v : analytic) norm += std::fabs(v);
  EXPECT_GT(norm, 1.0);
}

std::string kind_name(const ::testing::TestParamInfo<IouKind>& info) {
  static const char* const names[] = {"iou", "giou", "diou", "ciou"};
  return names[static_cast<int>(info.param)];
}
INSTANTIATE_TEST_SUITE_P(AllKinds, BoxLossGrad,
                         ::testing::Values(IouKind::kIou, IouKind::kGiou, IouKind::kDiou, IouKind::kCiou),
                         kind_name);

TEST(BoxLoss, DescentImprovesLoss) {
  // A small gradient step must reduce every loss (a sign error would raise it).
  std::vector<double> target;
  std::vector<double> pred = random_pairs(16, 7, target);
  for (IouKind k : {IouKind::kIou, IouKind::kGiou, IouKind::kDiou, IouKind::kCiou}) {
    for (int i = 0; i < 16; ++i) {
      if (k == IouKind::kIou && i % 4 == 1) continue;  // disjoint: plain IoU has zero gradient
      double g[4], p2[4];
      iou_loss_grad(k, &pred[4 * i], &target[4 * i], g);
      for (int c = 0; c < 4; ++c) p2[c] = pred[4 * i + c] - 1e-3 * g[c];
      EXPECT_LT(iou_loss_value(k, p2, &target[4 * i]), iou_loss_value(k, &pred[4 * i], &target[4 * i]))
          << "kind " << static_cast<int>(k) << " pair " << i;
    }
  }
}

TEST(BoxDecode, EncodeDecodeRoundTripAndBounds) {
  const double anchor_xyxy[4] = {10, 10, 26, 22};  // cxcywh (18, 16, 16, 12)
  double anchor[4];
  xyxy_to_cxcywh(anchor_xyxy, anchor);
  const double box[4] = {12, 9, 30, 25};
  double t[4], back[4];
  encode_box(box, anchor, 8.0, t);
  decode_box(t, anchor, 8.0, back);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(back[k], box[k], 1e-9);
  // Extreme outputs stay bounded: centre within one range of the anchor, size clamped.
  const double wild[4] = {1e4, -1e4, 1e3, -5};
  double out[4], c[4];
  decode_box(wild, anchor, 8.0, out);
  xyxy_to_cxcywh(out, c);
  EXPECT_LE(std::fabs(c[0] - anchor[0]), 8.0 + 1e-9);
  EXPECT_LE(std::fabs(c[1] - anchor[1]), 8.0 + 1e-9);
  EXPECT_NEAR(c[2], 16.0 * std::exp(kMaxLogScale), 1e-9);
  EXPECT_GT(c[3], 0.0);
  EXPECT_TRUE(std::isfinite(c[3]));
}

TEST(BoxDecode, GradientMatchesFiniteDifferences) {
  const int batch = 2, anchors = 5;
  std::vector<double> anchor_boxes = {0, 0, 8, 8, 4, 4, 20, 12, 10, 2, 14, 30, 1, 1, 2, 2, 30, 20, 46, 44};
  std::vector<double> raw = test::random_uniform(batch * anchors * 4, 5, -2.0, 2.0);
  raw[2] = 5.0;  // above the clamp: gradient exactly zero there (checked below, skipped by the FD check)
  std::vector<double> dy = test::random_uniform(raw.size(), 6), out(raw.size()), analytic(raw.size());
  cpu::box_decode_backward<double>(batch, anchors, raw.data(), anchor_boxes.data(), 8.0, dy.data(),
                                   analytic.data());
  EXPECT_EQ(analytic[2], 0.0);
  auto objective = [&]() {
    cpu::box_decode_forward<double>(batch, anchors, raw.data(), anchor_boxes.data(), 8.0, out.data());
    return test::dot(dy, out);
  };
  test::GradCheckOptions opt;
  opt.near_kink = [](size_t i, const std::vector<double>& x) {
    return i % 4 >= 2 && std::fabs(x[i] - kMaxLogScale) < 1e-3;
  };
  EXPECT_GRAD_OK(test::check_gradient(raw, analytic, objective, opt), "box decode");
}

}  // namespace
}  // namespace locdet
