// CUDA twins of kernels/cpu/tensor_ops.h (float; int32 for copies and slabs), same names
// and argument order plus the stream. sum_to with one output element is a single-block
// tree reduction in a fixed order, so it is deterministic run to run (not bit-equal to the
// CPU's sequential double sum: tested with a tolerance).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/common/index4.h"
#include "kernels/common/op_params.h"

namespace locdet::cuda {

void fill(int64_t n, float value, float* y, cudaStream_t stream);
// Byte copy: works for any dtype.
void copy_bytes(int64_t bytes, const void* x, void* y, cudaStream_t stream);
void binary(BinaryKind kind, const Index4& d, const float* a, const float* b, float* y, cudaStream_t stream);
void scale(int64_t n, float s, const float* x, float* y, cudaStream_t stream);
void sum_to(const Index4& d, float s, const float* x, float* y, int64_t y_numel, cudaStream_t stream);
void broadcast_to(const Index4& d, float s, const float* x, float* y, cudaStream_t stream);
void sigmoid_forward(int64_t n, const float* x, float* y, cudaStream_t stream);
void sigmoid_backward(int64_t n, const float* y, const float* dy, float* dx, cudaStream_t stream);
// elem_bytes 4 (float, int32).
void copy_slab(int64_t outer, int64_t inner, const float* src, int64_t src_len, int64_t src_start, float* dst,
               int64_t dst_len, int64_t dst_start, int64_t len, cudaStream_t stream);

}  // namespace locdet::cuda
