// Helpers for writing an op's kernels (engine/ops, models/): the real type a CPU kernel runs
// in, and on CUDA the stream and library context of the call.
#pragma once

#include "engine/op.h"

#ifdef LOCDET_WITH_CUDA
#include <cuda_runtime_api.h>

#include "kernels/cuda/context.h"
#endif

namespace locdet {

// Calls fn(T{}) with T = double when the call's real tensors are held in double (a cpu_double
// executor), else float.
template <class Fn>
void with_real(const KernelCall& c, Fn&& fn) {
  for (const auto* tensors : {&c.out, &c.in})
    for (const Tensor& t : *tensors)
      if (t.dtype == DType::kF64) return fn(double{});
  fn(float{});
}

#ifdef LOCDET_WITH_CUDA
inline cudaStream_t stream_of(const KernelCall& c) {
  return static_cast<cudaStream_t>(c.stream);
}
inline const cuda::CudaContext& context_of(const KernelCall& c) {
  return *static_cast<const cuda::CudaContext*>(c.cuda_context);
}
#endif

}  // namespace locdet

// An op's CUDA kernel, or none in a build without CUDA (the kernel functions themselves are
// compiled only with CUDA): `.on_cuda(LOCDET_CUDA_KERNEL(fn))`, `LOCDET_CUDA_KERNEL(fn, plan)`.
#ifdef LOCDET_WITH_CUDA
#define LOCDET_CUDA_KERNEL(...) (::locdet::DeviceKernel{__VA_ARGS__})
#else
#define LOCDET_CUDA_KERNEL(...) (::locdet::DeviceKernel{})
#endif
