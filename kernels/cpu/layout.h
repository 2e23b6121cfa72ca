// Layout changes between NCHW feature maps and per-cell rows [N, H*W, C] (what per-cell
// heads, cross entropy over classes and box decoding want).
#pragma once

#include <cstdint>

namespace locdet::cpu {

// y[n, hw, c] = x[n, c, hw]
template <typename T>
void nchw_to_cells(int64_t n, int64_t c, int64_t hw, const T* x, T* y);
// x[n, c, hw] = y[n, hw, c] (the inverse; also the backward of nchw_to_cells)
template <typename T>
void cells_to_nchw(int64_t n, int64_t c, int64_t hw, const T* y, T* x);

}  // namespace locdet::cpu
