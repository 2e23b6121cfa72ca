#include <utility>

#include "kernels/cuda/context.h"
#include "kernels/cuda/library_check.h"

namespace locdet::cuda {
namespace {
// cuBLAS otherwise allocates its workspace lazily, which is not allowed during CUDA Graph
// capture; 32 MiB covers every sgemm shape used here (NVIDIA recommends >= 32 MiB on Hopper).
constexpr size_t kBlasWorkspaceBytes = size_t(32) << 20;
}  // namespace

CudaContextOwner::CudaContextOwner() {
  try {
    CUDA_CHECK(cudaStreamCreateWithFlags(&ctx_.stream, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&ctx_.blas));
    CUBLAS_CHECK(cublasSetStream(ctx_.blas, ctx_.stream));
    CUDA_CHECK(cudaMalloc(&blas_workspace_, kBlasWorkspaceBytes));
    CUBLAS_CHECK(cublasSetWorkspace(ctx_.blas, blas_workspace_, kBlasWorkspaceBytes));
    // Plain FP32 (no TF32) so results track the CPU reference; see kernels/cuda/linear.cu.
    CUBLAS_CHECK(cublasSetMathMode(ctx_.blas, CUBLAS_DEFAULT_MATH));
    CUDNN_CHECK(cudnnCreate(&ctx_.dnn));
    CUDNN_CHECK(cudnnSetStream(ctx_.dnn, ctx_.stream));
  } catch (...) {
    release();
    throw;
  }
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
  // Destruction must not throw; errors here have nowhere useful to go.
  if (ctx_.dnn) cudnnDestroy(ctx_.dnn);
  if (ctx_.blas) cublasDestroy(ctx_.blas);
  if (blas_workspace_) cudaFree(blas_workspace_);
  if (ctx_.stream) cudaStreamDestroy(ctx_.stream);
  ctx_ = CudaContext{};
  blas_workspace_ = nullptr;
}

}  // namespace locdet::cuda
