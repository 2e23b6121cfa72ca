#include "kernels/common/localizer_targets.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/scene_feed.h"

namespace locdet::cuda {

namespace {
__global__ void take_scene_indices_kernel(int64_t* cursor, int batch, uint64_t* indices) {
  const int64_t first = *cursor;
  for (int b = threadIdx.x; b < batch; b += blockDim.x) indices[b] = static_cast<uint64_t>(first + b);
  __syncthreads();
  if (threadIdx.x == 0) *cursor = first + batch;
}

__global__ void scene_labels_to_localizer_kernel(const SceneLabel* labels, int batch, int height, int width,
                                                 float* out) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b < batch) scene_label_to_localizer(labels[b], height, width, out + b * kLocalizerLabelSize);
}
}  // namespace

void take_scene_indices(int64_t* cursor, int batch, uint64_t* indices, cudaStream_t stream) {
  LOCDET_LAUNCH(take_scene_indices_kernel, 1, 256, 0, stream, cursor, batch, indices);
  CUDA_CHECK_LAUNCH();
}

void scene_labels_to_localizer(const SceneLabel* labels, int batch, int height, int width, float* out,
                               cudaStream_t stream) {
  LOCDET_LAUNCH(scene_labels_to_localizer_kernel, (batch + 127) / 128, 128, 0, stream, labels, batch, height,
                width, out);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
