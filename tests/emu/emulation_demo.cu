// Shows that the CUDA emulation can fail (tests/CMakeLists.txt builds this file three times):
//   emu_demo               a block reduction in shared memory: passes;
//   emu_demo_missing_sync  the same kernel without the __syncthreads between writing the
//                          shared array and reducing it: ThreadSanitizer reports the race (in
//                          the TSan build), and the sums come out wrong;
//   emu_demo_off_by_one    the last block writes one element past the end of `out`:
//                          AddressSanitizer reports the overflow (in the ASan build), and the
//                          sums land in the wrong places.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "tests/cuda/cuda_test_util.h"

namespace {

constexpr int kThreads = 256;

__global__ void block_sums(const float* x, int n, float* out) {
  __shared__ float partial[kThreads];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  partial[threadIdx.x] = i < n ? x[i] : 0.0f;
#ifndef LOCDET_DEMO_MISSING_SYNC
  __syncthreads();
#endif
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (static_cast<int>(threadIdx.x) < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
#ifdef LOCDET_DEMO_OFF_BY_ONE
  if (threadIdx.x == 0) out[blockIdx.x + 1] = partial[0];
#else
  if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
#endif
}

TEST(EmulationDemo, BlockSumsMatchTheCpu) {
  LOCDET_REQUIRE_GPU();
  const int n = 1000, blocks = (n + kThreads - 1) / kThreads;
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(i % 7 + 1);
  locdet::test::DeviceBuffer<float> dx(x), dout(static_cast<size_t>(blocks));
  LOCDET_LAUNCH(block_sums, blocks, kThreads, 0, nullptr, dx.get(), n, dout.get());
  CUDA_CHECK_LAUNCH();
  const std::vector<float> out = dout.download();
  for (int b = 0; b < blocks; ++b) {
    float expect = 0.0f;
    for (int i = b * kThreads; i < std::min(n, (b + 1) * kThreads); ++i) expect += x[i];
    EXPECT_EQ(out[b], expect) << "block " << b;
  }
}

}  // namespace
