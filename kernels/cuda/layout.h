// CUDA twins of kernels/cpu/layout.h (pure data movement: results are exact).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace locdet::cuda {

void nchw_to_cells(int64_t n, int64_t c, int64_t hw, const float* x, float* y, cudaStream_t stream);
void cells_to_nchw(int64_t n, int64_t c, int64_t hw, const float* y, float* x, cudaStream_t stream);

}  // namespace locdet::cuda
