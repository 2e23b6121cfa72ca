// CUDA dataset augmentation (the math is kernels/common/augment.h; the CPU reference is
// kernels/cpu/augment): one block per sample, thread 0 draws the sample's transform into
// shared memory, then the threads write 4 pixels each (one Philox noise block per 4 pixels,
// as the scene renderer), and thread 0 writes the label. Bit-identical to the CPU reference.
// DeviceDataset holds a dataset on the GPU: uploaded once, read by every step.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/common/augment.h"

namespace locdet::cuda {

// Sample b of the batch is indices[b] (device memory) when given, else first_sample + b.
void augment_batch(const AugmentParams& params, const DatasetView& data, SceneKey key, uint64_t first_sample,
                   const uint64_t* indices, int batch, float* images, SceneLabel* labels,
                   cudaStream_t stream);

// Free memory on the current device, in bytes (cudaMemGetInfo).
int64_t free_device_bytes();

class DeviceDataset {
 public:
  DeviceDataset() = default;
  DeviceDataset(const DeviceDataset&) = delete;
  DeviceDataset& operator=(const DeviceDataset&) = delete;
  ~DeviceDataset();

  // pixels [count, height, width] and labels [count] from host memory; returns when the copies
  // have landed.
  void upload(const uint8_t* pixels, const SceneLabel* labels, int count, int height, int width);
  DatasetView view() const;
  static int64_t bytes_needed(int64_t count, int height, int width);

 private:
  uint8_t* pixels_ = nullptr;
  SceneLabel* labels_ = nullptr;
  int count_ = 0;
};

}  // namespace locdet::cuda
