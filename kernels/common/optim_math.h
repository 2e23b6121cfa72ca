// Per-element optimizer math shared by the CPU loop (kernels/cpu/optim) and the CUDA kernels
// (kernels/cuda/optim): one definition of AdamW, SGD and the weight EMA, so both backends
// update a parameter with the same float operations in the same order.
#pragma once

#include <math.h>

#include <cstdint>

#include "kernels/common/hostdevice.h"

namespace locdet {

struct AdamWParams {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.01f;
};

// What an AdamW step computes once for all elements: the learning rate and the bias
// corrections (in double, like PyTorch's Python-side scalars). `step` is 1-based.
struct AdamWStepScalars {
  float rate, step_size, bc2_sqrt;
};

LOCDET_HD AdamWStepScalars adamw_step_scalars(const AdamWParams& p, float lr, int64_t step) {
  const double t = static_cast<double>(step);
  const double bc1 = 1.0 - pow(static_cast<double>(p.beta1), t);
  const double bc2 = 1.0 - pow(static_cast<double>(p.beta2), t);
  return {lr, static_cast<float>(lr / bc1), static_cast<float>(sqrt(bc2))};
}

// PyTorch AdamW for one element: decoupled decay (decay = 0 or 1 from the decay mask), then
// the moments, then p -= step_size * mhat / (sqrt(vhat) + eps).
LOCDET_HD void adamw_update(const AdamWParams& p, const AdamWStepScalars& s, float decay, float g,
                            float* param, float* m, float* v) {
  const float w = *param * (1.0f - s.rate * p.weight_decay * decay);
  const float mi = p.beta1 * *m + (1.0f - p.beta1) * g;
  const float vi = p.beta2 * *v + (1.0f - p.beta2) * g * g;
  *m = mi;
  *v = vi;
  *param = w - s.step_size * mi / (sqrtf(vi) / s.bc2_sqrt + p.eps);
}

// PyTorch SGD for one element: coupled decay g += wd * p; buf = momentum * buf + g (buf starts
// at 0, so the first step gives buf = g as PyTorch does); nesterov: g + momentum * buf.
// `buf` is unused when momentum == 0.
LOCDET_HD void sgd_update(float lr, float momentum, bool nesterov, float weight_decay, float decay,
                          float grad, float* param, float* buf) {
  float g = grad + weight_decay * decay * *param;
  if (momentum != 0.0f) {
    const float b = momentum * *buf + g;
    *buf = b;
    g = nesterov ? g + momentum * b : b;
  }
  *param -= lr * g;
}

// ema = decay * ema + (1 - decay) * param
LOCDET_HD float ema_value(float ema, float param, float decay) {
  return decay * ema + (1.0f - decay) * param;
}

// The decay of the weight average after `step` updates (1-based): min(decay, step / (step + 9)),
// the warm-up of TensorFlow's ExponentialMovingAverage(num_updates): the first update keeps 90%
// of the weights, so the average needs no initial copy and early weights fade quickly.
LOCDET_HD float ema_decay_at(float decay, int64_t step) {
  const float t = static_cast<float>(step);
  return fminf(decay, t / (t + 9.0f));
}

}  // namespace locdet
