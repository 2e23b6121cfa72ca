// Optimizers and LR schedules against hand-computed PyTorch formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/base/error.h"
#include "kernels/common/schedule.h"
#include "kernels/cpu/optim.h"

namespace locdet {
namespace {

TEST(KernelsOptim, AdamWTwoStepsMatchHandMath) {
  AdamWParams p{0.9f, 0.999f, 1e-8f, 0.1f};
  std::vector<float> w{1.0f, -2.0f}, g{0.5f, 0.25f}, m(2, 0.0f), v(2, 0.0f), mask{1.0f, 0.0f};
  const float lr = 0.01f;
  double wd[2] = {1.0, -2.0}, md[2] = {0, 0}, vd[2] = {0, 0};
  for (int64_t step = 1; step <= 2; ++step) {
    cpu::adamw_step(2, w.data(), g.data(), m.data(), v.data(), mask.data(), p, &lr, &step);
    for (int i = 0; i < 2; ++i) {
      wd[i] *= 1.0 - 0.01 * 0.1 * mask[i];
      md[i] = 0.9 * md[i] + 0.1 * g[i];
      vd[i] = 0.999 * vd[i] + 0.001 * g[i] * g[i];
      const double mhat = md[i] / (1 - std::pow(0.9, step)), vhat = vd[i] / (1 - std::pow(0.999, step));
      wd[i] -= 0.01 * mhat / (std::sqrt(vhat) + 1e-8);
      EXPECT_NEAR(w[i], wd[i], 1e-6) << "step " << step << " index " << i;
      EXPECT_NEAR(m[i], md[i], 1e-7);
      EXPECT_NEAR(v[i], vd[i], 2e-5 * vd[i]);  // float(1 - 0.999f) is 1.3e-5 off 0.001
    }
  }
  // Step 1 moves each weight by about lr (Adam's unit step), plus decay on the masked one.
  EXPECT_NEAR(w[1], -2.0 - 2 * 0.01, 1e-4);
}

TEST(KernelsOptim, SgdMomentumNesterovAndDecay) {
  std::vector<float> w{1.0f}, g{0.5f}, buf{0.0f};
  const float lr = 0.1f;
  // Plain momentum 0.9, wd 0.01: step 1 buf = g + wd w = 0.51; w = 1 - 0.051.
  cpu::sgd_step(1, w.data(), g.data(), buf.data(), nullptr, 0.9f, false, 0.01f, &lr);
  EXPECT_NEAR(buf[0], 0.51f, 1e-7);
  EXPECT_NEAR(w[0], 0.949f, 1e-7);
  // Step 2: d = 0.5 + 0.01*0.949; buf = 0.9*0.51 + d; w -= 0.1 buf.
  const double d2 = 0.5 + 0.01 * 0.949, b2 = 0.9 * 0.51 + d2;
  cpu::sgd_step(1, w.data(), g.data(), buf.data(), nullptr, 0.9f, false, 0.01f, &lr);
  EXPECT_NEAR(w[0], 0.949 - 0.1 * b2, 1e-6);
  // Nesterov: update with g + momentum * buf.
  std::vector<float> wn{1.0f}, bn{0.0f};
  cpu::sgd_step(1, wn.data(), g.data(), bn.data(), nullptr, 0.9f, true, 0.0f, &lr);
  EXPECT_NEAR(wn[0], 1.0 - 0.1 * (0.5 + 0.9 * 0.5), 1e-7);
  // No momentum, no buffer.
  std::vector<float> w0{1.0f};
  cpu::sgd_step(1, w0.data(), g.data(), nullptr, nullptr, 0.0f, false, 0.0f, &lr);
  EXPECT_FLOAT_EQ(w0[0], 0.95f);
}

TEST(KernelsOptim, EmaUpdate) {
  // Past the warm-up (step 991: 991/1000 > 0.99) the decay is the configured one.
  std::vector<float> ema{1.0f, 0.0f}, p{0.0f, 1.0f};
  const int64_t late = 991;
  cpu::ema_update(2, ema.data(), p.data(), 0.99f, &late);
  EXPECT_FLOAT_EQ(ema[0], 0.99f);
  EXPECT_NEAR(ema[1], 0.01f, 1e-8);
}

TEST(KernelsOptim, EmaDecayWarmsUpWithTheStep) {
  EXPECT_FLOAT_EQ(ema_decay_at(0.999f, 1), 0.1f);  // the first update keeps 90% of the weights
  EXPECT_FLOAT_EQ(ema_decay_at(0.999f, 11), 0.55f);
  EXPECT_FLOAT_EQ(ema_decay_at(0.999f, 100000), 0.999f);
  // From zeros, the average after step 1 is 0.9 * param: no separate initial copy needed.
  std::vector<float> ema{0.0f}, p{2.0f};
  const int64_t first = 1, second = 2;
  cpu::ema_update(1, ema.data(), p.data(), 0.999f, &first);
  EXPECT_FLOAT_EQ(ema[0], 1.8f);
  p[0] = 4.0f;
  cpu::ema_update(1, ema.data(), p.data(), 0.999f, &second);  // d = 2/11
  EXPECT_NEAR(ema[0], (2.0 / 11) * 1.8 + (9.0 / 11) * 4.0, 1e-6);
  const int64_t zero = 0;
  EXPECT_THROW(cpu::ema_update(1, ema.data(), p.data(), 0.999f, &zero), Error);
}

TEST(KernelsOptim, LrScheduleValues) {
  LrSchedule constant{LrSchedule::kConstant, 0.1f, 0.0f, 0, 100};
  EXPECT_FLOAT_EQ(lr_at(constant, 1), 0.1f);
  EXPECT_FLOAT_EQ(lr_at(constant, 1000), 0.1f);

  LrSchedule cosine{LrSchedule::kWarmupCosine, 1.0f, 0.1f, 10, 110};
  EXPECT_FLOAT_EQ(lr_at(cosine, 1), 0.1f);
  EXPECT_FLOAT_EQ(lr_at(cosine, 5), 0.5f);
  EXPECT_FLOAT_EQ(lr_at(cosine, 10), 1.0f);
  EXPECT_NEAR(lr_at(cosine, 60), 0.55f, 1e-6);  // halfway: (1 + 0.1) / 2
  EXPECT_FLOAT_EQ(lr_at(cosine, 110), 0.1f);
  EXPECT_FLOAT_EQ(lr_at(cosine, 500), 0.1f);

  LrSchedule one_cycle{LrSchedule::kOneCycle, 1.0f, 0.0f, 10, 30};
  EXPECT_NEAR(lr_at(one_cycle, 0), 0.04f, 1e-7);
  EXPECT_NEAR(lr_at(one_cycle, 5), 0.52f, 1e-6);  // halfway up: (0.04 + 1) / 2
  EXPECT_FLOAT_EQ(lr_at(one_cycle, 10), 1.0f);
  EXPECT_NEAR(lr_at(one_cycle, 20), 0.5f, 1e-6);
  EXPECT_NEAR(lr_at(one_cycle, 30), 0.0f, 1e-7);

  // lr_schedule_step increments the step first, then writes the lr for it.
  int64_t step = 0;
  float lr = -1.0f;
  cpu::lr_schedule_step(cosine, &step, &lr);
  EXPECT_EQ(step, 1);
  EXPECT_FLOAT_EQ(lr, 0.1f);
}

}  // namespace
}  // namespace locdet
