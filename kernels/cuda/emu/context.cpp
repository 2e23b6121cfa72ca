// The CUDA context in the emulation: a stream; no cuBLAS or cuDNN handles (blas.cpp and
// conv.cpp bind those calls to the CPU references).
#include "kernels/cuda/context.h"

#include "kernels/cuda/cuda_check.h"

namespace locdet::cuda {

CudaContextOwner::CudaContextOwner() {
  CUDA_CHECK(cudaStreamCreateWithFlags(&ctx_.stream, cudaStreamNonBlocking));
}

void CudaContextOwner::release() noexcept {
  if (ctx_.stream) cudaStreamDestroy(ctx_.stream);
  ctx_ = CudaContext{};
}

}  // namespace locdet::cuda
