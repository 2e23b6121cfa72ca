// Shared by the CUDA tests: skip cleanly where no GPU is present (CI), and compare
// device results against the CPU reference with an explicit tolerance tol + |ref|*eps.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/base/device.h"
#include "kernels/cuda/cuda_check.h"

#define LOCDET_REQUIRE_GPU()                                                                        \
  do {                                                                                              \
    if (!::locdet::cuda_available()) GTEST_SKIP() << "no GPU: " << ::locdet::cuda_device_summary(); \
  } while (0)

namespace locdet::test {

// Explicit copies for test set-up and read-back (never used in the step). Both synchronize the
// device: a copy from pageable memory may return before its DMA lands, and the kernels under
// test run on non-blocking streams, which do not wait for the legacy stream cudaMemcpy uses.
template <typename T>
void upload_to(T* device, const std::vector<T>& host) {
  CUDA_CHECK(cudaMemcpy(device, host.data(), sizeof(T) * host.size(), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaDeviceSynchronize());
}
template <typename T>
T* to_device(const std::vector<T>& host) {
  T* device = nullptr;
  CUDA_CHECK(cudaMalloc(&device, sizeof(T) * std::max<size_t>(host.size(), 1)));
  upload_to(device, host);
  return device;
}
template <typename T>
std::vector<T> to_host(const T* device, size_t n) {
  std::vector<T> host(n);
  CUDA_CHECK(cudaDeviceSynchronize());
  CUDA_CHECK(cudaMemcpy(host.data(), device, sizeof(T) * n, cudaMemcpyDeviceToHost));
  return host;
}

// Uniform floats in [lo, hi), reproducible from `seed`.
inline std::vector<float> random_floats(size_t n, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

// An owned device array of n elements, uploaded from and downloaded to host vectors.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    CUDA_CHECK(cudaMalloc(&ptr_, std::max<size_t>(n, 1) * sizeof(T)));
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void upload(const std::vector<T>& host) {
    EXPECT_EQ(host.size(), n_) << "DeviceBuffer::upload of a different size";
    upload_to(ptr_, host);
  }
  std::vector<T> download() const { return to_host(ptr_, n_); }
  T* get() const { return ptr_; }

 private:
  T* ptr_ = nullptr;
  size_t n_;
};

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
