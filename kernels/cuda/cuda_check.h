// Checks for every CUDA runtime, cuBLAS and cuDNN call: the error names the call,
// file and line and carries the library's own message. Include only from .cu/.cpp
// files of the CUDA backend.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "kernels/base/error.h"

#define CUDA_CHECK(call)                                                                 \
  do {                                                                                   \
    cudaError_t status_ = (call);                                                        \
    if (status_ != cudaSuccess)                                                          \
      ::locdet::fail("CUDA error in ", #call, " at ", __FILE__, ":", __LINE__, ": ",     \
                     cudaGetErrorName(status_), " (", cudaGetErrorString(status_), ")"); \
  } while (0)

#define CUBLAS_CHECK(call)                                                                     \
  do {                                                                                         \
    cublasStatus_t status_ = (call);                                                           \
    if (status_ != CUBLAS_STATUS_SUCCESS)                                                      \
      ::locdet::fail("cuBLAS error in ", #call, " at ", __FILE__, ":", __LINE__, ": ",         \
                     cublasGetStatusName(status_), " (", cublasGetStatusString(status_), ")"); \
  } while (0)

#define CUDNN_CHECK(call)                                                             \
  do {                                                                                \
    cudnnStatus_t status_ = (call);                                                   \
    if (status_ != CUDNN_STATUS_SUCCESS)                                              \
      ::locdet::fail("cuDNN error in ", #call, " at ", __FILE__, ":", __LINE__, ": ", \
                     cudnnGetErrorString(status_));                                   \
  } while (0)

// Launch check: catches bad launch configurations without a device sync.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
