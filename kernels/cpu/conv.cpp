// im2col + gemm convolution. Per sample: col[c*r*s, oh*ow] = im2col(x_n), then
//   forward:         y_n[k, oh*ow]   = W[k, crs] * col
//   backward data:   col             = W^T * dy_n,  dx_n = col2im(col)
//   backward filter: dW[k, crs]     += dy_n * col^T
// Threading: the batch is cut into kChunks fixed chunks that OpenMP spreads over its threads;
// each chunk has its own im2col buffer (and dW partial, summed in chunk order), and gemm runs
// single-threaded. Results therefore do not depend on the thread count. OpenBLAS's own pthread
// pool is switched to one thread (once per process, see single_threaded_blas): measured on the
// shared 2-core dev box, letting it thread each small gemm made conv 3-40x slower (spin-waiting
// pool threads against a loaded machine), and nesting it under OpenMP would oversubscribe.
// A 1x1, stride-1, unpadded conv skips im2col (col is x_n itself).
#include "kernels/cpu/conv.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/base/error.h"
#include "kernels/cpu/blas.h"

namespace locdet::cpu {
namespace {

void check_dims(const Conv2dDims& d) {
  LOCDET_CHECK(d.n > 0 && d.c > 0 && d.h > 0 && d.w > 0 && d.k > 0 && d.r > 0 && d.s > 0,
               "conv2d: all dimensions must be positive (n=", d.n, " c=", d.c, " h=", d.h, " w=", d.w,
               " k=", d.k, " r=", d.r, " s=", d.s, ")");
  LOCDET_CHECK(d.stride > 0 && d.pad >= 0, "conv2d: stride must be > 0 and pad >= 0 (stride=", d.stride,
               " pad=", d.pad, ")");
  LOCDET_CHECK(d.out_h() > 0 && d.out_w() > 0, "conv2d: filter ", d.r, "x", d.s, " larger than padded input ",
               d.h, "x", d.w, " (pad ", d.pad, ")");
}

bool is_pointwise(const Conv2dDims& d) {
  return d.r == 1 && d.s == 1 && d.stride == 1 && d.pad == 0;
}

// Fixed work split (not the thread count) so sums, and hence results, are the same on any machine.
constexpr int kChunks = 16;
int chunk_count(const Conv2dDims& d) {
  return std::min(d.n, kChunks);
}
int chunk_begin(const Conv2dDims& d, int chunk) {
  return static_cast<int>(static_cast<int64_t>(d.n) * chunk / chunk_count(d));
}
size_t col_elems(const Conv2dDims& d) {
  return is_pointwise(d) ? 0 : static_cast<size_t>(d.c) * d.r * d.s * d.out_h() * d.out_w();
}
size_t dw_elems(const Conv2dDims& d) {
  return static_cast<size_t>(d.k) * d.c * d.r * d.s;
}

void single_threaded_blas() {
  static const bool done = [] {
    if (openblas_get_parallel() == 1) openblas_set_num_threads(1);  // 1 = pthreads build
    return true;
  }();
  (void)done;
}

// col[(ci*r + kr)*s + ks][oy*ow + ox] = x[ci][oy*stride - pad + kr][ox*stride - pad + ks] (0 outside)
template <class T>
void im2col(const Conv2dDims& d, const T* x, T* col) {
  const int oh = d.out_h(), ow = d.out_w(), hw = d.h * d.w;
  for (int ci = 0; ci < d.c; ++ci) {
    const T* plane = x + static_cast<int64_t>(ci) * hw;
    for (int kr = 0; kr < d.r; ++kr) {
      for (int ks = 0; ks < d.s; ++ks) {
        T* row = col + (static_cast<int64_t>(ci * d.r + kr) * d.s + ks) * oh * ow;
        for (int oy = 0; oy < oh; ++oy) {
          const int iy = oy * d.stride - d.pad + kr;
          T* out = row + oy * ow;
          if (iy < 0 || iy >= d.h) {
            std::fill(out, out + ow, T(0));
            continue;
          }
          const T* in = plane + iy * d.w;
          if (d.stride == 1) {
            // valid ox: 0 <= ox - pad + ks < w
            const int lo = std::clamp(d.pad - ks, 0, ow), hi = std::clamp(d.w + d.pad - ks, lo, ow);
            std::fill(out, out + lo, T(0));
            std::copy(in + lo - d.pad + ks, in + hi - d.pad + ks, out + lo);
            std::fill(out + hi, out + ow, T(0));
          } else {
            for (int ox = 0; ox < ow; ++ox) {
              const int ix = ox * d.stride - d.pad + ks;
              out[ox] = (ix >= 0 && ix < d.w) ? in[ix] : T(0);
            }
          }
        }
      }
    }
  }
}

// dx = sum of col entries back at their input positions (dx overwritten).
template <class T>
void col2im(const Conv2dDims& d, const T* col, T* dx) {
  const int oh = d.out_h(), ow = d.out_w(), hw = d.h * d.w;
  for (int ci = 0; ci < d.c; ++ci) {
    T* plane = dx + static_cast<int64_t>(ci) * hw;
    std::fill(plane, plane + hw, T(0));
    for (int kr = 0; kr < d.r; ++kr) {
      for (int ks = 0; ks < d.s; ++ks) {
        const T* row = col + (static_cast<int64_t>(ci * d.r + kr) * d.s + ks) * oh * ow;
        for (int oy = 0; oy < oh; ++oy) {
          const int iy = oy * d.stride - d.pad + kr;
          if (iy < 0 || iy >= d.h) continue;
          T* out = plane + iy * d.w;
          const T* in = row + oy * ow;
          if (d.stride == 1) {
            const int lo = std::clamp(d.pad - ks, 0, ow), hi = std::clamp(d.w + d.pad - ks, lo, ow);
            T* base = out - d.pad + ks;
            for (int ox = lo; ox < hi; ++ox) base[ox] += in[ox];
          } else {
            for (int ox = 0; ox < ow; ++ox) {
              const int ix = ox * d.stride - d.pad + ks;
              if (ix >= 0 && ix < d.w) out[ix] += in[ox];
            }
          }
        }
      }
    }
  }
}

}  // namespace

size_t conv2d_workspace_elems(const Conv2dDims& d) {
  check_dims(d);
  // Per chunk: one im2col buffer plus one dW partial (backward filter).
  return static_cast<size_t>(chunk_count(d)) * (col_elems(d) + dw_elems(d));
}

template <class T>
void conv2d_forward(const Conv2dDims& d, const T* x, const T* w, const T* bias, T* y, T* workspace) {
  check_dims(d);
  single_threaded_blas();
  const int ohw = d.out_h() * d.out_w(), crs = d.c * d.r * d.s;
  const int64_t x_stride = static_cast<int64_t>(d.c) * d.h * d.w, y_stride = static_cast<int64_t>(d.k) * ohw;
#pragma omp parallel for schedule(static)
  for (int chunk = 0; chunk < chunk_count(d); ++chunk) {
    T* col_buf = workspace + chunk * col_elems(d);
    for (int i = chunk_begin(d, chunk); i < chunk_begin(d, chunk + 1); ++i) {
      const T* col = x + i * x_stride;
      if (!is_pointwise(d)) {
        im2col(d, x + i * x_stride, col_buf);
        col = col_buf;
      }
      T* yi = y + i * y_stride;
      if (bias) {
        for (int kk = 0; kk < d.k; ++kk)
          std::fill(yi + static_cast<int64_t>(kk) * ohw, yi + (kk + 1LL) * ohw, bias[kk]);
      }
      gemm(false, false, d.k, ohw, crs, T(1), w, crs, col, ohw, bias ? T(1) : T(0), yi, ohw);
    }
  }
}

template <class T>
void conv2d_backward_data(const Conv2dDims& d, const T* dy, const T* w, T* dx, T* workspace) {
  check_dims(d);
  single_threaded_blas();
  const int ohw = d.out_h() * d.out_w(), crs = d.c * d.r * d.s;
  const int64_t x_stride = static_cast<int64_t>(d.c) * d.h * d.w, y_stride = static_cast<int64_t>(d.k) * ohw;
#pragma omp parallel for schedule(static)
  for (int chunk = 0; chunk < chunk_count(d); ++chunk) {
    T* col_buf = workspace + chunk * col_elems(d);
    for (int i = chunk_begin(d, chunk); i < chunk_begin(d, chunk + 1); ++i) {
      if (is_pointwise(d)) {
        gemm(true, false, crs, ohw, d.k, T(1), w, crs, dy + i * y_stride, ohw, T(0), dx + i * x_stride, ohw);
      } else {
        gemm(true, false, crs, ohw, d.k, T(1), w, crs, dy + i * y_stride, ohw, T(0), col_buf, ohw);
        col2im(d, col_buf, dx + i * x_stride);
      }
    }
  }
}

template <class T>
void conv2d_backward_filter(const Conv2dDims& d, const T* x, const T* dy, T* dw, T* dbias, T* workspace) {
  check_dims(d);
  single_threaded_blas();
  const int ohw = d.out_h() * d.out_w(), crs = d.c * d.r * d.s, chunks = chunk_count(d);
  const int64_t x_stride = static_cast<int64_t>(d.c) * d.h * d.w, y_stride = static_cast<int64_t>(d.k) * ohw;
  T* partials = workspace + chunks * col_elems(d);
  const size_t dws = dw_elems(d);
#pragma omp parallel for schedule(static)
  for (int chunk = 0; chunk < chunks; ++chunk) {
    T* col_buf = workspace + chunk * col_elems(d);
    T* part = partials + chunk * dws;
    for (int i = chunk_begin(d, chunk); i < chunk_begin(d, chunk + 1); ++i) {
      const T* col = x + i * x_stride;
      if (!is_pointwise(d)) {
        im2col(d, x + i * x_stride, col_buf);
        col = col_buf;
      }
      const bool first = i == chunk_begin(d, chunk);
      gemm(false, true, d.k, crs, ohw, T(1), dy + i * y_stride, ohw, col, ohw, first ? T(0) : T(1), part,
           crs);
    }
  }
  // dW = sum of chunk partials in chunk order (deterministic).
#pragma omp parallel for schedule(static)
  for (int64_t e = 0; e < static_cast<int64_t>(dws); ++e) {
    T sum = partials[e];
    for (int chunk = 1; chunk < chunks; ++chunk) sum += partials[chunk * dws + e];
    dw[e] = sum;
  }
  if (dbias) {
#pragma omp parallel for schedule(static)
    for (int kk = 0; kk < d.k; ++kk) {
      double sum = 0.0;
      for (int i = 0; i < d.n; ++i) {
        const T* row = dy + i * y_stride + static_cast<int64_t>(kk) * ohw;
        for (int j = 0; j < ohw; ++j) sum += row[j];
      }
      dbias[kk] = static_cast<T>(sum);
    }
  }
}

#define LOCDET_INSTANTIATE_CONV(T)                                                          \
  template void conv2d_forward<T>(const Conv2dDims&, const T*, const T*, const T*, T*, T*); \
  template void conv2d_backward_data<T>(const Conv2dDims&, const T*, const T*, T*, T*);     \
  template void conv2d_backward_filter<T>(const Conv2dDims&, const T*, const T*, T*, T*, T*);
LOCDET_INSTANTIATE_CONV(float)
LOCDET_INSTANTIATE_CONV(double)
#undef LOCDET_INSTANTIATE_CONV

}  // namespace locdet::cpu
