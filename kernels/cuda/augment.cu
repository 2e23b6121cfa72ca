// CUDA dataset augmentation; see kernels/cuda/augment.h.
#include "kernels/cuda/augment.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"

namespace locdet::cuda {

namespace {

constexpr int kAugmentThreads = 128;

__global__ void augment_kernel(AugmentParams p, DatasetView data, SceneKey key, uint64_t first_sample,
                               const uint64_t* indices, float* images, SceneLabel* labels) {
  __shared__ AugmentDraw draw;
  const int b = blockIdx.x;
  const uint64_t sample = indices ? indices[b] : first_sample + static_cast<uint64_t>(b);
  if (threadIdx.x == 0) draw_augment(p, data, key, sample, &draw);
  __syncthreads();
  const AugmentDraw d = draw;
  const uint8_t* stored = data.pixels + static_cast<int64_t>(d.image) * p.height * p.width;
  const int pixels = p.height * p.width;
  float* out = images + static_cast<int64_t>(b) * pixels;
  for (int q = threadIdx.x; 4 * q < pixels; q += blockDim.x) {
    const Philox4 noise = augment_noise_block(key, sample, static_cast<uint32_t>(q));
    for (int e = 0; e < 4 && 4 * q + e < pixels; ++e) {
      const int pixel = 4 * q + e;
      out[pixel] = augment_pixel(p, stored, d, pixel % p.width, pixel / p.width, philox_uniform(noise.v[e]));
    }
  }
  if (threadIdx.x == 0) augment_label(p, data.labels[d.image], d, &labels[b]);
}

}  // namespace

void augment_batch(const AugmentParams& params, const DatasetView& data, SceneKey key, uint64_t first_sample,
                   const uint64_t* indices, int batch, float* images, SceneLabel* labels,
                   cudaStream_t stream) {
  if (batch <= 0) return;
  LOCDET_LAUNCH(augment_kernel, batch, kAugmentThreads, 0, stream, params, data, key, first_sample, indices,
                images, labels);
  CUDA_CHECK_LAUNCH();
}

int64_t free_device_bytes() {
  size_t free_bytes = 0, total_bytes = 0;
  CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  return static_cast<int64_t>(free_bytes);
}

int64_t DeviceDataset::bytes_needed(int64_t count, int height, int width) {
  return count * height * width + count * static_cast<int64_t>(sizeof(SceneLabel));
}

DeviceDataset::~DeviceDataset() {
  cudaFree(pixels_);
  cudaFree(labels_);
}

void DeviceDataset::upload(const uint8_t* pixels, const SceneLabel* labels, int count, int height,
                           int width) {
  cudaFree(pixels_);
  cudaFree(labels_);
  pixels_ = nullptr;
  labels_ = nullptr;
  const size_t pixel_bytes = static_cast<size_t>(count) * height * width;
  const size_t label_bytes = static_cast<size_t>(count) * sizeof(SceneLabel);
  CUDA_CHECK(cudaMalloc(&pixels_, pixel_bytes > 0 ? pixel_bytes : 1));
  CUDA_CHECK(cudaMalloc(&labels_, label_bytes > 0 ? label_bytes : 1));
  if (pixel_bytes > 0) CUDA_CHECK(cudaMemcpy(pixels_, pixels, pixel_bytes, cudaMemcpyHostToDevice));
  if (label_bytes > 0) CUDA_CHECK(cudaMemcpy(labels_, labels, label_bytes, cudaMemcpyHostToDevice));
  // Copies from pageable memory may return before their DMA lands, and the executor's
  // non-blocking stream does not wait for the legacy stream: finish them here.
  CUDA_CHECK(cudaDeviceSynchronize());
  count_ = count;
}

DatasetView DeviceDataset::view() const {
  return {pixels_, labels_, count_};
}

}  // namespace locdet::cuda
