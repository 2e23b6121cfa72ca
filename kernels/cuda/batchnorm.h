// Batch normalization, float, same semantics as kernels/cpu/batchnorm.h (biased batch variance
// for normalization, unbiased for running_var, PyTorch momentum). Hand-written rather than
// cuDNN: one block per channel with a fixed-shape tree reduction, so results are bitwise
// deterministic run to run, the formulas are exactly the CPU reference's, and there are no
// hidden workspaces; mean/var are formed from a shifted two-pass sum to avoid cancellation.
#pragma once

#include "kernels/common/op_params.h"
#include "kernels/cuda/context.h"

namespace locdet::cuda {

// running_mean / running_var may be null (no update).
void batchnorm_forward_train(const BatchNormDims& d, const float* x, const float* gamma, const float* beta,
                             float* y, float* save_mean, float* save_invstd, float* running_mean,
                             float* running_var, float momentum, float eps, cudaStream_t stream);

void batchnorm_forward_eval(const BatchNormDims& d, const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float eps, float* y,
                            cudaStream_t stream);

void batchnorm_backward(const BatchNormDims& d, const float* x, const float* dy, const float* gamma,
                        const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                        float* dbeta, cudaStream_t stream);

}  // namespace locdet::cuda
