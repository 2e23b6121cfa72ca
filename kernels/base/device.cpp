#include "kernels/base/device.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "kernels/base/error.h"

#if defined(LOCDET_WITH_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace locdet {

#if defined(LOCDET_WITH_CUDA)
namespace {

// A machine with nvcc but no GPU or driver (CI) must answer "unavailable" here rather than
// fail later, so CUDA tests can GTEST_SKIP and the apps can fall back to the CPU.
bool cuda_runtime_available() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later queries start clean
    return false;
  }
  return count > 0;
}

std::string cuda_runtime_summary() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
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

std::string cuda_runtime_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaSuccess && count > 0) return "";
  cudaGetLastError();
  // Without a driver the runtime says "CUDA driver version is insufficient": on a machine
  // with no NVIDIA device node that only means there is no GPU.
  const bool no_device_node = ::access("/dev/nvidia0", F_OK) != 0;
  if (status == cudaSuccess || status == cudaErrorNoDevice ||
      (status == cudaErrorInsufficientDriver && no_device_node))
    return "no GPU found";
  return std::string("the GPU is unusable (") + cudaGetErrorString(status) + ")";
}

}  // namespace
#endif

const char* device_name(Device device) {
  return device == Device::kCuda ? "cuda" : "cpu";
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::kCpu;
  if (name == "cuda") return Device::kCuda;
  fail("unknown device '", name, "': use 'cpu' or 'cuda'");
}

bool cuda_built() {
#if defined(LOCDET_WITH_CUDA)
  return true;
#else
  return false;
#endif
}

bool cuda_available() {
#if defined(LOCDET_WITH_CUDA)
  return cuda_runtime_available();
#else
  return false;
#endif
}

std::string cuda_device_summary() {
#if defined(LOCDET_WITH_CUDA)
  return cuda_runtime_summary();
#else
  return "this build has no CUDA backend (configure with -DLOCDET_CUDA=ON)";
#endif
}

std::string cuda_unavailable_reason() {
#if defined(LOCDET_WITH_CUDA)
  return cuda_runtime_unavailable_reason();
#else
  return "this build has no CUDA backend";
#endif
}

Device choose_device(const std::string& requested, const char* program, const char* activity) {
  if (!requested.empty()) {
    const Device device = parse_device(requested);
    if (device == Device::kCuda && !cuda_available())
      fail("--device cuda: ", cuda_unavailable_reason(), "; use --device cpu");
    return device;
  }
  const std::string reason = cuda_unavailable_reason();
  if (reason.empty()) return Device::kCuda;
  static std::atomic<bool> noticed{false};
  if (!noticed.exchange(true))
    std::fprintf(stderr, "%s: %s; %s on the CPU\n", program, reason.c_str(), activity);
  return Device::kCpu;
}

}  // namespace locdet
