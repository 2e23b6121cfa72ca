// Batch norm, max pooling and global average pooling on the CPU: hand values, running
// statistics, and finite-difference checks of every backward in double.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/pool.h"
#include "tests/grad_check.h"

namespace locdet {
namespace {

using test::check_gradient;
using test::dot;
using test::random_uniform;

TEST(KernelsBatchNorm, ForwardTrainHandValuesAndRunningStats) {
  // One channel, values 1..4: mean 2.5, biased var 1.25, unbiased 5/3.
  BatchNormDims d{2, 1, 2};
  std::vector<double> x{1, 2, 3, 4}, gamma{2}, beta{0.5}, y(4), mean(1), invstd(1), rm{1.0}, rv{1.0};
  cpu::batchnorm_forward_train(d, x.data(), gamma.data(), beta.data(), y.data(), mean.data(), invstd.data(),
                               rm.data(), rv.data(), 0.1, 1e-5);
  const double is = 1.0 / std::sqrt(1.25 + 1e-5);
  EXPECT_NEAR(mean[0], 2.5, 1e-15);
  EXPECT_NEAR(invstd[0], is, 1e-15);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], 2 * (x[i] - 2.5) * is + 0.5, 1e-14);
  EXPECT_NEAR(rm[0], 0.9 * 1.0 + 0.1 * 2.5, 1e-15);
  EXPECT_NEAR(rv[0], 0.9 * 1.0 + 0.1 * (5.0 / 3.0), 1e-15);

  // Eval uses the running statistics.
  cpu::batchnorm_forward_eval(d, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 1e-5, y.data());
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], 2 * (x[i] - rm[0]) / std::sqrt(rv[0] + 1e-5) + 0.5, 1e-14);
}

TEST(KernelsBatchNorm, ChannelsAreIndependentInNchw) {
  // n=2, c=2, hw=1: channel 0 sees {0, 2}, channel 1 sees {10, 30}.
  BatchNormDims d{2, 2, 1};
  std::vector<float> x{0, 10, 2, 30}, gamma{1, 1}, beta{0, 0}, y(4), mean(2), invstd(2);
  cpu::batchnorm_forward_train<float>(d, x.data(), gamma.data(), beta.data(), y.data(), mean.data(),
                                      invstd.data(), nullptr, nullptr, 0.1f, 0.0f);
  EXPECT_FLOAT_EQ(mean[0], 1.0f);
  EXPECT_FLOAT_EQ(mean[1], 20.0f);
  EXPECT_FLOAT_EQ(y[0], -1.0f);
  EXPECT_FLOAT_EQ(y[3], 1.0f);
}

TEST(KernelsBatchNorm, BackwardMatchesFiniteDifferences) {
  BatchNormDims d{3, 4, 5};
  const size_t size = size_t(d.n) * d.c * d.hw;
  auto x = random_uniform(size, 11, -2, 3), gamma = random_uniform(d.c, 12, 0.5, 1.5),
       beta = random_uniform(d.c, 13), g = random_uniform(size, 14);
  std::vector<double> y(size), mean(d.c), invstd(d.c), dx(size), dgamma(d.c), dbeta(d.c);
  auto objective = [&] {
    cpu::batchnorm_forward_train<double>(d, x.data(), gamma.data(), beta.data(), y.data(), mean.data(),
                                         invstd.data(), nullptr, nullptr, 0.1, 1e-5);
    return dot(g, y);
  };
  objective();
  cpu::batchnorm_backward(d, x.data(), g.data(), gamma.data(), mean.data(), invstd.data(), dx.data(),
                          dgamma.data(), dbeta.data());
  EXPECT_GRAD_OK(check_gradient(x, dx, objective), "bn dx");
  EXPECT_GRAD_OK(check_gradient(gamma, dgamma, objective), "bn dgamma");
  EXPECT_GRAD_OK(check_gradient(beta, dbeta, objective), "bn dbeta");
}

struct PoolCase {
  int kernel, stride, pad;
};
class MaxPoolGrad : public ::testing::TestWithParam<PoolCase> {};

