// Emulated CUDA (kernels/cuda/emu/runtime_api.h): the host runtime API.
#pragma once
#include "kernels/cuda/emu/runtime_api.h"
