// Learning-rate schedules as pure functions of the 1-based step, shared by the CPU
// optimizer path and the 1-thread CUDA kernel that a captured training step replays.
// Computed in double so both backends produce the same float.
//   kConstant:     base_lr
//   kWarmupCosine: linear warm-up base_lr * step / warmup_steps, then cosine from base_lr to
//                  min_lr over the remaining total_steps - warmup_steps; min_lr afterwards.
//   kOneCycle:     cosine from base_lr / 25 up to base_lr over warmup_steps, then cosine down
//                  to min_lr at total_steps (PyTorch OneCycleLR's shape with pct_start =
//                  warmup_steps / total_steps, div_factor 25, final lr = min_lr).
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common/hostdevice.h"

namespace locdet {

struct LrSchedule {
  enum Kind : int { kConstant = 0, kWarmupCosine = 1, kOneCycle = 2 };
  int kind = kConstant;
  float base_lr = 1e-3f, min_lr = 0.0f;
  int64_t warmup_steps = 0, total_steps = 1;
};

namespace detail {
// Cosine interpolation from a (t = 0) to b (t = 1), t clamped to [0, 1].
LOCDET_HD double cosine_between(double a, double b, double t) {
  t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
  return b + (a - b) * 0.5 * (1.0 + cos(3.14159265358979323846 * t));
}
}  // namespace detail

LOCDET_HD float lr_at(const LrSchedule& s, int64_t step) {
  const double base = s.base_lr, low = s.min_lr;
  if (s.kind == LrSchedule::kWarmupCosine) {
    if (step <= s.warmup_steps && s.warmup_steps > 0) return static_cast<float>(base * step / s.warmup_steps);
    int64_t span = s.total_steps - s.warmup_steps;
    double t = span > 0 ? static_cast<double>(step - s.warmup_steps) / span : 1.0;
    return static_cast<float>(detail::cosine_between(base, low, t));
  }
  if (s.kind == LrSchedule::kOneCycle) {
    const double initial = base / 25.0;
    if (step <= s.warmup_steps && s.warmup_steps > 0)
      return static_cast<float>(
          detail::cosine_between(initial, base, static_cast<double>(step) / s.warmup_steps));
    int64_t span = s.total_steps - s.warmup_steps;
    double t = span > 0 ? static_cast<double>(step - s.warmup_steps) / span : 1.0;
    return static_cast<float>(detail::cosine_between(base, low, t));
  }
  return s.base_lr;
}

}  // namespace locdet
