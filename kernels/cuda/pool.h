// Pooling on the GPU, same semantics as kernels/cpu/pool.h (argmax = flat index in the plane,
// first maximum wins). maxpool2d_backward is a gather: each input element sums the dy of the
// windows that chose it, in a fixed order: no atomics, deterministic, overlapping windows OK.
#pragma once

#include <cstdint>

#include "kernels/common/op_params.h"
#include "kernels/cuda/context.h"

namespace locdet::cuda {

void maxpool2d_forward(const Pool2dDims& d, const float* x, float* y, int32_t* argmax, cudaStream_t stream);
void maxpool2d_backward(const Pool2dDims& d, const float* dy, const int32_t* argmax, float* dx,
                        cudaStream_t stream);
void global_avgpool_forward(int n, int c, int hw, const float* x, float* y, cudaStream_t stream);
void global_avgpool_backward(int n, int c, int hw, const float* dy, float* dx, cudaStream_t stream);

}  // namespace locdet::cuda
