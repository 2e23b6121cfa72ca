// The optimizer section of a training graph. add_optimizer() packs every parameter into
// one flat buffer (each parameter starts on a 256-byte boundary; the padding stays zero),
// lays the gradients, AdamW moments / SGD momentum out in the same order, retargets each
// parameter's gradient so its producing node writes straight into the flat gradient
// buffer, and appends the nodes `lr_schedule` and `adamw` (or `sgd`), then `ema_update` when
// config.ema_decay > 0. One execution of the graph is then one full training step: forward,
// backward, update.
#pragma once

#include "engine/autodiff.h"
#include "engine/graph.h"

namespace locdet {

class Executor;

struct OptimizerState {
  Value params, grads, m, v;  // flat buffers (v unused by SGD; m is SGD's momentum)
  Value ema;                  // flat weight average (config.ema_decay > 0), views "optim.ema.<name>"
  Value decay_mask;           // flat constant: 1 = decay, 0 = no decay / padding
  Value lr, step;             // [1] f32, [1] i64 on the device; step counts finished steps
  int64_t flat_elems = 0;
};

OptimizerState add_optimizer(Graph& g, const Gradients& grads, const OptimizerConfig& config);

// The finished-step counter (OptimizerState::step), read from the device.
int64_t read_step_counter(const Executor& ex, Value step);

// The checkpoint name of a parameter's weight average: "optim.ema.<name>".
std::string ema_name(const std::string& parameter);

// Element offset of each parameter in the flat buffer (declaration order, 64-element aligned).
std::vector<int64_t> flat_offsets(const Graph& g, int64_t* total);

}  // namespace locdet
