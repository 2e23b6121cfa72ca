// The handles a CUDA kernel wrapper may need: the stream everything runs on, and the cuBLAS
// and cuDNN handles bound to that stream. Plain C++ header: cuBLAS/cuDNN handle types are
// forward-declared (the same typedefs as the libraries'), so .cpp files need only the runtime API.
#pragma once

#include <cuda_runtime_api.h>

#include <utility>

struct cublasContext;
struct cudnnContext;
typedef struct cublasContext* cublasHandle_t;
typedef struct cudnnContext* cudnnHandle_t;

namespace locdet::cuda {

struct CudaContext {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  cudnnHandle_t dnn = nullptr;
};

// Creates a non-blocking stream plus cuBLAS and cuDNN handles bound to it; destroys them.
// cuBLAS gets a fixed workspace (cublasSetWorkspace) so it never allocates during a
// CUDA Graph capture. Not copyable; movable.
class CudaContextOwner {
 public:
  CudaContextOwner();  // context.cu (the emulation's: emu/context.cpp)
  ~CudaContextOwner() { release(); }
  CudaContextOwner(const CudaContextOwner&) = delete;
  CudaContextOwner& operator=(const CudaContextOwner&) = delete;
  CudaContextOwner(CudaContextOwner&& other) noexcept
      : ctx_(std::exchange(other.ctx_, CudaContext{})),
        blas_workspace_(std::exchange(other.blas_workspace_, nullptr)) {}
  CudaContextOwner& operator=(CudaContextOwner&& other) noexcept {
    if (this != &other) {
      release();
      ctx_ = std::exchange(other.ctx_, CudaContext{});
      blas_workspace_ = std::exchange(other.blas_workspace_, nullptr);
    }
    return *this;
  }

  const CudaContext& get() const { return ctx_; }
  operator const CudaContext&() const { return ctx_; }

 private:
  void release() noexcept;
  CudaContext ctx_;
  void* blas_workspace_ = nullptr;
};

}  // namespace locdet::cuda
