// Device-wide sorts behind our own interface: CUB's segmented radix sort on the GPU
// (kernels/cuda/sort.cu); in the CUDA emulation a stable CPU sort with CUB's contract
// (kernels/cuda/emu/sort.cpp): keys of each segment [begin[s], end[s]) in descending order,
// equal keys in their input order.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace locdet::cuda {

// Scratch bytes segmented_sort_descending needs for `items` keys in `segments` segments.
size_t segmented_sort_descending_bytes(int items, int segments);

void segmented_sort_descending(void* scratch, size_t scratch_bytes, const uint64_t* keys_in,
                               uint64_t* keys_out, int items, int segments, const int* begin, const int* end,
                               cudaStream_t stream);

}  // namespace locdet::cuda
