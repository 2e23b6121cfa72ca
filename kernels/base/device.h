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

// Why the programs fall back to the CPU, in plain words: "no GPU found" (no device, or no
// NVIDIA driver and no /dev/nvidia0), "this build has no CUDA backend", or the CUDA
// runtime's reason when a GPU is there but unusable. Empty when a GPU is usable.
std::string cuda_unavailable_reason();

// The device a program runs on: `requested` ("cpu" | "cuda"; refuses "cuda" without a usable
// GPU, saying why) or, when empty, cuda when a GPU is usable, else the CPU with one notice on
// stderr, printed once per process: "PROGRAM: no GPU found; ACTIVITY on the CPU".
Device choose_device(const std::string& requested, const char* program, const char* activity = "running");

}  // namespace locdet
