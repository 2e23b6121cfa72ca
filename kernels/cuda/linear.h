// Fully connected layer on the GPU (cuBLAS sgemm with the row-major/column-major swap),
// PyTorch layout as kernels/cpu/linear.h. Bias add and bias gradient are small kernels
// (the bias gradient is a deterministic per-column reduction, no atomics).
#pragma once

#include "kernels/cuda/context.h"

namespace locdet::cuda {

void linear_forward(int m, int k, int n, const float* x, const float* w, const float* b, float* y,
                    const CudaContext& ctx);
// dx and db may be null.
void linear_backward(int m, int k, int n, const float* x, const float* w, const float* dy, float* dx,
                     float* dw, float* db, const CudaContext& ctx);

}  // namespace locdet::cuda
