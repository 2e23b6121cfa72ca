// CUDA scene renderer; see kernels/cuda/scene.h.
#include <climits>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/scene.h"

namespace locdet::cuda {

namespace {

constexpr int kSceneThreads = 128;

__global__ void render_scene_kernel(SceneParams p, DigitSource src, SceneKey key, uint64_t first_index,
                                    const uint64_t* indices, float* images, SceneLabel* labels) {
  __shared__ SceneLayout layout;
  __shared__ int ink[kSceneMaxDigits][4];
  const int b = blockIdx.x;
  const uint64_t sample = indices ? indices[b] : first_index + static_cast<uint64_t>(b);
  if (threadIdx.x == 0) draw_scene_layout(p, src, key, sample, &layout);
  if (threadIdx.x < kSceneMaxDigits) {
    ink[threadIdx.x][0] = INT_MAX;
    ink[threadIdx.x][1] = INT_MAX;
    ink[threadIdx.x][2] = -1;
    ink[threadIdx.x][3] = -1;
  }
  __syncthreads();

  const int count = layout.count;
  const int pixels = p.height * p.width;
  const int quads = (pixels + 3) / 4;
  float* out = images + static_cast<int64_t>(b) * pixels;
  int lx0[kSceneMaxDigits], ly0[kSceneMaxDigits], lx1[kSceneMaxDigits], ly1[kSceneMaxDigits];
#pragma unroll
  for (int k = 0; k < kSceneMaxDigits; ++k) {
    lx0[k] = INT_MAX;
    ly0[k] = INT_MAX;
    lx1[k] = -1;
    ly1[k] = -1;
  }
  const bool vector_store = (pixels & 3) == 0;
  for (int q = threadIdx.x; q < quads; q += blockDim.x) {
    Philox4 noise = scene_noise_block(key, sample, static_cast<uint32_t>(q));
    float values[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int pixel = 4 * q + e;
      values[e] = 0.0f;
      if (pixel < pixels) {
        const int y = pixel / p.width, x = pixel - y * p.width;
        float value = scene_background(p, layout, x, y, philox_uniform(noise.v[e]));
        const float px = static_cast<float>(x) + 0.5f, py = static_cast<float>(y) + 0.5f;
#pragma unroll
        for (int k = 0; k < kSceneMaxDigits; ++k) {
          if (k < count) {
            float coverage = digit_coverage(layout.digit[k], src.pixels, px, py);
            if (coverage >= p.ink_threshold) {
              lx0[k] = min(lx0[k], x);
              ly0[k] = min(ly0[k], y);
              lx1[k] = max(lx1[k], x);
              ly1[k] = max(ly1[k], y);
            }
            value = hd_max(value, coverage);
          }
        }
        values[e] = hd_min(hd_max(value, 0.0f), 1.0f);
      }
    }
    if (vector_store) {
      reinterpret_cast<float4*>(out)[q] = make_float4(values[0], values[1], values[2], values[3]);
    } else {
      for (int e = 0; e < 4 && 4 * q + e < pixels; ++e) out[4 * q + e] = values[e];
    }
  }
#pragma unroll
  for (int k = 0; k < kSceneMaxDigits; ++k) {
    if (k < count && lx1[k] >= 0) {
      atomicMin(&ink[k][0], lx0[k]);
      atomicMin(&ink[k][1], ly0[k]);
      atomicMax(&ink[k][2], lx1[k]);
      atomicMax(&ink[k][3], ly1[k]);
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) scene_label(p, layout, ink, &labels[b]);
}

}  // namespace

void render_scene_batch(const SceneParams& params, const DigitSource& source, SceneKey key,
                        uint64_t first_index, const uint64_t* indices, int batch, float* images,
                        SceneLabel* labels, cudaStream_t stream) {
  if (batch <= 0) return;
  // The float4 store needs 16-byte aligned rows of images; cudaMalloc gives 256.
  LOCDET_LAUNCH(render_scene_kernel, batch, kSceneThreads, 0, stream, params, source, key, first_index,
                indices, images, labels);
  CUDA_CHECK_LAUNCH();
}

DeviceDigits::~DeviceDigits() {
  cudaFree(pixels_);
  cudaFree(labels_);
  cudaFree(ink_box_);
  cudaFree(pool_);
}

void DeviceDigits::upload(const uint8_t* pixels, const uint8_t* labels, const uint8_t* ink_box, int count) {
  cudaFree(pixels_);
  cudaFree(labels_);
  cudaFree(ink_box_);
  pixels_ = labels_ = ink_box_ = nullptr;
  const size_t image_bytes = static_cast<size_t>(count) * kDigitSide * kDigitSide;
  CUDA_CHECK(cudaMalloc(&pixels_, image_bytes));
  CUDA_CHECK(cudaMalloc(&labels_, static_cast<size_t>(count)));
  CUDA_CHECK(cudaMalloc(&ink_box_, static_cast<size_t>(count) * 4));
  CUDA_CHECK(cudaMemcpy(pixels_, pixels, image_bytes, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(labels_, labels, static_cast<size_t>(count), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(ink_box_, ink_box, static_cast<size_t>(count) * 4, cudaMemcpyHostToDevice));
  // Copies from pageable memory may return before their DMA lands, and the executor's
  // non-blocking stream does not wait for the legacy stream: finish them here.
  CUDA_CHECK(cudaDeviceSynchronize());
  count_ = count;
}

void DeviceDigits::set_pool(const int32_t* pool, int pool_size) {
  cudaFree(pool_);
  pool_ = nullptr;
  CUDA_CHECK(cudaMalloc(&pool_, static_cast<size_t>(pool_size > 0 ? pool_size : 1) * sizeof(int32_t)));
  if (pool_size > 0)
    CUDA_CHECK(
        cudaMemcpy(pool_, pool, static_cast<size_t>(pool_size) * sizeof(int32_t), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaDeviceSynchronize());  // as in upload()
  pool_size_ = pool_size;
}

DigitSource DeviceDigits::source() const {
  DigitSource s;
  s.pixels = pixels_;
  s.labels = labels_;
  s.ink_box = ink_box_;
  s.pool = pool_;
  s.pool_size = pool_size_;
  return s;
}

}  // namespace locdet::cuda
