#include <cstdint>

#include "kernels/common/loss_math.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/loss.h"

namespace locdet::cuda {
namespace {

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_add(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// One warp per row; every lane ends with the row's log-sum-exp and logit sum (xor butterfly,
// fixed order, so all lanes hold identical values and results are deterministic).
__device__ void row_stats(const float* row, int classes, float* lse, float* sum) {
  const int lane = threadIdx.x & 31;
  float mx = -INFINITY;
  for (int j = lane; j < classes; j += 32) mx = fmaxf(mx, row[j]);
  mx = warp_max(mx);
  float se = 0.0f, s = 0.0f;
  for (int j = lane; j < classes; j += 32) {
    se += expf(row[j] - mx);
    s += row[j];
  }
  *lse = mx + logf(warp_add(se));
  *sum = warp_add(s);
}

__global__ void ce_forward_kernel(int n, int classes, const float* __restrict__ logits,
                                  const int32_t* __restrict__ labels, float smoothing,
                                  float* __restrict__ loss) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  if (row >= n) return;  // whole warps exit together: row is uniform within a warp
  const int label = labels[row];
  if (label < 0 || label >= classes) {  // out-of-range labels are rejected by the CPU twin; here: ignored
    if ((threadIdx.x & 31) == 0) loss[row] = 0.0f;
    return;
  }
  const float* x = logits + static_cast<int64_t>(row) * classes;
  float lse, sum;
  row_stats(x, classes, &lse, &sum);
  if ((threadIdx.x & 31) == 0) loss[row] = ce_row_loss(lse, x[label], sum, classes, smoothing);
}

__global__ void ce_backward_kernel(int n, int classes, const float* __restrict__ logits,
                                   const int32_t* __restrict__ labels, float smoothing,
                                   const float* __restrict__ dloss, float* __restrict__ dlogits) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  if (row >= n) return;
  const int lane = threadIdx.x & 31;
  const int label = labels[row];
  const float* x = logits + static_cast<int64_t>(row) * classes;
  float* out = dlogits + static_cast<int64_t>(row) * classes;
  if (label < 0 || label >= classes) {
    for (int j = lane; j < classes; j += 32) out[j] = 0.0f;
    return;
  }
  float lse, sum;
  row_stats(x, classes, &lse, &sum);
  const float g = dloss[row];
  for (int j = lane; j < classes; j += 32)
    out[j] = g * ce_row_grad(x[j], lse, j == label, classes, smoothing);
}

// A row's log-sum-exp and expected bin, one exp per bin, in every lane of the row's warp.
__device__ void row_expectation(const float* row, int bins, float* lse, float* expectation) {
  const int lane = threadIdx.x & 31;
  float mx = -INFINITY;
  for (int j = lane; j < bins; j += 32) mx = fmaxf(mx, row[j]);
  mx = warp_max(mx);
  float se = 0.0f, weighted = 0.0f;
  for (int j = lane; j < bins; j += 32) {
    const float e = expf(row[j] - mx);
    se += e;
    weighted += static_cast<float>(j) * e;
  }
  se = warp_add(se);
  *lse = mx + logf(se);
  *expectation = warp_add(weighted) / se;
}

__global__ void bin_expectation_forward_kernel(int n, int bins, const float* __restrict__ logits,
                                               float* __restrict__ expectation) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  if (row >= n) return;
  float lse, e;
  row_expectation(logits + static_cast<int64_t>(row) * bins, bins, &lse, &e);
  if ((threadIdx.x & 31) == 0) expectation[row] = e;
}

// Rows with a zero incoming gradient (every cell but the positive ones) skip the softmax.
__global__ void bin_expectation_backward_kernel(int n, int bins, const float* __restrict__ logits,
                                                const float* __restrict__ dexpectation,
                                                float* __restrict__ dlogits) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  if (row >= n) return;
  const float* x = logits + static_cast<int64_t>(row) * bins;
  float* out = dlogits + static_cast<int64_t>(row) * bins;
  const float g = dexpectation[row];
  if (g == 0.0f) {
    for (int j = threadIdx.x & 31; j < bins; j += 32) out[j] = 0.0f;
    return;
  }
  float lse, e;
  row_expectation(x, bins, &lse, &e);
  for (int j = threadIdx.x & 31; j < bins; j += 32) out[j] = g * bin_expectation_grad(x[j], j, lse, e);
}

__global__ void distribution_focal_forward_kernel(int n, int bins, const float* __restrict__ logits,
                                                  const float* __restrict__ targets,
                                                  float* __restrict__ loss) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  if (row >= n) return;
  const float* x = logits + static_cast<int64_t>(row) * bins;
  float lse, sum;
  row_stats(x, bins, &lse, &sum);
  const BinSplit<float> s = split_between_bins(targets[row], bins);
  if ((threadIdx.x & 31) == 0) loss[row] = distribution_focal_row_loss(lse, x[s.left], x[s.left + 1], s);
}

