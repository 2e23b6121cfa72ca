// The 4-D iteration space of the broadcasting tensor ops (kernels/cpu/tensor_ops.h) and
// the per-output sum of sum_to, shared by the CPU tests and the CUDA kernel.
#pragma once

#include <cstdint>

#include "kernels/common/hostdevice.h"

namespace locdet {

// A 4-D iteration space and two operands' element strides over it.
struct Index4 {
  int64_t shape[4];
  int64_t a[4];
  int64_t b[4];
  LOCDET_HD int64_t numel() const { return shape[0] * shape[1] * shape[2] * shape[3]; }
};

// Output element `o` of sum_to: x is contiguous over d.shape, y's strides are d.a (0 on a
// reduced dim). Visits only the inputs that land on `o`, in increasing input order, so the
// float sum equals the CPU's sequential scatter bit for bit.
template <class T>
LOCDET_HD T sum_to_element(const Index4& d, T s, const T* x, int64_t o) {
  int64_t in_stride[4], extent[4];
  in_stride[3] = 1;
  for (int k = 2; k >= 0; --k) in_stride[k] = in_stride[k + 1] * d.shape[k + 1];
  int64_t base = 0;
  for (int k = 0; k < 4; ++k) {
    const bool kept = d.a[k] != 0;
    if (kept) base += (o / d.a[k]) % d.shape[k] * in_stride[k];
    extent[k] = kept ? 1 : d.shape[k];
  }
  T acc = 0;
  for (int64_t r0 = 0; r0 < extent[0]; ++r0)
    for (int64_t r1 = 0; r1 < extent[1]; ++r1)
      for (int64_t r2 = 0; r2 < extent[2]; ++r2) {
        const T* row = x + base + r0 * in_stride[0] + r1 * in_stride[1] + r2 * in_stride[2];
        for (int64_t r3 = 0; r3 < extent[3]; ++r3) acc += row[r3];
      }
  return s * acc;
}

}  // namespace locdet
