// Per-element / per-row losses; reduction (mean, sum, normalizer) is the graph's job.
// The math is kernels/common/loss_math.h (shared with CUDA); all forms are numerically
// stable (log-sum-exp, softplus). Backward takes dloss (same shape as loss) and OVERWRITES
// the input gradient; only the gradient w.r.t. the prediction/logits is produced.
#pragma once

#include <cstdint>

namespace locdet::cpu {

// Row i of logits [n, classes]; labels[i] < 0 means "ignore": loss 0 and gradient 0.
// Label smoothing as in PyTorch: target = (1 - s) * onehot + s / classes.
template <class T>
void softmax_cross_entropy_forward(int n, int classes, const T* logits, const int32_t* labels, T smoothing,
                                   T* loss);
template <class T>
void softmax_cross_entropy_backward(int n, int classes, const T* logits, const int32_t* labels, T smoothing,
                                    const T* dloss, T* dlogits);

// Rows of logits [n, bins] as distributions over bins 0..bins-1 (kernels/common/loss_math.h):
// bin_expectation gives each row's expected bin, sum_k k softmax_k ([n]); distribution_focal
// the cross entropy against a continuous target (in bins, [n]) split between its two
// neighbouring bins. bins >= 2. The backward ops give rows whose incoming gradient is 0 a zero
// gradient without computing their softmax (the localizer weighs all but a few cells 0).
template <class T>
void bin_expectation_forward(int n, int bins, const T* logits, T* expectation);
template <class T>
void bin_expectation_backward(int n, int bins, const T* logits, const T* dexpectation, T* dlogits);
template <class T>
void distribution_focal_forward(int n, int bins, const T* logits, const T* targets, T* loss);
template <class T>
void distribution_focal_backward(int n, int bins, const T* logits, const T* targets, const T* dloss,
                                 T* dlogits);

template <class T>
void bce_with_logits_forward(int64_t n, const T* logits, const T* targets, T* loss);
template <class T>
void bce_with_logits_backward(int64_t n, const T* logits, const T* targets, const T* dloss, T* dlogits);

// torchvision.ops.sigmoid_focal_loss without reduction; alpha < 0 disables alpha weighting.
template <class T>
void sigmoid_focal_forward(int64_t n, const T* logits, const T* targets, T alpha, T gamma, T* loss);
template <class T>
void sigmoid_focal_backward(int64_t n, const T* logits, const T* targets, T alpha, T gamma, const T* dloss,
                            T* dlogits);

template <class T>
void mse_forward(int64_t n, const T* pred, const T* target, T* loss);
template <class T>
void mse_backward(int64_t n, const T* pred, const T* target, const T* dloss, T* dpred);

template <class T>
void l1_forward(int64_t n, const T* pred, const T* target, T* loss);
template <class T>
void l1_backward(int64_t n, const T* pred, const T* target, const T* dloss, T* dpred);

// PyTorch smooth_l1_loss: 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta (beta = 0: L1).
template <class T>
void smooth_l1_forward(int64_t n, const T* pred, const T* target, T beta, T* loss);
template <class T>
void smooth_l1_backward(int64_t n, const T* pred, const T* target, T beta, const T* dloss, T* dpred);

}  // namespace locdet::cpu
