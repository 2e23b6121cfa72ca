// conv2d CPU reference: forward against a direct 7-loop convolution and hand values, and
// finite-difference checks of backward data / filter / bias in double for stride 1 and 2,
// pad 0 and 1, plus the 1x1 path that skips im2col.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/base/error.h"
#include "kernels/cpu/conv.h"
#include "tests/grad_check.h"

namespace locdet {
namespace {

using test::check_gradient;
using test::dot;
using test::random_uniform;

std::vector<double> direct_conv(const Conv2dDims& d, const std::vector<double>& x,
                                const std::vector<double>& w, const std::vector<double>& b) {
  const int oh = d.out_h(), ow = d.out_w();
  std::vector<double> y(static_cast<size_t>(d.n) * d.k * oh * ow);
  for (int n = 0; n < d.n; ++n)
    for (int k = 0; k < d.k; ++k)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double s = b.empty() ? 0.0 : b[k];
          for (int c = 0; c < d.c; ++c)
            for (int r = 0; r < d.r; ++r)
              for (int q = 0; q < d.s; ++q) {
                int iy = oy * d.stride - d.pad + r, ix = ox * d.stride - d.pad + q;
                if (iy < 0 || iy >= d.h || ix < 0 || ix >= d.w) continue;
                s += x[((n * d.c + c) * d.h + iy) * d.w + ix] * w[((k * d.c + c) * d.r + r) * d.s + q];
              }
          y[((n * d.k + k) * oh + oy) * ow + ox] = s;
        }
  return y;
}

struct ConvCase {
  int stride, pad, r;
};

class ConvGrad : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGrad, ForwardMatchesDirectAndBackwardMatchesFiniteDifferences) {
  const ConvCase cc = GetParam();
  Conv2dDims d{2, 3, 7, 6, 4, cc.r, cc.r, cc.stride, cc.pad};
  const size_t xs = size_t(d.n) * d.c * d.h * d.w, ws = size_t(d.k) * d.c * d.r * d.s;
  const size_t ys = size_t(d.n) * d.k * d.out_h() * d.out_w();
  auto x = random_uniform(xs, 1), w = random_uniform(ws, 2), b = random_uniform(d.k, 3),
       g = random_uniform(ys, 4);
  std::vector<double> work(cpu::conv2d_workspace_elems(d) + 1), y(ys);

  cpu::conv2d_forward(d, x.data(), w.data(), b.data(), y.data(), work.data());
  auto ref = direct_conv(d, x, w, b);
  for (size_t i = 0; i < ys; ++i) ASSERT_NEAR(y[i], ref[i], 1e-12) << "index " << i;
  // Without bias: the same minus the bias.
  cpu::conv2d_forward<double>(d, x.data(), w.data(), nullptr, y.data(), work.data());
  auto ref_nb = direct_conv(d, x, w, {});
  for (size_t i = 0; i < ys; ++i) ASSERT_NEAR(y[i], ref_nb[i], 1e-12) << "index " << i;

  std::vector<double> dx(xs), dw(ws), db(d.k);
  cpu::conv2d_backward_data(d, g.data(), w.data(), dx.data(), work.data());
  cpu::conv2d_backward_filter(d, x.data(), g.data(), dw.data(), db.data(), work.data());
  auto objective = [&] {
    cpu::conv2d_forward(d, x.data(), w.data(), b.data(), y.data(), work.data());
    return dot(g, y);
  };
  EXPECT_GRAD_OK(check_gradient(x, dx, objective), "conv dx");
  EXPECT_GRAD_OK(check_gradient(w, dw, objective), "conv dw");
  EXPECT_GRAD_OK(check_gradient(b, db, objective), "conv dbias");
}

INSTANTIATE_TEST_SUITE_P(KernelsConv, ConvGrad,
                         ::testing::Values(ConvCase{1, 0, 3}, ConvCase{1, 1, 3}, ConvCase{2, 0, 3},
                                           ConvCase{2, 1, 3}, ConvCase{1, 0, 1}, ConvCase{2, 0, 1},
                                           ConvCase{1, 2, 5}),
                         [](const ::testing::TestParamInfo<ConvCase>& info) {
                           const ConvCase& c = info.param;
                           return "k" + std::to_string(c.r) + "_stride" + std::to_string(c.stride) + "_pad" +
                                  std::to_string(c.pad);
                         });

TEST(KernelsConv, HandComputedForward) {
  // 1 channel 3x3 input, 2x2 filter of ones, bias 0.5: each output is a 2x2 window sum + 0.5.
  Conv2dDims d{1, 1, 3, 3, 1, 2, 2};
  std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8, 9}, w{1, 1, 1, 1}, b{0.5f}, y(4),
      work(cpu::conv2d_workspace_elems(d));
  cpu::conv2d_forward(d, x.data(), w.data(), b.data(), y.data(), work.data());
  EXPECT_EQ(y, (std::vector<float>{12.5f, 16.5f, 24.5f, 28.5f}));
  // Backward data of dy = 1 counts how many windows cover each input pixel.
  std::vector<float> dy(4, 1.0f), dx(9);
  cpu::conv2d_backward_data(d, dy.data(), w.data(), dx.data(), work.data());
  EXPECT_EQ(dx, (std::vector<float>{1, 2, 1, 2, 4, 2, 1, 2, 1}));
}

TEST(KernelsConv, FloatMatchesDoubleAtTrainingSize) {
  // The training hot path (64 x 16 x 48 x 60 -> 32 channels): float within 1e-4 relative of double.
  Conv2dDims d{4, 16, 48, 60, 32, 3, 3, 1, 1};
  const size_t xs = size_t(d.n) * d.c * d.h * d.w, ws = size_t(d.k) * d.c * 9,
               ys = size_t(d.n) * d.k * d.h * d.w;
  auto x = random_uniform(xs, 5), w = random_uniform(ws, 6);
  std::vector<float> xf(x.begin(), x.end()), wf(w.begin(), w.end()), yf(ys),
      workf(cpu::conv2d_workspace_elems(d));
  std::vector<double> y(ys), work(workf.size());
  cpu::conv2d_forward<double>(d, x.data(), w.data(), nullptr, y.data(), work.data());
  cpu::conv2d_forward<float>(d, xf.data(), wf.data(), nullptr, yf.data(), workf.data());
  for (size_t i = 0; i < ys; ++i) ASSERT_NEAR(yf[i], y[i], 1e-4 * (1 + std::fabs(y[i]))) << i;
}

TEST(KernelsConv, RejectsFilterLargerThanInput) {
  Conv2dDims d{1, 1, 2, 2, 1, 3, 3};
  EXPECT_THROW(cpu::conv2d_workspace_elems(d), Error);
}

}  // namespace
}  // namespace locdet
