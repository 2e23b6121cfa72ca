// Deterministic block reductions: a fixed shuffle tree inside each warp, then warp 0 reduces
// the per-warp partials in order. Same inputs -> same bits on every run.
#pragma once

namespace locdet::cuda {

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// Every thread of the block gets the block-wide sum. blockDim.x must be a multiple of 32 (<= 1024).
// `scratch` holds 32 values; the function syncs before reusing it, so it can be called repeatedly.
template <class T>
__device__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read from a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T w = lane < warps ? scratch[lane] : T(0);
    w = warp_sum(w);
    if (lane == 0) scratch[0] = w;
  }
  __syncthreads();
  return scratch[0];
}

}  // namespace locdet::cuda
