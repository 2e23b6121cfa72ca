// Fused optimizer kernels over one flat buffer, same semantics as kernels/cpu/optim.h.
// lr and step are DEVICE pointers (written by lr_schedule_step on the same stream), so a
// captured CUDA Graph replays the whole step including the schedule.
#pragma once

#include <cstdint>

#include "kernels/common/optim_math.h"
#include "kernels/common/schedule.h"
#include "kernels/cuda/context.h"

namespace locdet::cuda {

void adamw_step(int64_t n, float* param, const float* grad, float* m, float* v, const float* decay_mask,
                const AdamWParams& params, const float* lr, const int64_t* step, cudaStream_t stream);

void sgd_step(int64_t n, float* param, const float* grad, float* momentum_buf, const float* decay_mask,
              float momentum, bool nesterov, float weight_decay, const float* lr, cudaStream_t stream);

// The decay warms up with the device step counter (ema_decay_at), read on the device.
void ema_update(int64_t n, float* ema, const float* param, float decay, const int64_t* step,
                cudaStream_t stream);

// 1-thread kernel: ++*step; *lr = lr_at(schedule, *step).
void lr_schedule_step(const LrSchedule& schedule, int64_t* step, float* lr, cudaStream_t stream);

}  // namespace locdet::cuda
