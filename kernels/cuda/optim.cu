#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/optim.h"

namespace locdet::cuda {
namespace {

__global__ void adamw_kernel(int64_t n, float* __restrict__ param, const float* __restrict__ grad,
                             float* __restrict__ m, float* __restrict__ v,
                             const float* __restrict__ decay_mask, AdamWParams p, const float* lr,
                             const int64_t* step) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const AdamWStepScalars scalars = adamw_step_scalars(p, *lr, *step);
  adamw_update(p, scalars, decay_mask ? decay_mask[i] : 1.0f, grad[i], &param[i], &m[i], &v[i]);
}

__global__ void sgd_kernel(int64_t n, float* __restrict__ param, const float* __restrict__ grad,
                           float* __restrict__ buf, const float* __restrict__ decay_mask, float momentum,
                           bool nesterov, float weight_decay, const float* lr) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  sgd_update(*lr, momentum, nesterov, weight_decay, decay_mask ? decay_mask[i] : 1.0f, grad[i], &param[i],
             buf ? &buf[i] : nullptr);
}

__global__ void ema_kernel(int64_t n, float* __restrict__ ema, const float* __restrict__ param, float decay,
                           const int64_t* step) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) ema[i] = ema_value(ema[i], param[i], ema_decay_at(decay, *step));
}

__global__ void lr_schedule_kernel(LrSchedule schedule, int64_t* step, float* lr) {
  const int64_t s = *step + 1;
  *step = s;
  *lr = lr_at(schedule, s);
}

}  // namespace

void adamw_step(int64_t n, float* param, const float* grad, float* m, float* v, const float* decay_mask,
                const AdamWParams& params, const float* lr, const int64_t* step, cudaStream_t stream) {
  if (n <= 0) return;
  LOCDET_LAUNCH(adamw_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, n, param, grad, m, v, decay_mask,
                params, lr, step);
  CUDA_CHECK_LAUNCH();
}

void sgd_step(int64_t n, float* param, const float* grad, float* momentum_buf, const float* decay_mask,
              float momentum, bool nesterov, float weight_decay, const float* lr, cudaStream_t stream) {
  LOCDET_CHECK(momentum == 0.0f || momentum_buf, "sgd_step: momentum ", momentum, " needs a momentum buffer");
  if (n <= 0) return;
  LOCDET_LAUNCH(sgd_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, n, param, grad, momentum_buf,
                decay_mask, momentum, nesterov, weight_decay, lr);
  CUDA_CHECK_LAUNCH();
}

void ema_update(int64_t n, float* ema, const float* param, float decay, const int64_t* step,
                cudaStream_t stream) {
  if (n <= 0) return;
  LOCDET_LAUNCH(ema_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, n, ema, param, decay, step);
  CUDA_CHECK_LAUNCH();
}

void lr_schedule_step(const LrSchedule& schedule, int64_t* step, float* lr, cudaStream_t stream) {
  LOCDET_LAUNCH(lr_schedule_kernel, 1, 1, 0, stream, schedule, step, lr);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
