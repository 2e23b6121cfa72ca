// Between the emulated runtime (runtime.cpp: streams, capture, errors) and the block
// scheduler (scheduler.cpp): run one checked launch now.
#pragma once

#include <string>

#include "kernels/cuda/emu/runtime.h"

namespace locdet_emu {

// Checks the launch against sm_90's limits and runs every block; on failure returns the error
// code and says why in *error (naming the kernel and, for faults, the block and threads).
cudaError_t run_launch(const char* kernel, const char* file, dim3 grid, dim3 block, size_t shared,
                       const void* key, const ThreadBody& body, std::string* error);

// Why this launch configuration would fail on sm_90 ("" when it would not).
std::string launch_limits_error(const char* kernel, dim3 grid, dim3 block, size_t shared, const void* key);

// The worker threads blocks run on (LOCDET_EMU_THREADS, default: the CPU's hardware threads).
int worker_threads();

}  // namespace locdet_emu
