// Device discovery. A machine with nvcc but no GPU or driver (CI) must answer
// "unavailable" here rather than fail later, so CUDA tests can GTEST_SKIP.
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

namespace locdet::cuda {

bool runtime_available() {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later queries start clean
    return false;
  }
  return count > 0;
}

std::string runtime_summary() {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return std::string("no usable GPU: ") + cudaGetErrorString(status);
  }
  if (count == 0) return "no usable GPU: no CUDA device found";
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "no usable GPU: cannot query device 0";
  char detail[64];
  std::snprintf(detail, sizeof(detail), " (sm_%d%d, %.1f GiB)", prop.major, prop.minor,
                prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
  return std::string(prop.name) + detail;
}

}  // namespace locdet::cuda
