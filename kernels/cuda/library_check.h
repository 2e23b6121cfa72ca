// Checks for every cuBLAS and cuDNN call, as CUDA_CHECK for the runtime: the error names the
// call, file and line and carries the library's own message. Only the files that call the
// libraries include it (context.cu, conv.cu, blas.cu); the CUDA emulation replaces those.
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

#include "kernels/cuda/cuda_check.h"

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
