// CUDA twin of kernels/cpu/scene.h: renders a batch of scenes straight into device
// memory from digits held on the GPU. One block per sample: thread 0 draws the layout
// into shared memory (the serial rejection placement), then the block renders the
// pixels (one thread per 4-pixel Philox block) and reduces each digit's ink extent
// with shared-memory atomics. Same math as the CPU (kernels/common/scene.h, no FMA
// contraction), so images and labels match the CPU bit for bit. No allocation and no
// host sync inside render_scene_batch.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/common/scene.h"

namespace locdet::cuda {

// images: device [batch, H, W]; labels: device [batch]; indices: device [batch] or null
// (then sample b is first_index + b); source: device pointers (DeviceDigits::source()).
void render_scene_batch(const SceneParams& params, const DigitSource& source, SceneKey key,
                        uint64_t first_index, const uint64_t* indices, int batch, float* images,
                        SceneLabel* labels, cudaStream_t stream);

// The source digits on the GPU (all of MNIST train + test, 55 MB, uploaded once) and a
// split's draw pool. Owns its device memory.
class DeviceDigits {
 public:
  DeviceDigits() = default;
  DeviceDigits(const DeviceDigits&) = delete;
  DeviceDigits& operator=(const DeviceDigits&) = delete;
  ~DeviceDigits();

  // pixels [n, 28, 28], labels [n], ink_box [n, 4] as in DigitSource (host memory).
  void upload(const uint8_t* pixels, const uint8_t* labels, const uint8_t* ink_box, int count);
  // Global indices one (preset, split) draws from (host memory); replaces (frees) the previous
  // pool, so call it before any step that renders from source() is captured into a CUDA Graph.
  void set_pool(const int32_t* pool, int pool_size);
  DigitSource source() const;

 private:
  uint8_t* pixels_ = nullptr;
  uint8_t* labels_ = nullptr;
  uint8_t* ink_box_ = nullptr;
  int32_t* pool_ = nullptr;
  int count_ = 0;
  int pool_size_ = 0;
};

}  // namespace locdet::cuda
