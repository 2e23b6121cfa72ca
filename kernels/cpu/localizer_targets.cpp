#include "kernels/cpu/localizer_targets.h"

namespace locdet::cpu {

void localizer_targets(int batch, const LocalizerGrid& grid, const float* labels, int32_t* centre_cell,
                       float* presence, float* image_weight, int32_t* cell_class, float* cell_weight,
                       float* target_box) {
  const int cells = grid.height * grid.width;
  for (int n = 0; n < batch; ++n) {
    localizer_image_targets(labels, batch, grid, n, centre_cell + n, presence + n, image_weight + n);
    for (int cell = 0; cell < cells; ++cell) {
      const int64_t i = static_cast<int64_t>(n) * cells + cell;
      localizer_cell_targets(labels, batch, grid, n, cell, cell_class + i, cell_weight + i,
                             target_box + 4 * i);
    }
  }
}

}  // namespace locdet::cpu
