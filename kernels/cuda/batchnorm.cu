#include <cstdint>

#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/reduce.cuh"

namespace locdet::cuda {
namespace {

// One block of 1024 threads per channel; __launch_bounds__ keeps ptxas at <= 64 registers
// so the launch cannot fail for lack of registers (36-38 with CUDA 13, sm_90).
constexpr int kThreads = 1024;

// Element e of channel ch in [0, n*hw): NCHW offset.
__device__ __forceinline__ int64_t bn_offset(int64_t e, int ch, int c, int hw) {
  const int64_t i = e / hw, j = e - i * hw;
  return (i * c + ch) * hw + j;
}

__global__ void __launch_bounds__(kThreads)
    bn_forward_train_kernel(BatchNormDims d, const float* __restrict__ x, const float* gamma,
                            const float* beta, float* __restrict__ y, float* save_mean, float* save_invstd,
                            float* running_mean, float* running_var, float momentum, float eps) {
  __shared__ double scratch[32];
  const int ch = blockIdx.x;
  const int64_t count = static_cast<int64_t>(d.n) * d.hw;
  double sum = 0.0;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) sum += x[bn_offset(e, ch, d.c, d.hw)];
  const double mean = block_sum(sum, scratch) / count;
  double sq = 0.0;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    const double v = x[bn_offset(e, ch, d.c, d.hw)] - mean;
    sq += v * v;
  }
  const double var = block_sum(sq, scratch) / count;
  const double invstd = 1.0 / sqrt(var + static_cast<double>(eps));
  if (threadIdx.x == 0) {
    save_mean[ch] = static_cast<float>(mean);
    save_invstd[ch] = static_cast<float>(invstd);
    if (running_mean && running_var) {
      const double unbiased = count > 1 ? var * count / (count - 1) : var;
      running_mean[ch] = static_cast<float>((1.0 - momentum) * running_mean[ch] + momentum * mean);
      running_var[ch] = static_cast<float>((1.0 - momentum) * running_var[ch] + momentum * unbiased);
    }
  }
  const float scale = static_cast<float>(gamma[ch] * invstd);
  const float shift = static_cast<float>(beta[ch] - mean * gamma[ch] * invstd);
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    const int64_t o = bn_offset(e, ch, d.c, d.hw);
    y[o] = x[o] * scale + shift;
  }
}

__global__ void bn_forward_eval_kernel(BatchNormDims d, int64_t total, const float* __restrict__ x,
                                       const float* gamma, const float* beta, const float* running_mean,
                                       const float* running_var, float eps, float* __restrict__ y) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= total) return;
  const int ch = static_cast<int>((e / d.hw) % d.c);
  const double invstd = 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
  const float scale = static_cast<float>(gamma[ch] * invstd);
  const float shift = static_cast<float>(beta[ch] - running_mean[ch] * gamma[ch] * invstd);
  y[e] = x[e] * scale + shift;
}

__global__ void __launch_bounds__(kThreads)
    bn_backward_kernel(BatchNormDims d, const float* __restrict__ x, const float* __restrict__ dy,
                       const float* gamma, const float* save_mean, const float* save_invstd,
                       float* __restrict__ dx, float* dgamma, float* dbeta) {
  __shared__ double scratch[32];
  const int ch = blockIdx.x;
  const int64_t count = static_cast<int64_t>(d.n) * d.hw;
  const float mean = save_mean[ch], invstd = save_invstd[ch];
  double sum_dy = 0.0, sum_dy_xhat = 0.0;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    const int64_t o = bn_offset(e, ch, d.c, d.hw);
    const double g = dy[o];
    sum_dy += g;
    sum_dy_xhat += g * ((static_cast<double>(x[o]) - mean) * invstd);
  }
  sum_dy = block_sum(sum_dy, scratch);
  sum_dy_xhat = block_sum(sum_dy_xhat, scratch);
  if (threadIdx.x == 0) {
    dbeta[ch] = static_cast<float>(sum_dy);
    dgamma[ch] = static_cast<float>(sum_dy_xhat);
  }
  // dx = k * (count * dy - sum_dy - xhat * sum_dy_xhat), k = gamma * invstd / count
  const float k = static_cast<float>(static_cast<double>(gamma[ch]) * invstd / count);
  const float a = static_cast<float>(sum_dy), b = static_cast<float>(sum_dy_xhat);
  const float cnt = static_cast<float>(count);
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    const int64_t o = bn_offset(e, ch, d.c, d.hw);
    const float xhat = (x[o] - mean) * invstd;
    dx[o] = k * (cnt * dy[o] - a - xhat * b);
  }
}

void check_dims(const BatchNormDims& d) {
  LOCDET_CHECK(d.n > 0 && d.c > 0 && d.hw > 0, "batchnorm: n, c, hw must be positive (n=", d.n, " c=", d.c,
               " hw=", d.hw, ")");
}

}  // namespace

void batchnorm_forward_train(const BatchNormDims& d, const float* x, const float* gamma, const float* beta,
                             float* y, float* save_mean, float* save_invstd, float* running_mean,
                             float* running_var, float momentum, float eps, cudaStream_t stream) {
  check_dims(d);
  LOCDET_LAUNCH(bn_forward_train_kernel, d.c, kThreads, 0, stream, d, x, gamma, beta, y, save_mean,
                save_invstd, running_mean, running_var, momentum, eps);
  CUDA_CHECK_LAUNCH();
}

void batchnorm_forward_eval(const BatchNormDims& d, const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float eps, float* y,
                            cudaStream_t stream) {
  check_dims(d);
  const int64_t total = static_cast<int64_t>(d.n) * d.c * d.hw;
  LOCDET_LAUNCH(bn_forward_eval_kernel, blocks_for(total), kThreadsPerBlock, 0, stream, d, total, x, gamma,
                beta, running_mean, running_var, eps, y);
  CUDA_CHECK_LAUNCH();
}

void batchnorm_backward(const BatchNormDims& d, const float* x, const float* dy, const float* gamma,
                        const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                        float* dbeta, cudaStream_t stream) {
  check_dims(d);
  LOCDET_LAUNCH(bn_backward_kernel, d.c, kThreads, 0, stream, d, x, dy, gamma, save_mean, save_invstd, dx,
                dgamma, dbeta);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
