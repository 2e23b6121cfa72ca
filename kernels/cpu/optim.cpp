#include "kernels/cpu/optim.h"

#include "kernels/base/error.h"

namespace locdet::cpu {

void adamw_step(int64_t n, float* param, const float* grad, float* m, float* v, const float* decay_mask,
                const AdamWParams& p, const float* lr, const int64_t* step) {
  LOCDET_CHECK(*step >= 1, "adamw_step: step must be 1-based and already incremented, got ", *step);
  const AdamWStepScalars scalars = adamw_step_scalars(p, *lr, *step);
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i)
    adamw_update(p, scalars, decay_mask ? decay_mask[i] : 1.0f, grad[i], &param[i], &m[i], &v[i]);
}

void sgd_step(int64_t n, float* param, const float* grad, float* momentum_buf, const float* decay_mask,
              float momentum, bool nesterov, float weight_decay, const float* lr) {
  LOCDET_CHECK(momentum == 0.0f || momentum_buf, "sgd_step: momentum ", momentum, " needs a momentum buffer");
  const float rate = *lr;
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i)
    sgd_update(rate, momentum, nesterov, weight_decay, decay_mask ? decay_mask[i] : 1.0f, grad[i], &param[i],
               momentum_buf ? &momentum_buf[i] : nullptr);
}

void ema_update(int64_t n, float* ema, const float* param, float decay, const int64_t* step) {
  LOCDET_CHECK(*step >= 1, "ema_update: step must be 1-based and already incremented, got ", *step);
  const float d = ema_decay_at(decay, *step);
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) ema[i] = ema_value(ema[i], param[i], d);
}

void lr_schedule_step(const LrSchedule& schedule, int64_t* step, float* lr) {
  ++*step;
  *lr = lr_at(schedule, *step);
}

}  // namespace locdet::cpu
