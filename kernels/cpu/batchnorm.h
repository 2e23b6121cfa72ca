// Batch normalization per channel over (N, H, W); x is NCHW viewed as [n, c, hw].
// Training normalizes with the biased batch variance and updates the running stats
// PyTorch-style: running = (1 - momentum) * running + momentum * batch, with the
// UNBIASED variance (count / (count - 1)) for running_var. save_mean / save_invstd
// (1 / sqrt(var + eps)) are what the backward needs. Sums are accumulated in double.
#pragma once

#include "kernels/common/op_params.h"

namespace locdet {

namespace cpu {

// running_mean / running_var may be null (no running-stat update).
template <class T>
void batchnorm_forward_train(const BatchNormDims& d, const T* x, const T* gamma, const T* beta, T* y,
                             T* save_mean, T* save_invstd, T* running_mean, T* running_var, T momentum,
                             T eps);

template <class T>
void batchnorm_forward_eval(const BatchNormDims& d, const T* x, const T* gamma, const T* beta,
                            const T* running_mean, const T* running_var, T eps, T* y);

template <class T>
void batchnorm_backward(const BatchNormDims& d, const T* x, const T* dy, const T* gamma, const T* save_mean,
                        const T* save_invstd, T* dx, T* dgamma, T* dbeta);

}  // namespace cpu
}  // namespace locdet
