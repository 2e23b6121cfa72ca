// Elementwise activations; the per-element math is kernels/common/activation.h (shared with CUDA).
// Backward takes the forward INPUT x (not y), so y may overwrite x in place when the graph wants.
#pragma once

#include <cstdint>

namespace locdet::cpu {

template <class T>
void relu_forward(int64_t n, const T* x, T* y);
template <class T>
void relu_backward(int64_t n, const T* x, const T* dy, T* dx);

template <class T>
void leaky_relu_forward(int64_t n, const T* x, T* y, T slope);
template <class T>
void leaky_relu_backward(int64_t n, const T* x, const T* dy, T* dx, T slope);

template <class T>
void silu_forward(int64_t n, const T* x, T* y);
template <class T>
void silu_backward(int64_t n, const T* x, const T* dy, T* dx);

}  // namespace locdet::cpu
