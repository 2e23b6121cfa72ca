// Optimizers as single fused elementwise passes over ONE flat buffer (the engine lays all
// parameters, gradients and optimizer states out contiguously). Float only. lr and step are
// read through pointers (on the CUDA twin: device memory) so a captured CUDA Graph replays
// the LR schedule without host round trips. decay_mask[i] is 1 (decay) or 0 (no weight decay,
// e.g. biases and norm parameters); null means decay everything.
#pragma once

#include <cstdint>

#include "kernels/common/optim_math.h"
#include "kernels/common/schedule.h"

namespace locdet {

namespace cpu {

// PyTorch AdamW: p -= lr*wd*p; m,v moments; p -= lr * mhat / (sqrt(vhat) + eps).
// *step is 1-based and already incremented for this step.
void adamw_step(int64_t n, float* param, const float* grad, float* m, float* v, const float* decay_mask,
                const AdamWParams& params, const float* lr, const int64_t* step);

// PyTorch SGD: g += wd*p (coupled decay); buf = momentum*buf + g (buf must start at 0: the first
// step then gives buf = g exactly as PyTorch); nesterov: g + momentum*buf, else buf; p -= lr*that.
// momentum_buf may be null when momentum == 0.
void sgd_step(int64_t n, float* param, const float* grad, float* momentum_buf, const float* decay_mask,
              float momentum, bool nesterov, float weight_decay, const float* lr);

// ema = d * ema + (1 - d) * param with d = ema_decay_at(decay, *step); *step is 1-based (the
// step the optimizer just took).
void ema_update(int64_t n, float* ema, const float* param, float decay, const int64_t* step);

// ++*step, then *lr = lr_at(schedule, *step).
void lr_schedule_step(const LrSchedule& schedule, int64_t* step, float* lr);

}  // namespace cpu
}  // namespace locdet
