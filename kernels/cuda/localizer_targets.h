// Localizer head targets, CUDA twin of kernels/cpu/localizer_targets.h (bit-identical).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/common/localizer_targets.h"

namespace locdet::cuda {

void localizer_targets(int batch, const LocalizerGrid& grid, const float* labels, int32_t* centre_cell,
                       float* presence, float* image_weight, int32_t* cell_class, float* cell_weight,
                       float* target_box, cudaStream_t stream);

}  // namespace locdet::cuda
