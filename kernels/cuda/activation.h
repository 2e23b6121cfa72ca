// Elementwise activations on the GPU; per-element math is kernels/common/activation.h.
#pragma once

#include <cstdint>

#include "kernels/cuda/context.h"

namespace locdet::cuda {

void relu_forward(int64_t n, const float* x, float* y, cudaStream_t stream);
void relu_backward(int64_t n, const float* x, const float* dy, float* dx, cudaStream_t stream);
void leaky_relu_forward(int64_t n, const float* x, float* y, float slope, cudaStream_t stream);
void leaky_relu_backward(int64_t n, const float* x, const float* dy, float* dx, float slope,
                         cudaStream_t stream);
void silu_forward(int64_t n, const float* x, float* y, cudaStream_t stream);
void silu_backward(int64_t n, const float* x, const float* dy, float* dx, cudaStream_t stream);

}  // namespace locdet::cuda
