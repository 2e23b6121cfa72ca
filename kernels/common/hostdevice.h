// LOCDET_HD marks per-element math that both backends run: the CUDA kernels call it
// per thread, the CPU kernels in a loop, so CI (no GPU) tests what the GPU computes.
#pragma once

#if defined(__CUDACC__)
#define LOCDET_HD __host__ __device__ __forceinline__
#else
#define LOCDET_HD inline
#endif
