// Row-major PyTorch layout on column-major cuBLAS: a row-major [r, c] matrix is a column-major
// [c, r] one, so y = x w^T becomes y^T = w x^T, i.e. sgemm(T, N) with the operands as stored.
// The handle is bound to ctx.stream once (context.cu): calling cublasSetStream here would also
// reset cuBLAS to its own lazily allocated workspace instead of the fixed one.
#include <cstdint>

#include "kernels/cuda/blas.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/linear.h"

namespace locdet::cuda {
namespace {

__global__ void broadcast_bias_kernel(int64_t total, int n, const float* __restrict__ b,
                                      float* __restrict__ y) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e < total) y[e] = b[e % n];
}

// db[j] = sum_i dy[i, j]: one thread per column, rows in order (deterministic, coalesced over j).
__global__ void column_sum_kernel(int m, int n, const float* __restrict__ dy, float* __restrict__ db) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= n) return;
  float sum = 0.0f;
  for (int i = 0; i < m; ++i) sum += dy[static_cast<int64_t>(i) * n + j];
  db[j] = sum;
}

}  // namespace

void linear_forward(int m, int k, int n, const float* x, const float* w, const float* b, float* y,
                    const CudaContext& ctx) {
  LOCDET_CHECK(m > 0 && k > 0 && n > 0, "linear: m, k, n must be positive (m=", m, " k=", k, " n=", n, ")");
  if (b) {
    const int64_t total = static_cast<int64_t>(m) * n;
    LOCDET_LAUNCH(broadcast_bias_kernel, blocks_for(total), kThreadsPerBlock, 0, ctx.stream, total, n, b, y);
    CUDA_CHECK_LAUNCH();
  }
  sgemm(ctx, true, false, n, m, k, 1.0f, w, k, x, k, b ? 1.0f : 0.0f, y, n);
}

void linear_backward(int m, int k, int n, const float* x, const float* w, const float* dy, float* dx,
                     float* dw, float* db, const CudaContext& ctx) {
  LOCDET_CHECK(m > 0 && k > 0 && n > 0, "linear: m, k, n must be positive (m=", m, " k=", k, " n=", n, ")");
  // dx^T [k, m] = w^T [k, n] * dy^T [n, m]
  if (dx) sgemm(ctx, false, false, k, m, n, 1.0f, w, k, dy, n, 0.0f, dx, k);
  // dw^T [k, n] = x^T [k, m] * dy [m, n]
  sgemm(ctx, false, true, k, n, m, 1.0f, x, k, dy, n, 0.0f, dw, k);
  if (db) {
    LOCDET_LAUNCH(column_sum_kernel, (n + 127) / 128, 128, 0, ctx.stream, m, n, dy, db);
    CUDA_CHECK_LAUNCH();
  }
}

}  // namespace locdet::cuda
