// Generic tensor ops the graph engine needs besides the layer kernels: fill, copy,
// broadcasting add/sub/mul, scale, sum-to-shape / broadcast-to-shape (the pair autodiff
// uses for broadcasting), sigmoid, and the strided slab copy behind slice and concat.
// Layout: contiguous row-major. Shapes are padded to 4 dims with leading 1s; an operand's
// stride is 0 along a dim it is broadcast over. Reductions run in a fixed order (CPU:
// sequential, accumulated in double for a full reduction), so results are deterministic.
#pragma once

#include <cstdint>

#include "kernels/common/index4.h"
#include "kernels/common/op_params.h"

namespace locdet {

namespace cpu {

template <class T>
void fill(int64_t n, T value, T* y);
template <class T>
void copy(int64_t n, const T* x, T* y);
// y (contiguous over d.shape) = a op b, a and b read through d.a and d.b.
template <class T>
void binary(BinaryKind kind, const Index4& d, const T* a, const T* b, T* y);
template <class T>
void scale(int64_t n, T s, const T* x, T* y);
// x is contiguous over d.shape; y[sum of i*d.a] += s * x[i] (d.a is 0 on reduced dims).
template <class T>
void sum_to(const Index4& d, T s, const T* x, T* y, int64_t y_numel);
// y contiguous over d.shape; y[i] = s * x[read through d.a].
template <class T>
void broadcast_to(const Index4& d, T s, const T* x, T* y);
template <class T>
void sigmoid_forward(int64_t n, const T* x, T* y);
// Takes the forward OUTPUT y: dx = dy * y * (1 - y).
template <class T>
void sigmoid_backward(int64_t n, const T* y, const T* dy, T* dx);
// Views src as [outer, src_len, inner] and dst as [outer, dst_len, inner] and copies
// len rows along the middle dim from src_start to dst_start. T is any 4- or 8-byte type.
template <class T>
void copy_slab(int64_t outer, int64_t inner, const T* src, int64_t src_len, int64_t src_start, T* dst,
               int64_t dst_len, int64_t dst_start, int64_t len);

}  // namespace cpu
}  // namespace locdet
