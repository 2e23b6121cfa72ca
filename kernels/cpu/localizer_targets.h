// Localizer head targets (see kernels/common/localizer_targets.h), CPU reference.
#pragma once

#include <cstdint>

#include "kernels/common/localizer_targets.h"

namespace locdet::cpu {

// labels [batch, 6]; outputs: centre_cell [batch], presence [batch], image_weight [batch],
// cell_class [batch, cells], cell_weight [batch, cells], target_box [batch, cells, 4].
void localizer_targets(int batch, const LocalizerGrid& grid, const float* labels, int32_t* centre_cell,
                       float* presence, float* image_weight, int32_t* cell_class, float* cell_weight,
                       float* target_box);

}  // namespace locdet::cpu
