#include "kernels/cpu/loss.h"

#include <algorithm>
#include <cmath>

#include "kernels/base/error.h"
#include "kernels/common/loss_math.h"

namespace locdet::cpu {
namespace {

void check_labels(int n, int classes, const int32_t* labels) {
  LOCDET_CHECK(n >= 0 && classes > 0, "softmax_cross_entropy: need n >= 0 and classes > 0 (n=", n,
               " classes=", classes, ")");
  for (int i = 0; i < n; ++i)
    LOCDET_CHECK(labels[i] < classes, "softmax_cross_entropy: label ", labels[i], " at row ", i,
                 " is out of range for ", classes, " classes (use a negative label to ignore a row)");
}

// log-sum-exp of one row, and the plain sum of its logits.
template <class T>
void row_stats(const T* row, int classes, T* lse, T* sum) {
  T mx = row[0];
  for (int j = 1; j < classes; ++j) mx = std::max(mx, row[j]);
  T se = 0, s = 0;
  for (int j = 0; j < classes; ++j) {
    se += hd::exp(row[j] - mx);
    s += row[j];
  }
  *lse = mx + hd::log(se);
  *sum = s;
}

}  // namespace

template <class T>
void softmax_cross_entropy_forward(int n, int classes, const T* logits, const int32_t* labels, T smoothing,
                                   T* loss) {
  check_labels(n, classes, labels);
  for (int i = 0; i < n; ++i) {
    if (labels[i] < 0) {
      loss[i] = T(0);
      continue;
    }
    const T* row = logits + static_cast<int64_t>(i) * classes;
    T lse, sum;
    row_stats(row, classes, &lse, &sum);
    loss[i] = ce_row_loss(lse, row[labels[i]], sum, classes, smoothing);
  }
}

template <class T>
void softmax_cross_entropy_backward(int n, int classes, const T* logits, const int32_t* labels, T smoothing,
                                    const T* dloss, T* dlogits) {
  check_labels(n, classes, labels);
  for (int i = 0; i < n; ++i) {
    const T* row = logits + static_cast<int64_t>(i) * classes;
    T* out = dlogits + static_cast<int64_t>(i) * classes;
    if (labels[i] < 0) {
      std::fill(out, out + classes, T(0));
      continue;
    }
    T lse, sum;
    row_stats(row, classes, &lse, &sum);
    for (int j = 0; j < classes; ++j)
      out[j] = dloss[i] * ce_row_grad(row[j], lse, j == labels[i], classes, smoothing);
  }
}

namespace {

void check_bins(int n, int bins, const char* op) {
  LOCDET_CHECK(n >= 0 && bins >= 2, op, ": need n >= 0 and bins >= 2 (n=", n, " bins=", bins, ")");
}

// One row's log-sum-exp and expected bin, one exp per bin.
template <class T>
void row_expectation(const T* row, int bins, T* lse, T* expectation) {
  T mx = row[0];
  for (int j = 1; j < bins; ++j) mx = std::max(mx, row[j]);
  T se = 0, weighted = 0;
  for (int j = 0; j < bins; ++j) {
    const T e = hd::exp(row[j] - mx);
    se += e;
    weighted += T(j) * e;
  }
  *lse = mx + hd::log(se);
  *expectation = weighted / se;
}

}  // namespace

template <class T>
void bin_expectation_forward(int n, int bins, const T* logits, T* expectation) {
  check_bins(n, bins, "bin_expectation");
#pragma omp parallel for schedule(static) if (n > 4096)
  for (int i = 0; i < n; ++i) {
    T lse;
    row_expectation(logits + static_cast<int64_t>(i) * bins, bins, &lse, &expectation[i]);
  }
}

template <class T>
void bin_expectation_backward(int n, int bins, const T* logits, const T* dexpectation, T* dlogits) {
  check_bins(n, bins, "bin_expectation");
#pragma omp parallel for schedule(static) if (n > 4096)
  for (int i = 0; i < n; ++i) {
    const T* row = logits + static_cast<int64_t>(i) * bins;
    T* out = dlogits + static_cast<int64_t>(i) * bins;
    if (dexpectation[i] == T(0)) {  // most rows: the box loss weighs positive cells only
      std::fill(out, out + bins, T(0));
      continue;
    }
    T lse, e;
    row_expectation(row, bins, &lse, &e);
    for (int j = 0; j < bins; ++j) out[j] = dexpectation[i] * bin_expectation_grad(row[j], j, lse, e);
  }
}

template <class T>
void distribution_focal_forward(int n, int bins, const T* logits, const T* targets, T* loss) {
  check_bins(n, bins, "distribution_focal");
#pragma omp parallel for schedule(static) if (n > 4096)
  for (int i = 0; i < n; ++i) {
    const T* row = logits + static_cast<int64_t>(i) * bins;
    T lse, sum;
    row_stats(row, bins, &lse, &sum);
    const BinSplit<T> s = split_between_bins(targets[i], bins);
    loss[i] = distribution_focal_row_loss(lse, row[s.left], row[s.left + 1], s);
  }
}

template <class T>
void distribution_focal_backward(int n, int bins, const T* logits, const T* targets, const T* dloss,
                                 T* dlogits) {
  check_bins(n, bins, "distribution_focal");
#pragma omp parallel for schedule(static) if (n > 4096)
  for (int i = 0; i < n; ++i) {
    const T* row = logits + static_cast<int64_t>(i) * bins;
    T* out = dlogits + static_cast<int64_t>(i) * bins;
    if (dloss[i] == T(0)) {  // most rows: the loss weighs positive cells only
      std::fill(out, out + bins, T(0));
      continue;
    }
    T lse, sum;
    row_stats(row, bins, &lse, &sum);
    const BinSplit<T> s = split_between_bins(targets[i], bins);
    for (int j = 0; j < bins; ++j) out[j] = dloss[i] * distribution_focal_row_grad(row[j], j, lse, s);
  }
}

template <class T>
void bce_with_logits_forward(int64_t n, const T* logits, const T* targets, T* loss) {
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; ++i) loss[i] = bce_logits_fwd(logits[i], targets[i]);
}
template <class T>
void bce_with_logits_backward(int64_t n, const T* logits, const T* targets, const T* dloss, T* dlogits) {
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; ++i) dlogits[i] = dloss[i] * bce_logits_bwd(logits[i], targets[i]);
}

