#include "kernels/cpu/activation.h"

#include "kernels/common/activation.h"

namespace locdet::cpu {

template <class T>
void relu_forward(int64_t n, const T* x, T* y) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = relu_fwd(x[i]);
}
template <class T>
void relu_backward(int64_t n, const T* x, const T* dy, T* dx) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dx[i] = relu_bwd(x[i], dy[i]);
}
template <class T>
void leaky_relu_forward(int64_t n, const T* x, T* y, T slope) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = leaky_relu_fwd(x[i], slope);
}
template <class T>
void leaky_relu_backward(int64_t n, const T* x, const T* dy, T* dx, T slope) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dx[i] = leaky_relu_bwd(x[i], dy[i], slope);
}
template <class T>
void silu_forward(int64_t n, const T* x, T* y) {
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; ++i) y[i] = silu_fwd(x[i]);
}
template <class T>
void silu_backward(int64_t n, const T* x, const T* dy, T* dx) {
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; ++i) dx[i] = silu_bwd(x[i], dy[i]);
}

#define LOCDET_INSTANTIATE_ACT(T)                                           \
  template void relu_forward<T>(int64_t, const T*, T*);                     \
  template void relu_backward<T>(int64_t, const T*, const T*, T*);          \
  template void leaky_relu_forward<T>(int64_t, const T*, T*, T);            \
  template void leaky_relu_backward<T>(int64_t, const T*, const T*, T*, T); \
  template void silu_forward<T>(int64_t, const T*, T*);                     \
  template void silu_backward<T>(int64_t, const T*, const T*, T*);
LOCDET_INSTANTIATE_ACT(float)
LOCDET_INSTANTIATE_ACT(double)
#undef LOCDET_INSTANTIATE_ACT

}  // namespace locdet::cpu
