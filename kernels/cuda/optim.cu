#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/optim.h"

namespace locdet::cuda {
namespace {

constexpr int kThreads = 256;
unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

__global__ void adamw_kernel(int64_t n, float* __restrict__ param, const float* __restrict__ grad,
                             float* __restrict__ m, float* __restrict__ v,
                             const float* __restrict__ decay_mask, AdamWParams p, const float* lr,
                             const int64_t* step) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float rate = *lr;
  // Same double-precision bias corrections as the CPU twin (and PyTorch's Python scalars).
  const double t = static_cast<double>(*step);
  const float step_size = static_cast<float>(rate / (1.0 - pow(static_cast<double>(p.beta1), t)));
  const float bc2_sqrt = static_cast<float>(sqrt(1.0 - pow(static_cast<double>(p.beta2), t)));
  const float decay = decay_mask ? decay_mask[i] : 1.0f;
  const float w = param[i] * (1.0f - rate * p.weight_decay * decay);
  const float g = grad[i];
  const float mi = p.beta1 * m[i] + (1.0f - p.beta1) * g;
  const float vi = p.beta2 * v[i] + (1.0f - p.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = w - step_size * mi / (sqrtf(vi) / bc2_sqrt + p.eps);
}

__global__ void sgd_kernel(int64_t n, float* __restrict__ param, const float* __restrict__ grad,
                           float* __restrict__ buf, const float* __restrict__ decay_mask, float momentum,
                           bool nesterov, float weight_decay, const float* lr) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float decay = decay_mask ? decay_mask[i] : 1.0f;
  float g = grad[i] + weight_decay * decay * param[i];
  if (momentum != 0.0f) {
    const float b = momentum * buf[i] + g;
    buf[i] = b;
    g = nesterov ? g + momentum * b : b;
  }
  param[i] -= *lr * g;
}

__global__ void ema_kernel(int64_t n, float* __restrict__ ema, const float* __restrict__ param, float decay) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) ema[i] = decay * ema[i] + (1.0f - decay) * param[i];
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
  adamw_kernel<<<blocks_for(n), kThreads, 0, stream>>>(n, param, grad, m, v, decay_mask, params, lr, step);
  CUDA_CHECK_LAUNCH();
}

void sgd_step(int64_t n, float* param, const float* grad, float* momentum_buf, const float* decay_mask,
              float momentum, bool nesterov, float weight_decay, const float* lr, cudaStream_t stream) {
  LOCDET_CHECK(momentum == 0.0f || momentum_buf, "sgd_step: momentum ", momentum, " needs a momentum buffer");
  if (n <= 0) return;
  sgd_kernel<<<blocks_for(n), kThreads, 0, stream>>>(n, param, grad, momentum_buf, decay_mask, momentum,
                                                     nesterov, weight_decay, lr);
  CUDA_CHECK_LAUNCH();
}

void ema_update(int64_t n, float* ema, const float* param, float decay, cudaStream_t stream) {
  if (n <= 0) return;
  ema_kernel<<<blocks_for(n), kThreads, 0, stream>>>(n, ema, param, decay);
  CUDA_CHECK_LAUNCH();
}

void lr_schedule_step(const LrSchedule& schedule, int64_t* step, float* lr, cudaStream_t stream) {
  lr_schedule_kernel<<<1, 1, 0, stream>>>(schedule, step, lr);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
