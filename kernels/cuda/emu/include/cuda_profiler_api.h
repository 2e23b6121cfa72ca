// Emulated CUDA: profiler start/stop are declared with the runtime API (no-ops here).
#pragma once
#include "kernels/cuda/emu/runtime_api.h"
