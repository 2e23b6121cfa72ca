// First CUDA test: a trivial kernel runs, and cuBLAS and cuDNN handles can be created.
#include <vector>

#include "kernels/cuda/cuda_check.h"
#ifndef LOCDET_CUDA_EMULATION
#include "kernels/cuda/library_check.h"
#endif
#include "kernels/cuda/launch.cuh"
#include "tests/cuda/cuda_test_util.h"

namespace {

__global__ void add_one(float* data, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) data[i] += 1.0f;
}

TEST(CudaSmoke, TrivialKernelRuns) {
  LOCDET_REQUIRE_GPU();
  const int n = 1000;
  std::vector<float> host(n);
  for (int i = 0; i < n; ++i) host[i] = static_cast<float>(i);
  float* device = nullptr;
  CUDA_CHECK(cudaMalloc(&device, n * sizeof(float)));
  CUDA_CHECK(cudaMemcpy(device, host.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  LOCDET_LAUNCH(add_one, (n + 255) / 256, 256, 0, nullptr, device, n);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaMemcpy(host.data(), device, n * sizeof(float), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaFree(device));
  for (int i = 0; i < n; ++i) ASSERT_EQ(host[i], static_cast<float>(i + 1));
}

#ifndef LOCDET_CUDA_EMULATION  // the emulation binds cuBLAS and cuDNN to the CPU references
TEST(CudaSmoke, CublasAndCudnnHandles) {
  LOCDET_REQUIRE_GPU();
  cublasHandle_t blas = nullptr;
  CUBLAS_CHECK(cublasCreate(&blas));
  CUBLAS_CHECK(cublasDestroy(blas));
  cudnnHandle_t dnn = nullptr;
  CUDNN_CHECK(cudnnCreate(&dnn));
  EXPECT_GE(cudnnGetVersion(), 90000u);
  CUDNN_CHECK(cudnnDestroy(dnn));
}
#endif

}  // namespace
