// The launch shape of our one-thread-per-element kernels: 256 threads per block and enough
// blocks to cover n elements (a grid's x dimension allows 2^31 - 1 blocks).
#pragma once

#include <cstdint>

namespace locdet::cuda {

constexpr int kThreadsPerBlock = 256;

inline unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreadsPerBlock - 1) / kThreadsPerBlock);
}

}  // namespace locdet::cuda
