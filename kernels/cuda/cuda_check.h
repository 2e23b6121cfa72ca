// Checks for every CUDA runtime call: the error names the call, file and line and carries
// the runtime's own message (kernels/cuda/library_check.h does the same for cuBLAS and cuDNN).
#pragma once

#include <cuda_runtime.h>

#include "kernels/base/error.h"

#define CUDA_CHECK(call)                                                                 \
  do {                                                                                   \
    cudaError_t status_ = (call);                                                        \
    if (status_ != cudaSuccess)                                                          \
      ::locdet::fail("CUDA error in ", #call, " at ", __FILE__, ":", __LINE__, ": ",     \
                     cudaGetErrorName(status_), " (", cudaGetErrorString(status_), ")"); \
  } while (0)

// Launch check: catches bad launch configurations without a device sync.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