__global__ void distribution_focal_backward_kernel(int n, int bins, const float* __restrict__ logits,
                                                   const float* __restrict__ targets,
                                                   const float* __restrict__ dloss,
                                                   float* __restrict__ dlogits) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  if (row >= n) return;
  const float* x = logits + static_cast<int64_t>(row) * bins;
  float* out = dlogits + static_cast<int64_t>(row) * bins;
  const float g = dloss[row];
  if (g == 0.0f) {
    for (int j = threadIdx.x & 31; j < bins; j += 32) out[j] = 0.0f;
    return;
  }
  float lse, sum;
  row_stats(x, bins, &lse, &sum);
  const BinSplit<float> s = split_between_bins(targets[row], bins);
  for (int j = threadIdx.x & 31; j < bins; j += 32) out[j] = g * distribution_focal_row_grad(x[j], j, lse, s);
}

template <class Op>
__global__ void pair_kernel(int64_t n, const float* __restrict__ a, const float* __restrict__ b,
                            float* __restrict__ out, Op op) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = op(a[i], b[i]);
}
template <class Op>
__global__ void pair_grad_kernel(int64_t n, const float* __restrict__ a, const float* __restrict__ b,
                                 const float* __restrict__ dloss, float* __restrict__ out, Op op) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = dloss[i] * op(a[i], b[i]);
}

template <class Op>
void launch_fwd(int64_t n, const float* a, const float* b, float* out, Op op, cudaStream_t s) {
  if (n <= 0) return;
  LOCDET_LAUNCH(pair_kernel<Op>, blocks_for(n), kThreadsPerBlock, 0, s, n, a, b, out, op);
  CUDA_CHECK_LAUNCH();
}
template <class Op>
void launch_bwd(int64_t n, const float* a, const float* b, const float* dloss, float* out, Op op,
                cudaStream_t s) {
  if (n <= 0) return;
  LOCDET_LAUNCH(pair_grad_kernel<Op>, blocks_for(n), kThreadsPerBlock, 0, s, n, a, b, dloss, out, op);
  CUDA_CHECK_LAUNCH();
}

struct BceF {
  __device__ float operator()(float x, float t) const { return bce_logits_fwd(x, t); }
};
struct BceB {
  __device__ float operator()(float x, float t) const { return bce_logits_bwd(x, t); }
};
struct FocalF {
  float alpha, gamma;
  __device__ float operator()(float x, float t) const { return focal_fwd(x, t, alpha, gamma); }
};
struct FocalB {
  float alpha, gamma;
  __device__ float operator()(float x, float t) const { return focal_bwd(x, t, alpha, gamma); }
};
struct MseF {
  __device__ float operator()(float p, float t) const { return mse_fwd(p, t); }
};
struct MseB {
  __device__ float operator()(float p, float t) const { return mse_bwd(p, t); }
};
struct L1F {
  __device__ float operator()(float p, float t) const { return l1_fwd(p, t); }
};
struct L1B {
  __device__ float operator()(float p, float t) const { return l1_bwd(p, t); }
};
struct SmoothL1F {
  float beta;
  __device__ float operator()(float p, float t) const {
    return beta > 0.0f ? smooth_l1_fwd(p, t, beta) : l1_fwd(p, t);
  }
};
struct SmoothL1B {
  float beta;
  __device__ float operator()(float p, float t) const {
    return beta > 0.0f ? smooth_l1_bwd(p, t, beta) : l1_bwd(p, t);
  }
};

unsigned ce_blocks(int n) {
  return static_cast<unsigned>((static_cast<int64_t>(n) * 32 + kThreadsPerBlock - 1) / kThreadsPerBlock);
}

}  // namespace

void softmax_cross_entropy_forward(int n, int classes, const float* logits, const int32_t* labels,
                                   float smoothing, float* loss, cudaStream_t stream) {
  LOCDET_CHECK(n >= 0 && classes > 0, "softmax_cross_entropy: need n >= 0 and classes > 0");
  if (n == 0) return;
  LOCDET_LAUNCH(ce_forward_kernel, ce_blocks(n), kThreadsPerBlock, 0, stream, n, classes, logits, labels,
                smoothing, loss);
  CUDA_CHECK_LAUNCH();
}

void softmax_cross_entropy_backward(int n, int classes, const float* logits, const int32_t* labels,
                                    float smoothing, const float* dloss, float* dlogits,
                                    cudaStream_t stream) {
  LOCDET_CHECK(n >= 0 && classes > 0, "softmax_cross_entropy: need n >= 0 and classes > 0");
  if (n == 0) return;
  LOCDET_LAUNCH(ce_backward_kernel, ce_blocks(n), kThreadsPerBlock, 0, stream, n, classes, logits, labels,
                smoothing, dloss, dlogits);
  CUDA_CHECK_LAUNCH();
}