TEST_P(MaxPoolGrad, BackwardMatchesFiniteDifferences) {
  const PoolCase pc = GetParam();
  Pool2dDims d{2, 3, 7, 6, pc.kernel, pc.stride, pc.pad};
  const size_t xs = size_t(d.n) * d.c * d.h * d.w, ys = size_t(d.n) * d.c * d.out_h() * d.out_w();
  // Distinct values (a shuffled ramp with spacing 0.01 >> h) so no window has a near-tie.
  std::vector<double> x(xs);
  auto keys = random_uniform(xs, 21);
  for (size_t i = 0; i < xs; ++i) {
    size_t rank = 0;
    for (size_t j = 0; j < xs; ++j) rank += keys[j] < keys[i];
    x[i] = 0.01 * static_cast<double>(rank) - 1.0;
  }
  auto g = random_uniform(ys, 22);
  std::vector<double> y(ys), dx(xs);
  std::vector<int32_t> arg(ys);
  auto objective = [&] {
    cpu::maxpool2d_forward(d, x.data(), y.data(), arg.data());
    return dot(g, y);
  };
  objective();
  cpu::maxpool2d_backward(d, g.data(), arg.data(), dx.data());
  EXPECT_GRAD_OK(check_gradient(x, dx, objective), "maxpool dx");
}

INSTANTIATE_TEST_SUITE_P(KernelsPool, MaxPoolGrad,
                         ::testing::Values(PoolCase{2, 2, 0}, PoolCase{3, 2, 1}, PoolCase{3, 1, 1},
                                           PoolCase{2, 1, 0}),
                         [](const ::testing::TestParamInfo<PoolCase>& info) {
                           const PoolCase& c = info.param;
                           return "k" + std::to_string(c.kernel) + "_stride" + std::to_string(c.stride) +
                                  "_pad" + std::to_string(c.pad);
                         });

TEST(KernelsPool, MaxPoolHandValues) {
  Pool2dDims d{1, 1, 4, 4, 2, 2, 0};
  std::vector<float> x{1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 1, 9, 0, 1, 7}, y(4), dx(16);
  std::vector<int32_t> arg(4);
  cpu::maxpool2d_forward(d, x.data(), y.data(), arg.data());
  EXPECT_EQ(y, (std::vector<float>{5, 8, 9, 7}));
  EXPECT_EQ(arg, (std::vector<int32_t>{1, 6, 12, 15}));
  std::vector<float> dy{1, 2, 3, 4};
  cpu::maxpool2d_backward(d, dy.data(), arg.data(), dx.data());
  std::vector<float> expect(16, 0.0f);
  expect[1] = 1, expect[6] = 2, expect[12] = 3, expect[15] = 4;
  EXPECT_EQ(dx, expect);
  // Ties: the first maximum in row-major window order wins.
  std::vector<float> flat(16, 1.0f);
  cpu::maxpool2d_forward(d, flat.data(), y.data(), arg.data());
  EXPECT_EQ(arg, (std::vector<int32_t>{0, 2, 8, 10}));
}

TEST(KernelsPool, MaxPoolPaddingNeverWins) {
  Pool2dDims d{1, 1, 2, 2, 2, 2, 1};  // 2x2 output, each window holds one real pixel
  std::vector<float> x{-5, -6, -7, -8}, y(4);
  std::vector<int32_t> arg(4);
  cpu::maxpool2d_forward(d, x.data(), y.data(), arg.data());
  EXPECT_EQ(y, x);
  EXPECT_EQ(arg, (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(KernelsPool, GlobalAvgPoolValuesAndGradient) {
  std::vector<double> x{1, 2, 3, 4, 10, 20, 30, 40}, y(2);
  cpu::global_avgpool_forward(1, 2, 4, x.data(), y.data());
  EXPECT_DOUBLE_EQ(y[0], 2.5);
  EXPECT_DOUBLE_EQ(y[1], 25.0);
  auto xr = random_uniform(2 * 3 * 5, 31), g = random_uniform(2 * 3, 32);
  std::vector<double> yr(6), dx(30);
  cpu::global_avgpool_backward(2, 3, 5, g.data(), dx.data());
  auto objective = [&] {
    cpu::global_avgpool_forward(2, 3, 5, xr.data(), yr.data());
    return dot(g, yr);
  };
  EXPECT_GRAD_OK(check_gradient(xr, dx, objective), "gap dx");
}

}  // namespace
}  // namespace locdet
