#include "engine/ops/ops.h"

namespace locdet {

const std::vector<const OpDef*>& engine_ops() {
  static const std::vector<const OpDef*> table = {
      &ops::input, &ops::parameter, &ops::state, &ops::constant, &ops::reshape,
      // tensor ops
      &ops::fill, &ops::copy, &ops::add, &ops::sub, &ops::mul, &ops::scale, &ops::sum_to, &ops::broadcast_to,
      &ops::sigmoid, &ops::sigmoid_backward, &ops::concat, &ops::slice, &ops::slice_backward,
      // layers
      &ops::conv2d, &ops::conv2d_backward_data, &ops::conv2d_backward_filter, &ops::batchnorm_train,
      &ops::batchnorm_eval, &ops::batchnorm_backward, &ops::relu, &ops::relu_backward, &ops::leaky_relu,
      &ops::leaky_relu_backward, &ops::silu, &ops::silu_backward, &ops::maxpool2d, &ops::maxpool2d_backward,
      &ops::global_avgpool, &ops::global_avgpool_backward, &ops::linear, &ops::linear_backward,
      // losses
      &ops::softmax_cross_entropy, &ops::softmax_cross_entropy_backward, &ops::bce_with_logits,
      &ops::bce_with_logits_backward, &ops::sigmoid_focal, &ops::sigmoid_focal_backward, &ops::mse,
      &ops::mse_backward, &ops::l1, &ops::l1_backward, &ops::smooth_l1, &ops::smooth_l1_backward,
      &ops::bin_expectation, &ops::bin_expectation_backward, &ops::distribution_focal,
      &ops::distribution_focal_backward,
      // optimizer, run health
      &ops::lr_schedule, &ops::adamw, &ops::sgd, &ops::ema_update, &ops::nonfinite_or};
  return table;
}

std::string unsupported_reason(const Graph& g, const Node& n, Device device) {
  if (n.op->kind != OpKind::kKernel) return "";
  const DeviceKernel& k = n.op->on(device);
  if (!k.run) {
    if (device == Device::kCuda && !cuda_built())
      return std::string(
          "this build has no CUDA backend (configure with -DLOCDET_CUDA=ON); use --device cpu");
    return std::string("the ") + device_name(device) + " backend has no kernel for op " + n.op->name;
  }
  return k.refuse ? k.refuse(g, n) : "";
}

}  // namespace locdet
