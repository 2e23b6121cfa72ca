#include <cstdint>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/pool.h"
#include "kernels/cuda/reduce.cuh"

namespace locdet::cuda {
namespace {

__global__ void maxpool_forward_kernel(Pool2dDims d, int64_t total, const float* __restrict__ x,
                                       float* __restrict__ y, int32_t* __restrict__ argmax) {
  const int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (o >= total) return;
  const int oh = d.out_h(), ow = d.out_w();
  const int ox = static_cast<int>(o % ow), oy = static_cast<int>((o / ow) % oh);
  const int64_t plane = o / (static_cast<int64_t>(oh) * ow);
  const float* in = x + plane * d.h * d.w;
  const int y0 = max(oy * d.stride - d.pad, 0), y1 = min(oy * d.stride - d.pad + d.kernel, d.h);
  const int x0 = max(ox * d.stride - d.pad, 0), x1 = min(ox * d.stride - d.pad + d.kernel, d.w);
  float best = -INFINITY;
  int32_t best_index = y0 * d.w + x0;
  for (int iy = y0; iy < y1; ++iy)
    for (int ix = x0; ix < x1; ++ix) {
      const float v = in[iy * d.w + ix];
      if (v > best || isnan(v)) {  // same rule as the CPU: first max wins, NaN propagates
        best = v;
        best_index = iy * d.w + ix;
      }
    }
  y[o] = best;
  argmax[o] = best_index;
}

// Gather: input pixel (iy, ix) collects dy from every window that covers it and chose it.
__global__ void maxpool_backward_kernel(Pool2dDims d, int64_t total, const float* __restrict__ dy,
                                        const int32_t* __restrict__ argmax, float* __restrict__ dx) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= total) return;
  const int oh = d.out_h(), ow = d.out_w();
  const int ix = static_cast<int>(e % d.w), iy = static_cast<int>((e / d.w) % d.h);
  const int64_t plane = e / (static_cast<int64_t>(d.h) * d.w);
  const int32_t self = iy * d.w + ix;
  // Windows oy with oy*stride - pad <= iy < oy*stride - pad + kernel.
  const int oy0 = max(0, (iy + d.pad - d.kernel + d.stride) / d.stride);
  const int oy1 = min(oh - 1, (iy + d.pad) / d.stride);
  const int ox0 = max(0, (ix + d.pad - d.kernel + d.stride) / d.stride);
  const int ox1 = min(ow - 1, (ix + d.pad) / d.stride);
  const float* g = dy + plane * oh * ow;
  const int32_t* arg = argmax + plane * oh * ow;
  float sum = 0.0f;
  for (int oy = oy0; oy <= oy1; ++oy)
    for (int ox = ox0; ox <= ox1; ++ox)
      if (arg[oy * ow + ox] == self) sum += g[oy * ow + ox];
  dx[e] = sum;
}

// One block per (n, c) plane; deterministic block sum.
__global__ void gap_forward_kernel(int hw, const float* __restrict__ x, float* __restrict__ y) {
  __shared__ float scratch[32];
  const float* in = x + static_cast<int64_t>(blockIdx.x) * hw;
  float sum = 0.0f;
  for (int j = threadIdx.x; j < hw; j += blockDim.x) sum += in[j];
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) y[blockIdx.x] = sum / hw;
}

__global__ void gap_backward_kernel(int64_t total, int hw, const float* __restrict__ dy,
                                    float* __restrict__ dx) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e < total) dx[e] = dy[e / hw] * (1.0f / hw);
}

void check_pool_dims(const Pool2dDims& d) {
  LOCDET_CHECK(d.n > 0 && d.c > 0 && d.h > 0 && d.w > 0 && d.kernel > 0 && d.stride > 0 && d.pad >= 0 &&
                   2 * d.pad <= d.kernel && d.out_h() > 0 && d.out_w() > 0,
               "maxpool2d: invalid dims (kernel=", d.kernel, " stride=", d.stride, " pad=", d.pad, " input ",
               d.h, "x", d.w, "); need 0 <= pad <= kernel/2 and kernel <= padded input");
}

}  // namespace

void maxpool2d_forward(const Pool2dDims& d, const float* x, float* y, int32_t* argmax, cudaStream_t stream) {
  check_pool_dims(d);
  const int64_t total = static_cast<int64_t>(d.n) * d.c * d.out_h() * d.out_w();
  LOCDET_LAUNCH(maxpool_forward_kernel, blocks_for(total), kThreadsPerBlock, 0, stream, d, total, x, y,
                argmax);
  CUDA_CHECK_LAUNCH();
}

void maxpool2d_backward(const Pool2dDims& d, const float* dy, const int32_t* argmax, float* dx,
                        cudaStream_t stream) {
  check_pool_dims(d);
  const int64_t total = static_cast<int64_t>(d.n) * d.c * d.h * d.w;
  LOCDET_LAUNCH(maxpool_backward_kernel, blocks_for(total), kThreadsPerBlock, 0, stream, d, total, dy, argmax,
                dx);
  CUDA_CHECK_LAUNCH();
}

void global_avgpool_forward(int n, int c, int hw, const float* x, float* y, cudaStream_t stream) {
  LOCDET_CHECK(n > 0 && c > 0 && hw > 0, "global_avgpool: n, c, hw must be positive");
  const int threads = hw >= 256 ? 256 : (hw >= 64 ? 64 : 32);
  LOCDET_LAUNCH(gap_forward_kernel, static_cast<unsigned>(n * c), threads, 0, stream, hw, x, y);
  CUDA_CHECK_LAUNCH();
}

void global_avgpool_backward(int n, int c, int hw, const float* dy, float* dx, cudaStream_t stream) {
  LOCDET_CHECK(n > 0 && c > 0 && hw > 0, "global_avgpool: n, c, hw must be positive");
  const int64_t total = static_cast<int64_t>(n) * c * hw;
  LOCDET_LAUNCH(gap_backward_kernel, blocks_for(total), kThreadsPerBlock, 0, stream, total, hw, dy, dx);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
