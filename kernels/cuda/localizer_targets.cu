// One thread per (image, cell); the per-image outputs come from the cell-0 thread.
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/localizer_targets.h"

namespace locdet::cuda {

namespace {
__global__ void localizer_targets_kernel(int batch, LocalizerGrid grid, const float* labels,
                                         int32_t* centre_cell, float* presence, float* image_weight,
                                         int32_t* cell_class, float* cell_weight, float* target_box) {
  const int cells = grid.height * grid.width;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(batch) * cells) return;
  const int n = static_cast<int>(i / cells), cell = static_cast<int>(i % cells);
  if (cell == 0)
    localizer_image_targets(labels, batch, grid, n, centre_cell + n, presence + n, image_weight + n);
  localizer_cell_targets(labels, batch, grid, n, cell, cell_class + i, cell_weight + i, target_box + 4 * i);
}
}  // namespace

void localizer_targets(int batch, const LocalizerGrid& grid, const float* labels, int32_t* centre_cell,
                       float* presence, float* image_weight, int32_t* cell_class, float* cell_weight,
                       float* target_box, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(batch) * grid.height * grid.width;
  LOCDET_LAUNCH(localizer_targets_kernel, blocks_for(total), kThreadsPerBlock, 0, stream, batch, grid, labels,
                centre_cell, presence, image_weight, cell_class, cell_weight, target_box);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
