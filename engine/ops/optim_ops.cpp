// The optimizer section a training graph ends with (engine/optim.cpp wires it): the LR schedule
// advances the step counter and writes this step's learning rate on the device, then one fused
// AdamW or SGD pass updates the flat parameter buffer, and (optionally) one pass moves the
// weight average towards it. In place, outputs none, float only.
#include "engine/ops/kernel_call.h"
#include "engine/ops/ops.h"
#include "kernels/base/error.h"
#include "kernels/cpu/optim.h"
#ifdef LOCDET_WITH_CUDA
#include "kernels/cuda/optim.h"
#endif

namespace locdet::ops {
namespace {

std::vector<TensorSpec> no_outputs(const ShapeCall&) {
  return {};
}

std::string float_only(const Graph& g, const Node& n) {
  for (int t : n.inputs)
    if (g.tensors()[t].dtype == DType::kF64)
      return "it runs in float only; cpu_double executors are for gradient checks of graphs without an "
             "optimizer";
  return "";
}

// inputs: step [1] i64, lr [1] f32
void lr_schedule_cpu(const KernelCall& c) {
  cpu::lr_schedule_step(c.attrs().optim.schedule, c.i<int64_t>(0), c.i<float>(1));
}
// inputs: params, grads, m, v, decay_mask, lr, step
void adamw_cpu(const KernelCall& c) {
  cpu::adamw_step(c.numel_in(0), c.i<float>(0), c.i<float>(1), c.i<float>(2), c.i<float>(3), c.i<float>(4),
                  c.attrs().optim.adamw, c.i<float>(5), c.i<int64_t>(6));
}
// inputs: ema, params, step
void ema_cpu(const KernelCall& c) {
  cpu::ema_update(c.numel_in(0), c.i<float>(0), c.i<float>(1), c.attrs().optim.ema_decay, c.i<int64_t>(2));
}
// inputs: params, grads, momentum, decay_mask, lr
void sgd_cpu(const KernelCall& c) {
  const OptimizerConfig& o = c.attrs().optim;
  cpu::sgd_step(c.numel_in(0), c.i<float>(0), c.i<float>(1), c.i<float>(2), c.i<float>(3), o.momentum,
                o.nesterov, o.sgd_weight_decay, c.i<float>(4));
}

#ifdef LOCDET_WITH_CUDA
void lr_schedule_cuda(const KernelCall& c) {
  cuda::lr_schedule_step(c.attrs().optim.schedule, c.i<int64_t>(0), c.i<float>(1), stream_of(c));
}
void adamw_cuda(const KernelCall& c) {
  cuda::adamw_step(c.numel_in(0), c.i<float>(0), c.i<float>(1), c.i<float>(2), c.i<float>(3), c.i<float>(4),
                   c.attrs().optim.adamw, c.i<float>(5), c.i<int64_t>(6), stream_of(c));
}
void ema_cuda(const KernelCall& c) {
  cuda::ema_update(c.numel_in(0), c.i<float>(0), c.i<float>(1), c.attrs().optim.ema_decay, c.i<int64_t>(2),
                   stream_of(c));
}
void sgd_cuda(const KernelCall& c) {
  const OptimizerConfig& o = c.attrs().optim;
  cuda::sgd_step(c.numel_in(0), c.i<float>(0), c.i<float>(1), c.i<float>(2), c.i<float>(3), o.momentum,
                 o.nesterov, o.sgd_weight_decay, c.i<float>(4), stream_of(c));
}
#endif

}  // namespace

const OpDef lr_schedule = OpDef("lr_schedule")
                              .with_shape(no_outputs)
                              .on_cpu({lr_schedule_cpu, nullptr, float_only})
                              .on_cuda(LOCDET_CUDA_KERNEL(lr_schedule_cuda));
const OpDef adamw = OpDef("adamw")
                        .with_shape(no_outputs)
                        .on_cpu({adamw_cpu, nullptr, float_only})
                        .on_cuda(LOCDET_CUDA_KERNEL(adamw_cuda));
const OpDef ema_update = OpDef("ema_update")
                             .with_shape(no_outputs)
                             .on_cpu({ema_cpu, nullptr, float_only})
                             .on_cuda(LOCDET_CUDA_KERNEL(ema_cuda));
const OpDef sgd = OpDef("sgd")
                      .with_shape(no_outputs)
                      .on_cpu({sgd_cpu, nullptr, float_only})
                      .on_cuda(LOCDET_CUDA_KERNEL(sgd_cuda));

}  // namespace locdet::ops
