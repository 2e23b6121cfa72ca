// Matrix products behind our own interface: cuBLAS sgemm on the context's stream
// (kernels/cuda/blas.cu); in the CUDA emulation OpenBLAS's (kernels/cuda/emu/blas.cpp).
// Column-major, as cuBLAS: C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C.
#pragma once

#include "kernels/cuda/context.h"

namespace locdet::cuda {

void sgemm(const CudaContext& ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
           const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace locdet::cuda
