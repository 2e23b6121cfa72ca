// Emulated CUDA (kernels/cuda/emu/runtime.h): the runtime API plus device built-ins.
#pragma once
#include "kernels/cuda/emu/runtime.h"
