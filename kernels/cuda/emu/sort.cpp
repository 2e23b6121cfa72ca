// CUB's segmented radix sort in the CUDA emulation: a stable sort per segment, descending, which
// is CUB's contract (radix sorts are stable), run in stream order.
#include "kernels/cuda/sort.h"

#include <algorithm>
#include <functional>

#include "kernels/cuda/cuda_check.h"

namespace locdet::cuda {

size_t segmented_sort_descending_bytes(int, int) {
  return 0;
}

void segmented_sort_descending(void*, size_t, const uint64_t* keys_in, uint64_t* keys_out, int items,
                               int segments, const int* begin, const int* end, cudaStream_t stream) {
  CUDA_CHECK(locdet_emu::enqueue_task(stream, [=] {
    std::copy(keys_in, keys_in + items, keys_out);
    for (int s = 0; s < segments; ++s)
      std::stable_sort(keys_out + begin[s], keys_out + end[s], std::greater<uint64_t>());
  }));
}

}  // namespace locdet::cuda
