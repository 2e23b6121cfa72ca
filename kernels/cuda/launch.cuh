// How our kernels are launched, in one form for both ways their source is compiled:
//   LOCDET_LAUNCH(kernel, grid, block, shared_bytes, stream, args...);
// nvcc: kernel<<<grid, block, shared_bytes, stream>>>(args...). The CUDA emulation
// (kernels/cuda/emu, LOCDET_CUDA_EMULATION): the same launch run on the CPU, with its limits
// checked and its name kept for errors. A template kernel names its arguments: kernel<Op>.
// LOCDET_DYNAMIC_SHARED(T, name) declares the block's dynamic shared memory as T name[].
//
// And the launch shape of our one-thread-per-element kernels: 256 threads per block and enough
// blocks to cover n elements (a grid's x dimension allows 2^31 - 1 blocks).
#pragma once

#include <cstdint>

#if defined(LOCDET_CUDA_EMULATION)
#define LOCDET_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  ::locdet_emu::Launcher(#kernel, __FILE__, kernel, grid, block, shared_bytes, stream)(__VA_ARGS__)
#define LOCDET_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::locdet_emu::dynamic_shared_memory())
#else
#define LOCDET_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  kernel<<<grid, block, shared_bytes, stream>>>(__VA_ARGS__)
#define LOCDET_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

namespace locdet::cuda {

constexpr int kThreadsPerBlock = 256;

inline unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreadsPerBlock - 1) / kThreadsPerBlock);
}

}  // namespace locdet::cuda
