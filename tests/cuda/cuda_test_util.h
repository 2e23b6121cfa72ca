// Shared by the CUDA tests: skip cleanly where no GPU is present (CI), and compare
// device results against the CPU reference with an explicit tolerance tol + |ref|*eps.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/core/device.h"
#include "kernels/cuda/cuda_check.h"

#define LOCDET_REQUIRE_GPU()                                                                        \
  do {                                                                                              \
    if (!::locdet::cuda_available()) GTEST_SKIP() << "no GPU: " << ::locdet::cuda_device_summary(); \
  } while (0)

namespace locdet::test {

// Explicit, synchronous copies for test set-up and read-back (never used in the step).
template <typename T>
T* to_device(const std::vector<T>& host) {
  T* device = nullptr;
  CUDA_CHECK(cudaMalloc(&device, sizeof(T) * std::max<size_t>(host.size(), 1)));
  CUDA_CHECK(cudaMemcpy(device, host.data(), sizeof(T) * host.size(), cudaMemcpyHostToDevice));
  return device;
}
template <typename T>
std::vector<T> to_host(const T* device, size_t n) {
  std::vector<T> host(n);
  CUDA_CHECK(cudaMemcpy(host.data(), device, sizeof(T) * n, cudaMemcpyDeviceToHost));
  return host;
}

// Fails with the first offending index; returns the worst |a-b| seen.
inline double expect_close(const std::vector<float>& ref, const std::vector<float>& got, double tol,
                           double rel, const char* what) {
  EXPECT_EQ(ref.size(), got.size()) << what;
  double worst = 0.0;
  for (size_t i = 0; i < ref.size() && i < got.size(); ++i) {
    double diff = std::fabs(static_cast<double>(ref[i]) - got[i]);
    worst = diff > worst ? diff : worst;
    if (!(diff <= tol + std::fabs(ref[i]) * rel)) {
      ADD_FAILURE() << what << ": index " << i << " ref " << ref[i] << " got " << got[i];
      return worst;
    }
  }
  return worst;
}

}  // namespace locdet::test
