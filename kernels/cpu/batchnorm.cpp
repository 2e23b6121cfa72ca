// Batch norm reference. Per channel: two passes (mean, then centred sum of squares) in double,
// then the affine map. The sums are `omp simd` reductions: a serial double add chain was the
// bottleneck (4 cycles/element); the vector split is fixed per build, so still deterministic.
// Backward: sums in double, then the closed form per element in T (as the CUDA twin does):
//   dx = gamma * invstd / N * (N dy - sum(dy) - xhat * sum(dy * xhat)).
#include "kernels/cpu/batchnorm.h"

#include <cmath>
#include <cstdint>

#include "kernels/base/error.h"

namespace locdet::cpu {
namespace {

void check_dims(const BatchNormDims& d) {
  LOCDET_CHECK(d.n > 0 && d.c > 0 && d.hw > 0, "batchnorm: n, c, hw must be positive (n=", d.n, " c=", d.c,
               " hw=", d.hw, ")");
}

}  // namespace

template <class T>
void batchnorm_forward_train(const BatchNormDims& d, const T* x, const T* gamma, const T* beta, T* y,
                             T* save_mean, T* save_invstd, T* running_mean, T* running_var, T momentum,
                             T eps) {
  check_dims(d);
  const int64_t count = static_cast<int64_t>(d.n) * d.hw, plane = d.hw, batch_stride = int64_t(d.c) * d.hw;
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d.c; ++ch) {
    double sum = 0.0;
    for (int i = 0; i < d.n; ++i) {
      const T* p = x + i * batch_stride + ch * plane;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < plane; ++j) sum += p[j];
    }
    const double mean = sum / count;
    double sq = 0.0;
    for (int i = 0; i < d.n; ++i) {
      const T* p = x + i * batch_stride + ch * plane;
#pragma omp simd reduction(+ : sq)
      for (int64_t j = 0; j < plane; ++j) {
        const double c = p[j] - mean;
        sq += c * c;
      }
    }
    const double var = sq / count;
    const double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
    save_mean[ch] = static_cast<T>(mean);
    save_invstd[ch] = static_cast<T>(invstd);
    if (running_mean && running_var) {
      const double unbiased = count > 1 ? var * count / (count - 1) : var;
      running_mean[ch] = static_cast<T>((1.0 - momentum) * running_mean[ch] + momentum * mean);
      running_var[ch] = static_cast<T>((1.0 - momentum) * running_var[ch] + momentum * unbiased);
    }
    const T scale = static_cast<T>(gamma[ch] * invstd);
    const T shift = static_cast<T>(beta[ch] - mean * gamma[ch] * invstd);
    for (int i = 0; i < d.n; ++i) {
      const T* p = x + i * batch_stride + ch * plane;
      T* q = y + i * batch_stride + ch * plane;
      for (int64_t j = 0; j < plane; ++j) q[j] = p[j] * scale + shift;
    }
  }
}

template <class T>
void batchnorm_forward_eval(const BatchNormDims& d, const T* x, const T* gamma, const T* beta,
                            const T* running_mean, const T* running_var, T eps, T* y) {
  check_dims(d);
  const int64_t plane = d.hw, batch_stride = int64_t(d.c) * d.hw;
#pragma omp parallel for schedule(static) collapse(2)
  for (int i = 0; i < d.n; ++i) {
    for (int ch = 0; ch < d.c; ++ch) {
      const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[ch]) + eps);
      const T scale = static_cast<T>(gamma[ch] * invstd);
      const T shift = static_cast<T>(beta[ch] - running_mean[ch] * gamma[ch] * invstd);
      const T* p = x + i * batch_stride + ch * plane;
      T* q = y + i * batch_stride + ch * plane;
      for (int64_t j = 0; j < plane; ++j) q[j] = p[j] * scale + shift;
    }
  }
}

template <class T>
void batchnorm_backward(const BatchNormDims& d, const T* x, const T* dy, const T* gamma, const T* save_mean,
                        const T* save_invstd, T* dx, T* dgamma, T* dbeta) {
  check_dims(d);
  const int64_t count = static_cast<int64_t>(d.n) * d.hw, plane = d.hw, batch_stride = int64_t(d.c) * d.hw;
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d.c; ++ch) {
    const double mean = save_mean[ch], invstd = save_invstd[ch];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (int i = 0; i < d.n; ++i) {
      const T* p = x + i * batch_stride + ch * plane;
      const T* g = dy + i * batch_stride + ch * plane;
#pragma omp simd reduction(+ : sum_dy, sum_dy_xhat)
      for (int64_t j = 0; j < plane; ++j) {
        sum_dy += g[j];
        sum_dy_xhat += g[j] * (p[j] - mean) * invstd;
      }
    }
    dbeta[ch] = static_cast<T>(sum_dy);
    dgamma[ch] = static_cast<T>(sum_dy_xhat);
    const double k = gamma[ch] * invstd / count;
    const T scale_dy = static_cast<T>(k * count), shift = static_cast<T>(-k * sum_dy),
            scale_xhat = static_cast<T>(-k * sum_dy_xhat), mean_t = static_cast<T>(mean),
            invstd_t = static_cast<T>(invstd);
    for (int i = 0; i < d.n; ++i) {
      const T* p = x + i * batch_stride + ch * plane;
      const T* g = dy + i * batch_stride + ch * plane;
      T* out = dx + i * batch_stride + ch * plane;
#pragma omp simd
      for (int64_t j = 0; j < plane; ++j)
        out[j] = scale_dy * g[j] + shift + (p[j] - mean_t) * invstd_t * scale_xhat;
    }
  }
}

#define LOCDET_INSTANTIATE_BN(T)                                                                           \
  template void batchnorm_forward_train<T>(const BatchNormDims&, const T*, const T*, const T*, T*, T*, T*, \
                                           T*, T*, T, T);                                                  \
  template void batchnorm_forward_eval<T>(const BatchNormDims&, const T*, const T*, const T*, const T*,    \
                                          const T*, T, T*);                                                \
  template void batchnorm_backward<T>(const BatchNormDims&, const T*, const T*, const T*, const T*,        \
                                      const T*, T*, T*, T*);
LOCDET_INSTANTIATE_BN(float)
LOCDET_INSTANTIATE_BN(double)
#undef LOCDET_INSTANTIATE_BN

}  // namespace locdet::cpu
