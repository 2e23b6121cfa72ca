// The engine's ops (engine/op.h says what an OpDef holds). Graph's builders (engine/graph.h)
// are the way models use them; autodiff, the optimizer wiring and the tests name them here.
#pragma once

#include "engine/op.h"

namespace locdet::ops {

// Sources and views (engine/ops/tensor_ops.cpp): no kernel.
extern const OpDef input, parameter, state, constant, reshape;
// Tensor ops (engine/ops/tensor_ops.cpp; kernels/{cpu,cuda}/tensor_ops).
extern const OpDef fill, copy, add, sub, mul, scale, sum_to, broadcast_to, sigmoid, sigmoid_backward, concat,
    slice, slice_backward;
// Layers (engine/ops/layer_ops.cpp; kernels/{cpu,cuda}/{conv,batchnorm,activation,pool,linear}).
extern const OpDef conv2d, conv2d_backward_data, conv2d_backward_filter, batchnorm_train, batchnorm_eval,
    batchnorm_backward, relu, relu_backward, leaky_relu, leaky_relu_backward, silu, silu_backward, maxpool2d,
    maxpool2d_backward, global_avgpool, global_avgpool_backward, linear, linear_backward;
// Per-element losses (engine/ops/loss_ops.cpp; kernels/{cpu,cuda}/loss): loss has the
// prediction's element count.
extern const OpDef softmax_cross_entropy, softmax_cross_entropy_backward, bce_with_logits,
    bce_with_logits_backward, sigmoid_focal, sigmoid_focal_backward, mse, mse_backward, l1, l1_backward,
    smooth_l1, smooth_l1_backward;
// Rows of logits as distributions over bins (engine/ops/loss_ops.cpp; kernels/{cpu,cuda}/loss):
// [M, bins] -> [M], the expected bin and the distribution focal loss.
extern const OpDef bin_expectation, bin_expectation_backward, distribution_focal, distribution_focal_backward;
// The optimizer section (engine/ops/optim_ops.cpp): mutates pinned flat buffers in place.
extern const OpDef lr_schedule, adamw, sgd, ema_update;
// Run health (engine/nonfinite.cpp): ORs a bit into a flag when a tensor holds NaN/Inf.
extern const OpDef nonfinite_or;

}  // namespace locdet::ops