template <class T>
void sigmoid_focal_forward(int64_t n, const T* logits, const T* targets, T alpha, T gamma, T* loss) {
  LOCDET_CHECK(gamma >= T(0), "sigmoid_focal: gamma must be >= 0, got ", gamma);
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; ++i) loss[i] = focal_fwd(logits[i], targets[i], alpha, gamma);
}
template <class T>
void sigmoid_focal_backward(int64_t n, const T* logits, const T* targets, T alpha, T gamma, const T* dloss,
                            T* dlogits) {
  LOCDET_CHECK(gamma >= T(0), "sigmoid_focal: gamma must be >= 0, got ", gamma);
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; ++i) dlogits[i] = dloss[i] * focal_bwd(logits[i], targets[i], alpha, gamma);
}

template <class T>
void mse_forward(int64_t n, const T* pred, const T* target, T* loss) {
  for (int64_t i = 0; i < n; ++i) loss[i] = mse_fwd(pred[i], target[i]);
}
template <class T>
void mse_backward(int64_t n, const T* pred, const T* target, const T* dloss, T* dpred) {
  for (int64_t i = 0; i < n; ++i) dpred[i] = dloss[i] * mse_bwd(pred[i], target[i]);
}
template <class T>
void l1_forward(int64_t n, const T* pred, const T* target, T* loss) {
  for (int64_t i = 0; i < n; ++i) loss[i] = l1_fwd(pred[i], target[i]);
}
template <class T>
void l1_backward(int64_t n, const T* pred, const T* target, const T* dloss, T* dpred) {
  for (int64_t i = 0; i < n; ++i) dpred[i] = dloss[i] * l1_bwd(pred[i], target[i]);
}
template <class T>
void smooth_l1_forward(int64_t n, const T* pred, const T* target, T beta, T* loss) {
  LOCDET_CHECK(beta >= T(0), "smooth_l1: beta must be >= 0, got ", beta);
  if (beta == T(0)) return l1_forward(n, pred, target, loss);
  for (int64_t i = 0; i < n; ++i) loss[i] = smooth_l1_fwd(pred[i], target[i], beta);
}
template <class T>
void smooth_l1_backward(int64_t n, const T* pred, const T* target, T beta, const T* dloss, T* dpred) {
  LOCDET_CHECK(beta >= T(0), "smooth_l1: beta must be >= 0, got ", beta);
  if (beta == T(0)) return l1_backward(n, pred, target, dloss, dpred);
  for (int64_t i = 0; i < n; ++i) dpred[i] = dloss[i] * smooth_l1_bwd(pred[i], target[i], beta);
}

#define LOCDET_INSTANTIATE_LOSS(T)                                                                      \
  template void softmax_cross_entropy_forward<T>(int, int, const T*, const int32_t*, T, T*);            \
  template void softmax_cross_entropy_backward<T>(int, int, const T*, const int32_t*, T, const T*, T*); \
  template void bin_expectation_forward<T>(int, int, const T*, T*);                                     \
  template void bin_expectation_backward<T>(int, int, const T*, const T*, T*);                          \
  template void distribution_focal_forward<T>(int, int, const T*, const T*, T*);                        \
  template void distribution_focal_backward<T>(int, int, const T*, const T*, const T*, T*);             \
  template void bce_with_logits_forward<T>(int64_t, const T*, const T*, T*);                            \
  template void bce_with_logits_backward<T>(int64_t, const T*, const T*, const T*, T*);                 \
  template void sigmoid_focal_forward<T>(int64_t, const T*, const T*, T, T, T*);                        \
  template void sigmoid_focal_backward<T>(int64_t, const T*, const T*, T, T, const T*, T*);             \
  template void mse_forward<T>(int64_t, const T*, const T*, T*);                                        \
  template void mse_backward<T>(int64_t, const T*, const T*, const T*, T*);                             \
  template void l1_forward<T>(int64_t, const T*, const T*, T*);                                         \
  template void l1_backward<T>(int64_t, const T*, const T*, const T*, T*);                              \
  template void smooth_l1_forward<T>(int64_t, const T*, const T*, T, T*);                               \
  template void smooth_l1_backward<T>(int64_t, const T*, const T*, T, const T*, T*);
LOCDET_INSTANTIATE_LOSS(float)
LOCDET_INSTANTIATE_LOSS(double)
#undef LOCDET_INSTANTIATE_LOSS

}  // namespace locdet::cpu
