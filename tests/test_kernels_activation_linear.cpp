// Activations and the linear layer on the CPU: hand values and finite-difference checks.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/linear.h"
#include "tests/grad_check.h"

namespace locdet {
namespace {

using test::check_gradient;
using test::dot;
using test::GradCheckOptions;
using test::random_uniform;

// relu / leaky relu have a kink at 0: skip inputs within 1e-3 of it (h is 1e-5).
GradCheckOptions kink_at_zero() {
  GradCheckOptions opt;
  opt.near_kink = [](size_t i, const std::vector<double>& x) { return std::fabs(x[i]) < 1e-3; };
  return opt;
}

TEST(KernelsActivation, HandValues) {
  std::vector<float> x{-2, -0.0f, 0.5f, 3}, y(4), dx(4), dy{1, 1, 1, 1};
  cpu::relu_forward<float>(4, x.data(), y.data());
  EXPECT_EQ(y, (std::vector<float>{0, 0, 0.5f, 3}));
  cpu::relu_backward<float>(4, x.data(), dy.data(), dx.data());
  EXPECT_EQ(dx, (std::vector<float>{0, 0, 1, 1}));
  cpu::leaky_relu_forward<float>(4, x.data(), y.data(), 0.1f);
  EXPECT_FLOAT_EQ(y[0], -0.2f);
  EXPECT_FLOAT_EQ(y[3], 3.0f);
  cpu::silu_forward<float>(4, x.data(), y.data());
  EXPECT_NEAR(y[0], -2.0 / (1.0 + std::exp(2.0)), 1e-7);
  EXPECT_NEAR(y[3], 3.0 / (1.0 + std::exp(-3.0)), 1e-6);
  // Large |x| must not overflow: silu(-100) ~ -100 e^-100, silu(100) = 100.
  std::vector<float> big{-100.0f, 100.0f}, out(2);
  cpu::silu_forward<float>(2, big.data(), out.data());
  EXPECT_NEAR(out[0], 0.0f, 1e-30);
  EXPECT_FLOAT_EQ(out[1], 100.0f);
}

TEST(KernelsActivation, BackwardsMatchFiniteDifferences) {
  const int n = 64;
  auto x = random_uniform(n, 41, -3, 3), g = random_uniform(n, 42);
  std::vector<double> y(n), dx(n);
  cpu::relu_backward<double>(n, x.data(), g.data(), dx.data());
  EXPECT_GRAD_OK(check_gradient(
                     x, dx,
                     [&] {
                       cpu::relu_forward<double>(n, x.data(), y.data());
                       return dot(g, y);
                     },
                     kink_at_zero()),
                 "relu");
  cpu::leaky_relu_backward<double>(n, x.data(), g.data(), dx.data(), 0.1);
  EXPECT_GRAD_OK(check_gradient(
                     x, dx,
                     [&] {
                       cpu::leaky_relu_forward<double>(n, x.data(), y.data(), 0.1);
                       return dot(g, y);
                     },
                     kink_at_zero()),
                 "leaky_relu");
  cpu::silu_backward<double>(n, x.data(), g.data(), dx.data());
  EXPECT_GRAD_OK(check_gradient(x, dx,
                                [&] {
                                  cpu::silu_forward<double>(n, x.data(), y.data());
                                  return dot(g, y);
                                }),
                 "silu");
}

TEST(KernelsLinear, HandValues) {
  // x [2,3], w [2,3] (PyTorch [out, in]), b [2].
  std::vector<float> x{1, 2, 3, 4, 5, 6}, w{1, 0, -1, 0.5f, 0.5f, 0.5f}, b{10, 20}, y(4);
  cpu::linear_forward(2, 3, 2, x.data(), w.data(), b.data(), y.data());
  EXPECT_EQ(y, (std::vector<float>{8, 23, 8, 27.5f}));
  cpu::linear_forward<float>(2, 3, 2, x.data(), w.data(), nullptr, y.data());
  EXPECT_EQ(y, (std::vector<float>{-2, 3, -2, 7.5f}));
}

TEST(KernelsLinear, BackwardMatchesFiniteDifferences) {
  const int m = 5, k = 7, n = 3;
  auto x = random_uniform(m * k, 51), w = random_uniform(n * k, 52), b = random_uniform(n, 53),
       g = random_uniform(m * n, 54);
  std::vector<double> y(m * n), dx(m * k), dw(n * k), db(n);
  cpu::linear_backward(m, k, n, x.data(), w.data(), g.data(), dx.data(), dw.data(), db.data());
  auto objective = [&] {
    cpu::linear_forward(m, k, n, x.data(), w.data(), b.data(), y.data());
    return dot(g, y);
  };
  EXPECT_GRAD_OK(check_gradient(x, dx, objective), "linear dx");
  EXPECT_GRAD_OK(check_gradient(w, dw, objective), "linear dw");
  EXPECT_GRAD_OK(check_gradient(b, db, objective), "linear db");
  // Null dx / db are allowed and dw is unchanged by them.
  std::vector<double> dw2(n * k);
  cpu::linear_backward<double>(m, k, n, x.data(), w.data(), g.data(), nullptr, dw2.data(), nullptr);
  EXPECT_EQ(dw, dw2);
}

}  // namespace
}  // namespace locdet
