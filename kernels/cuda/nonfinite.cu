#include <algorithm>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/nonfinite.h"

namespace locdet::cuda {
namespace {

constexpr int kMaxBlocks = 1024;  // grid-stride beyond this: the flag needs no more parallelism

// One atomicOr per block at most: threads vote, thread 0 writes.
__global__ void nonfinite_or_kernel(int64_t n, const float* x, int32_t bit, int32_t* flag) {
  bool bad = false;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    bad |= !isfinite(x[i]);
  if (__syncthreads_or(bad) && threadIdx.x == 0) atomicOr(flag, bit);
}

}  // namespace

void nonfinite_or(int64_t n, const float* x, int32_t bit, int32_t* flag, cudaStream_t stream) {
  if (n <= 0) return;
  const int blocks =
      static_cast<int>(std::min<int64_t>((n + kThreadsPerBlock - 1) / kThreadsPerBlock, kMaxBlocks));
  LOCDET_LAUNCH(nonfinite_or_kernel, blocks, kThreadsPerBlock, 0, stream, n, x, bit, flag);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
