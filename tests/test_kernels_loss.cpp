// Losses on the CPU: hand values (including extreme logits), ignore labels, and
// finite-difference checks of every backward in double.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/base/error.h"
#include "kernels/common/loss_math.h"
#include "kernels/cpu/loss.h"
#include "tests/grad_check.h"

namespace locdet {
namespace {

using test::check_gradient;
using test::dot;
using test::GradCheckOptions;
using test::random_uniform;

TEST(KernelsLoss, CrossEntropyHandValuesSmoothingAndIgnore) {
  // Row 0: logits (0, ln 3) label 1 -> p = (1/4, 3/4), loss -ln(3/4).
  // Row 1: ignored. Row 2: same as row 0 with smoothing 0.2: 0.9 * -ln(3/4) + 0.1 * -ln(1/4).
  std::vector<double> logits{0, std::log(3.0), 5, -5, 0, std::log(3.0)}, loss(3), dloss{1, 1, 2}, d(6);
  std::vector<int32_t> labels{1, -1, 1};
  cpu::softmax_cross_entropy_forward(3, 2, logits.data(), labels.data(), 0.0, loss.data());
  EXPECT_NEAR(loss[0], -std::log(0.75), 1e-15);
  EXPECT_EQ(loss[1], 0.0);
  cpu::softmax_cross_entropy_forward(3, 2, logits.data(), labels.data(), 0.2, loss.data());
  EXPECT_NEAR(loss[2], -0.9 * std::log(0.75) - 0.1 * std::log(0.25), 1e-15);
  cpu::softmax_cross_entropy_backward(3, 2, logits.data(), labels.data(), 0.2, dloss.data(), d.data());
  EXPECT_NEAR(d[4], 2 * (0.25 - 0.1), 1e-15);
  EXPECT_NEAR(d[5], 2 * (0.75 - 0.9), 1e-15);
  EXPECT_EQ(d[2], 0.0);
  EXPECT_EQ(d[3], 0.0);
  // Extreme logits stay finite.
  std::vector<float> big{1000.0f, -1000.0f}, l(1);
  std::vector<int32_t> lab{1};
  cpu::softmax_cross_entropy_forward<float>(1, 2, big.data(), lab.data(), 0.0f, l.data());
  EXPECT_FLOAT_EQ(l[0], 2000.0f);
  lab[0] = 2;
  EXPECT_THROW(cpu::softmax_cross_entropy_forward<float>(1, 2, big.data(), lab.data(), 0.0f, l.data()),
               Error);
}

TEST(KernelsLoss, CrossEntropyBackwardMatchesFiniteDifferences) {
  const int n = 6, classes = 5;
  auto x = random_uniform(n * classes, 61, -3, 3), g = random_uniform(n, 62);
  std::vector<int32_t> labels{0, 4, -1, 2, 3, 1};
  std::vector<double> loss(n), dx(n * classes);
  for (double smoothing : {0.0, 0.1}) {
    cpu::softmax_cross_entropy_backward(n, classes, x.data(), labels.data(), smoothing, g.data(), dx.data());
    EXPECT_GRAD_OK(check_gradient(x, dx,
                                  [&] {
                                    cpu::softmax_cross_entropy_forward(n, classes, x.data(), labels.data(),
                                                                       smoothing, loss.data());
                                    return dot(g, loss);
                                  }),
                   "cross entropy");
  }
}

TEST(KernelsLoss, BceAndFocalHandValues) {
  // bce(0, t) = ln 2 for any t; bce(x, 1) = softplus(-x); stays finite at |x| = 200.
  EXPECT_NEAR(bce_logits_fwd(0.0, 0.3), std::log(2.0), 1e-15);
  EXPECT_NEAR(bce_logits_fwd(2.0, 1.0), std::log1p(std::exp(-2.0)), 1e-15);
  EXPECT_NEAR(bce_logits_fwd(200.0f, 0.0f), 200.0f, 1e-3);
  EXPECT_NEAR(bce_logits_fwd(-200.0f, 0.0f), 0.0f, 1e-30);
  // Focal, written out like torchvision for x = 1.5, t = 1, alpha 0.25, gamma 2.
  const double p = 1.0 / (1.0 + std::exp(-1.5)), ce = -std::log(p);
  EXPECT_NEAR(focal_fwd(1.5, 1.0, 0.25, 2.0), 0.25 * ce * (1 - p) * (1 - p), 1e-15);
  EXPECT_NEAR(focal_fwd(1.5, 0.0, 0.25, 2.0), 0.75 * -std::log(1 - p) * p * p, 1e-15);
  EXPECT_NEAR(focal_fwd(1.5, 0.0, -1.0, 2.0), -std::log(1 - p) * p * p, 1e-15);
  EXPECT_NEAR(focal_fwd(1.5, 0.0, -1.0, 0.0), bce_logits_fwd(1.5, 0.0), 1e-15);
  // Confident and right: loss and gradient vanish without NaN.
  EXPECT_EQ(focal_bwd(60.0f, 1.0f, 0.25f, 2.0f), 0.0f);
}

TEST(KernelsLoss, ElementwiseBackwardsMatchFiniteDifferences) {
  const int n = 48;
  auto x = random_uniform(n, 71, -4, 4), t = random_uniform(n, 72, 0, 1), g = random_uniform(n, 73);
  for (auto& v : t) v = v < 0.5 ? 0.0 : (v < 0.75 ? 1.0 : v);  // hard and soft targets
  std::vector<double> loss(n), dx(n);
  auto run = [&](auto fwd, auto bwd, const char* what, GradCheckOptions opt = {}) {
    bwd(dx.data());
    EXPECT_GRAD_OK(check_gradient(
                       x, dx,
                       [&] {
                         fwd(loss.data());
                         return dot(g, loss);
                       },
                       opt),
                   what);
  };
  run([&](double* l) { cpu::bce_with_logits_forward<double>(n, x.data(), t.data(), l); },
      [&](double* d) { cpu::bce_with_logits_backward<double>(n, x.data(), t.data(), g.data(), d); }, "bce");
  for (double alpha : {0.25, -1.0})
    for (double gamma : {0.0, 1.0, 2.0, 1.5})
      run([&](double* l) { cpu::sigmoid_focal_forward<double>(n, x.data(), t.data(), alpha, gamma, l); },
          [&](double* d) {
            cpu::sigmoid_focal_backward<double>(n, x.data(), t.data(), alpha, gamma, g.data(), d);
          },
          "focal");
  run([&](double* l) { cpu::mse_forward<double>(n, x.data(), t.data(), l); },
      [&](double* d) { cpu::mse_backward<double>(n, x.data(), t.data(), g.data(), d); }, "mse");
  GradCheckOptions near_target;  // |x - t| has a kink at x == t
  near_target.near_kink = [&](size_t i, const std::vector<double>& v) {
    return std::fabs(v[i] - t[i]) < 1e-3;
  };
  run([&](double* l) { cpu::l1_forward<double>(n, x.data(), t.data(), l); },
      [&](double* d) { cpu::l1_backward<double>(n, x.data(), t.data(), g.data(), d); }, "l1", near_target);
  for (double beta : {1.0, 0.1}) {
    GradCheckOptions smooth;  // smooth L1 is C1: its second derivative jumps at |d| = beta
    smooth.near_kink = [&](size_t i, const std::vector<double>& v) {
      return std::fabs(std::fabs(v[i] - t[i]) - beta) < 1e-3;
    };
    run([&](double* l) { cpu::smooth_l1_forward<double>(n, x.data(), t.data(), beta, l); },
        [&](double* d) { cpu::smooth_l1_backward<double>(n, x.data(), t.data(), beta, g.data(), d); },
        "smooth_l1", smooth);
  }
}

TEST(KernelsLoss, SmoothL1HandValues) {
  EXPECT_DOUBLE_EQ(smooth_l1_fwd(0.5, 0.0, 1.0), 0.125);
  EXPECT_DOUBLE_EQ(smooth_l1_fwd(3.0, 1.0, 1.0), 1.5);
  EXPECT_DOUBLE_EQ(smooth_l1_bwd(0.5, 0.0, 1.0), 0.5);
  EXPECT_DOUBLE_EQ(smooth_l1_bwd(-3.0, 0.0, 1.0), -1.0);
  std::vector<double> p{2.0, -1.0}, t{0.5, 0.0}, l(2);
  cpu::smooth_l1_forward(2, p.data(), t.data(), 0.0, l.data());  // beta 0 is L1
  EXPECT_EQ(l, (std::vector<double>{1.5, 1.0}));
  cpu::mse_forward(2, p.data(), t.data(), l.data());
  EXPECT_EQ(l, (std::vector<double>{2.25, 1.0}));
}

}  // namespace
}  // namespace locdet
