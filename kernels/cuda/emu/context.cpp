// The CUDA context in the emulation: a stream; no cuBLAS or cuDNN handles (blas.cpp and
// conv.cpp bind those calls to the CPU references).
#include "kernels/cuda/context.h"

#include <utility>

#include "kernels/cuda/cuda_check.h"

namespace locdet::cuda {

CudaContextOwner::CudaContextOwner() {
  CUDA_CHECK(cudaStreamCreateWithFlags(&ctx_.stream, cudaStreamNonBlocking));
}

CudaContextOwner::~CudaContextOwner() {
  release();
}

CudaContextOwner::CudaContextOwner(CudaContextOwner&& other) noexcept
    : ctx_(std::exchange(other.ctx_, CudaContext{})),
      blas_workspace_(std::exchange(other.blas_workspace_, nullptr)) {}

CudaContextOwner& CudaContextOwner::operator=(CudaContextOwner&& other) noexcept {
  if (this != &other) {
    release();
    ctx_ = std::exchange(other.ctx_, CudaContext{});
    blas_workspace_ = std::exchange(other.blas_workspace_, nullptr);
  }
  return *this;
}

void CudaContextOwner::release() noexcept {
  if (ctx_.stream) cudaStreamDestroy(ctx_.stream);
  ctx_ = CudaContext{};
}

}  // namespace locdet::cuda
