// Per-element loss math shared by the CPU loops and the CUDA kernels. Every form is
// numerically stable for large |logits|: softplus(x) = max(x, 0) + log1p(exp(-|x|)),
// 1 - sigmoid(x) computed as sigmoid(-x), cross-entropy via log-sum-exp.
#pragma once

#include "kernels/common/activation.h"
#include "kernels/common/hostdevice.h"

namespace locdet {

template <class T>
LOCDET_HD T softplus(T x) {
  return (x > T(0) ? x : T(0)) + hd::log1p(hd::exp(-hd::fabs(x)));
}

// BCE with logits: -(t log sig(x) + (1 - t) log(1 - sig(x))) = softplus(x) - t x.
template <class T>
LOCDET_HD T bce_logits_fwd(T x, T t) {
  return softplus(x) - t * x;
}
template <class T>
LOCDET_HD T bce_logits_bwd(T x, T t) {
  return stable_sigmoid(x) - t;
}

// torchvision sigmoid_focal_loss: ce * (1 - p_t)^gamma * alpha_t, with
// 1 - p_t = p (1 - t) + (1 - p) t and alpha_t = alpha t + (1 - alpha)(1 - t) (alpha < 0: 1).
template <class T>
LOCDET_HD T focal_fwd(T x, T t, T alpha, T gamma) {
  T p = stable_sigmoid(x), q = stable_sigmoid(-x);  // q = 1 - p without cancellation
  T one_minus_pt = p * (T(1) - t) + q * t;
  T loss = bce_logits_fwd(x, t) * (gamma == T(0) ? T(1) : hd::pow(one_minus_pt, gamma));
  if (alpha >= T(0)) loss *= alpha * t + (T(1) - alpha) * (T(1) - t);
  return loss;
}
// d/dx: alpha_t [ (p - t) w + ce * gamma (1-p_t)^(gamma-1) * p (1-p) (1 - 2t) ], w = (1-p_t)^gamma.
template <class T>
LOCDET_HD T focal_bwd(T x, T t, T alpha, T gamma) {
  T p = stable_sigmoid(x), q = stable_sigmoid(-x);
  T one_minus_pt = p * (T(1) - t) + q * t;
  T grad;
  if (gamma == T(0)) {
    grad = p - t;
  } else {
    T w = hd::pow(one_minus_pt, gamma);
    // (1-p_t)^(gamma-1): 0 at 1-p_t == 0 for gamma > 1, 1 for gamma == 1.
    T w1 = one_minus_pt > T(0) ? hd::pow(one_minus_pt, gamma - T(1)) : (gamma == T(1) ? T(1) : T(0));
    grad = (p - t) * w + bce_logits_fwd(x, t) * gamma * w1 * p * q * (T(1) - T(2) * t);
  }
  if (alpha >= T(0)) grad *= alpha * t + (T(1) - alpha) * (T(1) - t);
  return grad;
}

template <class T>
LOCDET_HD T mse_fwd(T p, T t) {
  T d = p - t;
  return d * d;
}
template <class T>
LOCDET_HD T mse_bwd(T p, T t) {
  return T(2) * (p - t);
}

// L1: the subgradient at p == t is 0 (PyTorch's sign(0) = 0).
template <class T>
LOCDET_HD T l1_fwd(T p, T t) {
  return hd::fabs(p - t);
}
template <class T>
LOCDET_HD T l1_bwd(T p, T t) {
  T d = p - t;
  return d > T(0) ? T(1) : (d < T(0) ? T(-1) : T(0));
}

template <class T>
LOCDET_HD T smooth_l1_fwd(T p, T t, T beta) {
  T d = hd::fabs(p - t);
  return d < beta ? T(0.5) * d * d / beta : d - T(0.5) * beta;
}
template <class T>
LOCDET_HD T smooth_l1_bwd(T p, T t, T beta) {
  T d = p - t;
  if (hd::fabs(d) < beta) return d / beta;
  return d > T(0) ? T(1) : (d < T(0) ? T(-1) : T(0));
}

// Softmax cross-entropy of one row with label smoothing s, given lse = log sum_j exp(x_j),
// the label's logit and the sum of all logits:
//   loss = lse - (1 - s) x_label - (s / C) sum_j x_j.
template <class T>
LOCDET_HD T ce_row_loss(T lse, T x_label, T sum_x, int classes, T smoothing) {
  return lse - (T(1) - smoothing) * x_label - smoothing / T(classes) * sum_x;
}
// d loss / d x_j = softmax_j - target_j, target = (1 - s) onehot + s / C.
template <class T>
LOCDET_HD T ce_row_grad(T x_j, T lse, bool is_label, int classes, T smoothing) {
  T target = smoothing / T(classes) + (is_label ? T(1) - smoothing : T(0));
  return hd::exp(x_j - lse) - target;
}

// A box edge as a distribution over bins (Li et al., "Generalized Focal Loss", 2020): row
// logits x_0..x_{K-1} give softmax p, the edge is the expectation sum_k k p_k (in bins), and
//   d E / d x_j = p_j (j - E).
template <class T>
LOCDET_HD T bin_expectation_grad(T x_j, int j, T lse, T expectation) {
  return hd::exp(x_j - lse) * (T(j) - expectation);
}

// The distribution focal loss's target: a continuous t (in bins, clamped to [0, K - 1]) split
// between its neighbouring bins `left` and left + 1 with weights (left + 1 - t) and (t - left),
// so a target on a bin is that bin alone. The loss is the cross entropy against this two-bin
// target: w_left (lse - x_left) + w_right (lse - x_right); d loss / d x_j = p_j - target_j.
template <class T>
struct BinSplit {
  int left;
  T w_left, w_right;
};
template <class T>
LOCDET_HD BinSplit<T> split_between_bins(T t, int bins) {
  const T top = T(bins - 1);
  if (!(t > T(0))) t = T(0);  // and NaN
  if (t > top) t = top;
  int left = static_cast<int>(t);
  if (left > bins - 2) left = bins - 2;
  const T w_right = t - T(left);
  return {left, T(1) - w_right, w_right};
}
template <class T>
LOCDET_HD T distribution_focal_row_loss(T lse, T x_left, T x_right, const BinSplit<T>& s) {
  return s.w_left * (lse - x_left) + s.w_right * (lse - x_right);
}
template <class T>
LOCDET_HD T distribution_focal_row_grad(T x_j, int j, T lse, const BinSplit<T>& s) {
  const T target = j == s.left ? s.w_left : (j == s.left + 1 ? s.w_right : T(0));
  return hd::exp(x_j - lse) - target;
}

}  // namespace locdet
