// Losses on the GPU, same semantics as kernels/cpu/loss.h; math in kernels/common/loss_math.h.
// softmax cross-entropy uses one warp per row (fine for the 2..100 classes used here).
#pragma once

#include <cstdint>

#include "kernels/cuda/context.h"

namespace locdet::cuda {

void softmax_cross_entropy_forward(int n, int classes, const float* logits, const int32_t* labels,
                                   float smoothing, float* loss, cudaStream_t stream);
void softmax_cross_entropy_backward(int n, int classes, const float* logits, const int32_t* labels,
                                    float smoothing, const float* dloss, float* dlogits, cudaStream_t stream);

// Rows of logits [n, bins] as distributions over bins (kernels/cpu/loss.h), one warp per row.
void bin_expectation_forward(int n, int bins, const float* logits, float* expectation, cudaStream_t stream);
void bin_expectation_backward(int n, int bins, const float* logits, const float* dexpectation, float* dlogits,
                              cudaStream_t stream);
void distribution_focal_forward(int n, int bins, const float* logits, const float* targets, float* loss,
                                cudaStream_t stream);
void distribution_focal_backward(int n, int bins, const float* logits, const float* targets,
                                 const float* dloss, float* dlogits, cudaStream_t stream);

void bce_with_logits_forward(int64_t n, const float* logits, const float* targets, float* loss,
                             cudaStream_t stream);
void bce_with_logits_backward(int64_t n, const float* logits, const float* targets, const float* dloss,
                              float* dlogits, cudaStream_t stream);

void sigmoid_focal_forward(int64_t n, const float* logits, const float* targets, float alpha, float gamma,
                           float* loss, cudaStream_t stream);
void sigmoid_focal_backward(int64_t n, const float* logits, const float* targets, float alpha, float gamma,
                            const float* dloss, float* dlogits, cudaStream_t stream);

void mse_forward(int64_t n, const float* pred, const float* target, float* loss, cudaStream_t stream);
void mse_backward(int64_t n, const float* pred, const float* target, const float* dloss, float* dpred,
                  cudaStream_t stream);
void l1_forward(int64_t n, const float* pred, const float* target, float* loss, cudaStream_t stream);
void l1_backward(int64_t n, const float* pred, const float* target, const float* dloss, float* dpred,
                 cudaStream_t stream);
void smooth_l1_forward(int64_t n, const float* pred, const float* target, float beta, float* loss,
                       cudaStream_t stream);
void smooth_l1_backward(int64_t n, const float* pred, const float* target, float beta, const float* dloss,
                        float* dpred, cudaStream_t stream);

}  // namespace locdet::cuda
