// One thread per element, indexed by the output so writes coalesce; the feature maps here
// are small (a few MB), so a shared-memory tiled transpose would not pay for itself.
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/layout.h"

namespace locdet::cuda {

namespace {
__global__ void nchw_to_cells_kernel(int64_t n, int64_t c, int64_t hw, const float* x, float* y) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n * c * hw) return;
  const int64_t ch = i % c, cell = (i / c) % hw, b = i / (c * hw);
  y[i] = x[(b * c + ch) * hw + cell];
}
__global__ void cells_to_nchw_kernel(int64_t n, int64_t c, int64_t hw, const float* y, float* x) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n * c * hw) return;
  const int64_t cell = i % hw, ch = (i / hw) % c, b = i / (c * hw);
  x[i] = y[(b * hw + cell) * c + ch];
}
}  // namespace

void nchw_to_cells(int64_t n, int64_t c, int64_t hw, const float* x, float* y, cudaStream_t stream) {
  if (n * c * hw == 0) return;
  LOCDET_LAUNCH(nchw_to_cells_kernel, blocks_for(n * c * hw), kThreadsPerBlock, 0, stream, n, c, hw, x, y);
  CUDA_CHECK_LAUNCH();
}

void cells_to_nchw(int64_t n, int64_t c, int64_t hw, const float* y, float* x, cudaStream_t stream) {
  if (n * c * hw == 0) return;
  LOCDET_LAUNCH(cells_to_nchw_kernel, blocks_for(n * c * hw), kThreadsPerBlock, 0, stream, n, c, hw, y, x);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
