#include "engine/core/device.h"

#include "engine/core/error.h"

namespace locdet {

#if defined(LOCDET_WITH_CUDA)
namespace cuda {
bool runtime_available();
std::string runtime_summary();
}  // namespace cuda
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
  return cuda::runtime_available();
#else
  return false;
#endif
}

std::string cuda_device_summary() {
#if defined(LOCDET_WITH_CUDA)
  return cuda::runtime_summary();
#else
  return "this build has no CUDA backend (configure with -DLOCDET_CUDA=ON)";
#endif
}

}  // namespace locdet
