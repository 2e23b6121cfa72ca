// Which backends this build has and which the machine can run.
#pragma once

#include <string>

namespace locdet {

enum class Device { kCpu, kCuda };

const char* device_name(Device device);
Device parse_device(const std::string& name);  // "cpu" | "cuda"; throws on anything else

// True when the library was compiled with the CUDA backend.
bool cuda_built();
// True when a CUDA device can be used now (driver present, at least one GPU).
bool cuda_available();
// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" or a reason why no GPU is usable.
std::string cuda_device_summary();

}  // namespace locdet
