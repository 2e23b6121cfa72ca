#include "kernels/cpu/localizer_targets.h"

namespace locdet::cpu {

template <typename T>
void localizer_targets(int batch, const LocalizerGrid& grid, const T* labels, int32_t* centre_cell,
                       T* presence, T* image_weight, int32_t* cell_class, T* cell_weight, T* target_box) {
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

template void localizer_targets<float>(int, const LocalizerGrid&, const float*, int32_t*, float*, float*,
                                       int32_t*, float*, float*);
template void localizer_targets<double>(int, const LocalizerGrid&, const double*, int32_t*, double*, double*,
                                        int32_t*, double*, double*);

}  // namespace locdet::cpu
