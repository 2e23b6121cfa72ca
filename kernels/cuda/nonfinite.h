// CUDA twin of kernels/cpu/nonfinite.h: ORs `bit` into the device int *flag when any of
// x[0..n) is NaN or +-Inf. No host sync; safe inside a captured CUDA Graph.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace locdet::cuda {

void nonfinite_or(int64_t n, const float* x, int32_t bit, int32_t* flag, cudaStream_t stream);

}  // namespace locdet::cuda
