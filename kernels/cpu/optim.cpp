#include "kernels/cpu/optim.h"

#include <cmath>

#include "engine/core/error.h"

namespace locdet::cpu {

void adamw_step(int64_t n, float* param, const float* grad, float* m, float* v, const float* decay_mask,
                const AdamWParams& p, const float* lr, const int64_t* step) {
  LOCDET_CHECK(*step >= 1, "adamw_step: step must be 1-based and already incremented, got ", *step);
  const float rate = *lr;
  // Bias corrections in double, like PyTorch's Python-side scalars.
  const double bc1 = 1.0 - std::pow(static_cast<double>(p.beta1), static_cast<double>(*step));
  const double bc2 = 1.0 - std::pow(static_cast<double>(p.beta2), static_cast<double>(*step));
  const float step_size = static_cast<float>(rate / bc1), bc2_sqrt = static_cast<float>(std::sqrt(bc2));
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float decay = decay_mask ? decay_mask[i] : 1.0f;
    float w = param[i] * (1.0f - rate * p.weight_decay * decay);
    const float g = grad[i];
    const float mi = p.beta1 * m[i] + (1.0f - p.beta1) * g;
    const float vi = p.beta2 * v[i] + (1.0f - p.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = w - step_size * mi / (std::sqrt(vi) / bc2_sqrt + p.eps);
  }
}

void sgd_step(int64_t n, float* param, const float* grad, float* momentum_buf, const float* decay_mask,
              float momentum, bool nesterov, float weight_decay, const float* lr) {
  LOCDET_CHECK(momentum == 0.0f || momentum_buf, "sgd_step: momentum ", momentum, " needs a momentum buffer");
  const float rate = *lr;
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float decay = decay_mask ? decay_mask[i] : 1.0f;
    float g = grad[i] + weight_decay * decay * param[i];
    if (momentum != 0.0f) {
      const float b = momentum * momentum_buf[i] + g;
      momentum_buf[i] = b;
      g = nesterov ? g + momentum * b : b;
    }
    param[i] -= rate * g;
  }
}

void ema_update(int64_t n, float* ema, const float* param, float decay) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) ema[i] = decay * ema[i] + (1.0f - decay) * param[i];
}

void lr_schedule_step(const LrSchedule& schedule, int64_t* step, float* lr) {
  ++*step;
  *lr = lr_at(schedule, *step);
}

}  // namespace locdet::cpu
