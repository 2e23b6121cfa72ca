#include <cub/device/device_segmented_radix_sort.cuh>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/sort.h"

namespace locdet::cuda {

size_t segmented_sort_descending_bytes(int items, int segments) {
  size_t bytes = 0;
  if (items <= 0 || segments <= 0) return 0;
  CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeysDescending(
      nullptr, bytes, static_cast<const uint64_t*>(nullptr), static_cast<uint64_t*>(nullptr), items, segments,
      static_cast<const int*>(nullptr), static_cast<const int*>(nullptr), 0, 64));
  return bytes;
}

void segmented_sort_descending(void* scratch, size_t scratch_bytes, const uint64_t* keys_in,
                               uint64_t* keys_out, int items, int segments, const int* begin, const int* end,
                               cudaStream_t stream) {
  CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeysDescending(scratch, scratch_bytes, keys_in, keys_out,
                                                               items, segments, begin, end, 0, 64, stream));
}

}  // namespace locdet::cuda
