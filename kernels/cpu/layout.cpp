#include "kernels/cpu/layout.h"

namespace locdet::cpu {

template <typename T>
void nchw_to_cells(int64_t n, int64_t c, int64_t hw, const T* x, T* y) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < n; ++b)
    for (int64_t cell = 0; cell < hw; ++cell)
      for (int64_t ch = 0; ch < c; ++ch) y[(b * hw + cell) * c + ch] = x[(b * c + ch) * hw + cell];
}

template <typename T>
void cells_to_nchw(int64_t n, int64_t c, int64_t hw, const T* y, T* x) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t cell = 0; cell < hw; ++cell) x[(b * c + ch) * hw + cell] = y[(b * hw + cell) * c + ch];
}

template void nchw_to_cells<float>(int64_t, int64_t, int64_t, const float*, float*);
template void nchw_to_cells<double>(int64_t, int64_t, int64_t, const double*, double*);
template void cells_to_nchw<float>(int64_t, int64_t, int64_t, const float*, float*);
template void cells_to_nchw<double>(int64_t, int64_t, int64_t, const double*, double*);

}  // namespace locdet::cpu
