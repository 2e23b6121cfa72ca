#include "kernels/cpu/linear.h"

#include <cstdint>

#include "kernels/base/error.h"
#include "kernels/cpu/blas.h"

namespace locdet::cpu {

template <class T>
void linear_forward(int m, int k, int n, const T* x, const T* w, const T* b, T* y) {
  LOCDET_CHECK(m > 0 && k > 0 && n > 0, "linear: m, k, n must be positive (m=", m, " k=", k, " n=", n, ")");
  if (b) {
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) y[static_cast<int64_t>(i) * n + j] = b[j];
  }
  gemm(false, true, m, n, k, T(1), x, k, w, k, b ? T(1) : T(0), y, n);  // y = x w^T (+ y)
}

template <class T>
void linear_backward(int m, int k, int n, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  LOCDET_CHECK(m > 0 && k > 0 && n > 0, "linear: m, k, n must be positive (m=", m, " k=", k, " n=", n, ")");
  if (dx) gemm(false, false, m, k, n, T(1), dy, n, w, k, T(0), dx, k);  // dx = dy w
  gemm(true, false, n, k, m, T(1), dy, n, x, k, T(0), dw, k);           // dw = dy^T x
  if (db) {
    for (int j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int i = 0; i < m; ++i) sum += dy[static_cast<int64_t>(i) * n + j];
      db[j] = static_cast<T>(sum);
    }
  }
}

template void linear_forward<float>(int, int, int, const float*, const float*, const float*, float*);
template void linear_forward<double>(int, int, int, const double*, const double*, const double*, double*);
template void linear_backward<float>(int, int, int, const float*, const float*, const float*, float*, float*,
                                     float*);
template void linear_backward<double>(int, int, int, const double*, const double*, const double*, double*,
                                      double*, double*);

}  // namespace locdet::cpu
