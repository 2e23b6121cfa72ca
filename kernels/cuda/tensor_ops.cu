#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/tensor_ops.h"

namespace locdet::cuda {
namespace {

// Operand offsets of output element i of a 4-D iteration space.
__device__ __forceinline__ void offsets4(const Index4& d, int64_t i, int64_t* a, int64_t* b) {
  int64_t oa = 0, ob = 0;
  for (int k = 3; k >= 0; --k) {
    int64_t idx = i % d.shape[k];
    i /= d.shape[k];
    oa += idx * d.a[k];
    ob += idx * d.b[k];
  }
  *a = oa;
  *b = ob;
}

__global__ void fill_kernel(int64_t n, float v, float* y) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = v;
}

__global__ void binary_kernel(BinaryKind kind, Index4 d, int64_t n, const float* a, const float* b,
                              float* y) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  int64_t ia, ib;
  offsets4(d, i, &ia, &ib);
  float va = a[ia], vb = b[ib];
  y[i] = kind == BinaryKind::kAdd ? va + vb : kind == BinaryKind::kSub ? va - vb : va * vb;
}

__global__ void scale_kernel(int64_t n, float s, const float* x, float* y) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = s * x[i];
}

// One block: each thread sums a fixed strided subset, then a fixed tree. Deterministic.
__global__ void sum_all_kernel(int64_t n, float s, const float* x, float* y) {
  __shared__ double partial[kThreadsPerBlock];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kThreadsPerBlock) acc += x[i];
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (unsigned w = kThreadsPerBlock / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) partial[threadIdx.x] += partial[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) y[0] = static_cast<float>(s * partial[0]);
}

// One thread per output element sums only the inputs that land on it, in input order
// (kernels/common/index4.h): bit-equal to the CPU's sequential scatter.
__global__ void sum_to_kernel(Index4 d, float s, const float* x, float* y, int64_t y_numel) {
  int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (o < y_numel) y[o] = sum_to_element(d, s, x, o);
}

__global__ void broadcast_kernel(Index4 d, int64_t n, float s, const float* x, float* y) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  int64_t ix, unused;
  offsets4(d, i, &ix, &unused);
  y[i] = s * x[ix];
}

__global__ void sigmoid_kernel(int64_t n, const float* x, float* y) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

__global__ void sigmoid_backward_kernel(int64_t n, const float* y, const float* dy, float* dx) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

}  // namespace

void fill(int64_t n, float value, float* y, cudaStream_t stream) {
  if (n == 0) return;
  LOCDET_LAUNCH(fill_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, n, value, y);
  CUDA_CHECK_LAUNCH();
}

void copy_bytes(int64_t bytes, const void* x, void* y, cudaStream_t stream) {
  if (x != y && bytes > 0) CUDA_CHECK(cudaMemcpyAsync(y, x, bytes, cudaMemcpyDeviceToDevice, stream));
}

void binary(BinaryKind kind, const Index4& d, const float* a, const float* b, float* y, cudaStream_t stream) {
  int64_t n = d.numel();
  LOCDET_LAUNCH(binary_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, kind, d, n, a, b, y);
  CUDA_CHECK_LAUNCH();
}

void scale(int64_t n, float s, const float* x, float* y, cudaStream_t stream) {
  LOCDET_LAUNCH(scale_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, n, s, x, y);
  CUDA_CHECK_LAUNCH();
}

void sum_to(const Index4& d, float s, const float* x, float* y, int64_t y_numel, cudaStream_t stream) {
  if (y_numel == 1) {
    LOCDET_LAUNCH(sum_all_kernel, 1, kThreadsPerBlock, 0, stream, d.numel(), s, x, y);
  } else {
    LOCDET_LAUNCH(sum_to_kernel, blocks_for(y_numel), kThreadsPerBlock, 0, stream, d, s, x, y, y_numel);
  }
  CUDA_CHECK_LAUNCH();
}

void broadcast_to(const Index4& d, float s, const float* x, float* y, cudaStream_t stream) {
  int64_t n = d.numel();
  LOCDET_LAUNCH(broadcast_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, d, n, s, x, y);
  CUDA_CHECK_LAUNCH();
}

void sigmoid_forward(int64_t n, const float* x, float* y, cudaStream_t stream) {
  LOCDET_LAUNCH(sigmoid_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, n, x, y);
  CUDA_CHECK_LAUNCH();
}

void sigmoid_backward(int64_t n, const float* y, const float* dy, float* dx, cudaStream_t stream) {
  LOCDET_LAUNCH(sigmoid_backward_kernel, blocks_for(n), kThreadsPerBlock, 0, stream, n, y, dy, dx);
  CUDA_CHECK_LAUNCH();
}

void copy_slab(int64_t outer, int64_t inner, const float* src, int64_t src_len, int64_t src_start, float* dst,
               int64_t dst_len, int64_t dst_start, int64_t len, cudaStream_t stream) {
  // A 2-D strided copy: outer rows of len*inner contiguous floats.
  CUDA_CHECK(cudaMemcpy2DAsync(dst + dst_start * inner, dst_len * inner * sizeof(float),
                               src + src_start * inner, src_len * inner * sizeof(float),
                               len * inner * sizeof(float), outer, cudaMemcpyDeviceToDevice, stream));
}

}  // namespace locdet::cuda
