#include "kernels/cpu/tensor_ops.h"

#include <cmath>
#include <cstring>

namespace locdet::cpu {
namespace {
constexpr int64_t kParallelMin = 1 << 15;  // below this, threads cost more than they save

// Calls f(out_index, a_offset, b_offset) over d in row-major order.
template <class F>
void for_each4(const Index4& d, F f) {
  int64_t i = 0;
  for (int64_t i0 = 0; i0 < d.shape[0]; ++i0)
    for (int64_t i1 = 0; i1 < d.shape[1]; ++i1)
      for (int64_t i2 = 0; i2 < d.shape[2]; ++i2) {
        int64_t a = i0 * d.a[0] + i1 * d.a[1] + i2 * d.a[2];
        int64_t b = i0 * d.b[0] + i1 * d.b[1] + i2 * d.b[2];
        for (int64_t i3 = 0; i3 < d.shape[3]; ++i3, ++i) f(i, a + i3 * d.a[3], b + i3 * d.b[3]);
      }
}
}  // namespace

template <class T>
void fill(int64_t n, T value, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = value;
}

template <class T>
void copy(int64_t n, const T* x, T* y) {
  if (x != y) std::memmove(y, x, sizeof(T) * n);
}

template <class T>
void binary(BinaryKind kind, const Index4& d, const T* a, const T* b, T* y) {
  switch (kind) {
    case BinaryKind::kAdd:
      for_each4(d, [&](int64_t i, int64_t ia, int64_t ib) { y[i] = a[ia] + b[ib]; });
      break;
    case BinaryKind::kSub:
      for_each4(d, [&](int64_t i, int64_t ia, int64_t ib) { y[i] = a[ia] - b[ib]; });
      break;
    case BinaryKind::kMul:
      for_each4(d, [&](int64_t i, int64_t ia, int64_t ib) { y[i] = a[ia] * b[ib]; });
      break;
  }
}

template <class T>
void scale(int64_t n, T s, const T* x, T* y) {
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = s * x[i];
}

template <class T>
void sum_to(const Index4& d, T s, const T* x, T* y, int64_t y_numel) {
  if (y_numel == 1) {
    double acc = 0.0;
    for (int64_t i = 0, n = d.numel(); i < n; ++i) acc += x[i];
    y[0] = static_cast<T>(s * acc);
    return;
  }
  for (int64_t i = 0; i < y_numel; ++i) y[i] = 0;
  for_each4(d, [&](int64_t i, int64_t iy, int64_t) { y[iy] += x[i]; });
  for (int64_t i = 0; i < y_numel; ++i) y[i] *= s;
}

template <class T>
void broadcast_to(const Index4& d, T s, const T* x, T* y) {
  for_each4(d, [&](int64_t i, int64_t ix, int64_t) { y[i] = s * x[ix]; });
}

template <class T>
void sigmoid_forward(int64_t n, const T* x, T* y) {
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = T(1) / (T(1) + std::exp(-x[i]));
}

template <class T>
void sigmoid_backward(int64_t n, const T* y, const T* dy, T* dx) {
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (T(1) - y[i]);
}

template <class T>
void copy_slab(int64_t outer, int64_t inner, const T* src, int64_t src_len, int64_t src_start, T* dst,
               int64_t dst_len, int64_t dst_start, int64_t len) {
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(dst + (o * dst_len + dst_start) * inner, src + (o * src_len + src_start) * inner,
                sizeof(T) * len * inner);
}

#define LOCDET_INSTANTIATE(T)                                                 \
  template void fill<T>(int64_t, T, T*);                                      \
  template void copy<T>(int64_t, const T*, T*);                               \
  template void binary<T>(BinaryKind, const Index4&, const T*, const T*, T*); \
  template void scale<T>(int64_t, T, const T*, T*);                           \
  template void sum_to<T>(const Index4&, T, const T*, T*, int64_t);           \
  template void broadcast_to<T>(const Index4&, T, const T*, T*);              \
  template void sigmoid_forward<T>(int64_t, const T*, T*);                    \
  template void sigmoid_backward<T>(int64_t, const T*, const T*, T*);
LOCDET_INSTANTIATE(float)
LOCDET_INSTANTIATE(double)
#undef LOCDET_INSTANTIATE
template void copy<int32_t>(int64_t, const int32_t*, int32_t*);
template void copy<int64_t>(int64_t, const int64_t*, int64_t*);
template void copy_slab<float>(int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t, int64_t,
                               int64_t);
template void copy_slab<double>(int64_t, int64_t, const double*, int64_t, int64_t, double*, int64_t, int64_t,
                                int64_t);
template void copy_slab<int32_t>(int64_t, int64_t, const int32_t*, int64_t, int64_t, int32_t*, int64_t,
                                 int64_t, int64_t);

}  // namespace locdet::cpu
