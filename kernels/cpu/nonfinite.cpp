#include "kernels/cpu/nonfinite.h"

#include <cmath>

namespace locdet::cpu {

template <class T>
void nonfinite_or(int64_t n, const T* x, int32_t bit, int32_t* flag) {
  // x - x is 0 for finite x and NaN for NaN/Inf: one branch-free pass that vectorizes.
  T acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += x[i] - x[i];
  if (!(acc == T(0))) *flag |= bit;
}

template void nonfinite_or<float>(int64_t, const float*, int32_t, int32_t*);
template void nonfinite_or<double>(int64_t, const double*, int32_t, int32_t*);

}  // namespace locdet::cpu
