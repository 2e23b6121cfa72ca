// Localizer head targets (see kernels/common/localizer_targets.h), CPU reference.
#pragma once

#include <cstdint>

#include "kernels/common/localizer_targets.h"

namespace locdet::cpu {

// labels [batch, 6]; outputs: centre_cell [batch], presence [batch], image_weight [batch],
// cell_class [batch, cells], cell_weight [batch, cells], target_box [batch, cells, 4].
// T = float for training, double for whole-graph gradient checks.
template <typename T>
void localizer_targets(int batch, const LocalizerGrid& grid, const T* labels, int32_t* centre_cell,
                       T* presence, T* image_weight, int32_t* cell_class, T* cell_weight, T* target_box);

}  // namespace locdet::cpu