void bin_expectation_forward(int n, int bins, const float* logits, float* expectation, cudaStream_t stream) {
  LOCDET_CHECK(n >= 0 && bins >= 2, "bin_expectation: need n >= 0 and bins >= 2");
  if (n == 0) return;
  LOCDET_LAUNCH(bin_expectation_forward_kernel, ce_blocks(n), kThreadsPerBlock, 0, stream, n, bins, logits,
                expectation);
  CUDA_CHECK_LAUNCH();
}
void bin_expectation_backward(int n, int bins, const float* logits, const float* dexpectation, float* dlogits,
                              cudaStream_t stream) {
  LOCDET_CHECK(n >= 0 && bins >= 2, "bin_expectation: need n >= 0 and bins >= 2");
  if (n == 0) return;
  LOCDET_LAUNCH(bin_expectation_backward_kernel, ce_blocks(n), kThreadsPerBlock, 0, stream, n, bins, logits,
                dexpectation, dlogits);
  CUDA_CHECK_LAUNCH();
}
void distribution_focal_forward(int n, int bins, const float* logits, const float* targets, float* loss,
                                cudaStream_t stream) {
  LOCDET_CHECK(n >= 0 && bins >= 2, "distribution_focal: need n >= 0 and bins >= 2");
  if (n == 0) return;
  LOCDET_LAUNCH(distribution_focal_forward_kernel, ce_blocks(n), kThreadsPerBlock, 0, stream, n, bins, logits,
                targets, loss);
  CUDA_CHECK_LAUNCH();
}
void distribution_focal_backward(int n, int bins, const float* logits, const float* targets,
                                 const float* dloss, float* dlogits, cudaStream_t stream) {
  LOCDET_CHECK(n >= 0 && bins >= 2, "distribution_focal: need n >= 0 and bins >= 2");
  if (n == 0) return;
  LOCDET_LAUNCH(distribution_focal_backward_kernel, ce_blocks(n), kThreadsPerBlock, 0, stream, n, bins,
                logits, targets, dloss, dlogits);
  CUDA_CHECK_LAUNCH();
}

void bce_with_logits_forward(int64_t n, const float* logits, const float* targets, float* loss,
                             cudaStream_t s) {
  launch_fwd(n, logits, targets, loss, BceF{}, s);
}
void bce_with_logits_backward(int64_t n, const float* logits, const float* targets, const float* dloss,
                              float* dlogits, cudaStream_t s) {
  launch_bwd(n, logits, targets, dloss, dlogits, BceB{}, s);
}
void sigmoid_focal_forward(int64_t n, const float* logits, const float* targets, float alpha, float gamma,
                           float* loss, cudaStream_t s) {
  LOCDET_CHECK(gamma >= 0.0f, "sigmoid_focal: gamma must be >= 0, got ", gamma);
  launch_fwd(n, logits, targets, loss, FocalF{alpha, gamma}, s);
}
void sigmoid_focal_backward(int64_t n, const float* logits, const float* targets, float alpha, float gamma,
                            const float* dloss, float* dlogits, cudaStream_t s) {
  LOCDET_CHECK(gamma >= 0.0f, "sigmoid_focal: gamma must be >= 0, got ", gamma);
  launch_bwd(n, logits, targets, dloss, dlogits, FocalB{alpha, gamma}, s);
}
void mse_forward(int64_t n, const float* pred, const float* target, float* loss, cudaStream_t s) {
  launch_fwd(n, pred, target, loss, MseF{}, s);
}
void mse_backward(int64_t n, const float* pred, const float* target, const float* dloss, float* dpred,
                  cudaStream_t s) {
  launch_bwd(n, pred, target, dloss, dpred, MseB{}, s);
}
void l1_forward(int64_t n, const float* pred, const float* target, float* loss, cudaStream_t s) {
  launch_fwd(n, pred, target, loss, L1F{}, s);
}
void l1_backward(int64_t n, const float* pred, const float* target, const float* dloss, float* dpred,
                 cudaStream_t s) {
  launch_bwd(n, pred, target, dloss, dpred, L1B{}, s);
}
void smooth_l1_forward(int64_t n, const float* pred, const float* target, float beta, float* loss,
                       cudaStream_t s) {
  LOCDET_CHECK(beta >= 0.0f, "smooth_l1: beta must be >= 0, got ", beta);
  launch_fwd(n, pred, target, loss, SmoothL1F{beta}, s);
}
void smooth_l1_backward(int64_t n, const float* pred, const float* target, float beta, const float* dloss,
                        float* dpred, cudaStream_t s) {
  LOCDET_CHECK(beta >= 0.0f, "smooth_l1: beta must be >= 0, got ", beta);
  launch_bwd(n, pred, target, dloss, dpred, SmoothL1B{beta}, s);
}

}  // namespace locdet::cuda
