#include "engine/optim.h"

#include <cstring>

#include "engine/executor.h"
#include "engine/ops/ops.h"
#include "kernels/base/error.h"

namespace locdet {

constexpr int64_t kFlatAlignElems = 64;  // 256 bytes of float

std::vector<int64_t> flat_offsets(const Graph& g, int64_t* total) {
  std::vector<int64_t> offsets;
  int64_t at = 0;
  for (Value p : g.parameters()) {
    offsets.push_back(at);
    at += (g.info(p).numel() + kFlatAlignElems - 1) / kFlatAlignElems * kFlatAlignElems;
  }
  *total = at;
  return offsets;
}

std::string ema_name(const std::string& parameter) {
  return "optim.ema." + parameter;
}

OptimizerState add_optimizer(Graph& g, const Gradients& grads, const OptimizerConfig& config) {
  std::vector<Value> params = g.parameters();
  LOCDET_CHECK(!params.empty(), "add_optimizer: the graph has no parameters");
  LOCDET_CHECK(config.ema_decay >= 0 && config.ema_decay < 1,
               "the weight average's decay must be in [0, 1), got ", config.ema_decay);
  for (Value p : params)
    LOCDET_CHECK(g.info(p).view_of < 0, "add_optimizer called twice (parameter '", g.info(p).name,
                 "' is already packed)");
  OptimizerState s;
  std::vector<int64_t> offsets = flat_offsets(g, &s.flat_elems);
  Phase saved = g.phase();
  g.set_phase(Phase::kOptimizer);
  s.params = g.flat_buffer("flat.params", s.flat_elems, Role::kParameter);
  s.grads = g.flat_buffer("flat.grads", s.flat_elems, Role::kGradient);
  bool adamw = config.kind == OptimizerConfig::Kind::kAdamW;
  if (config.ema_decay > 0) s.ema = g.flat_buffer("flat.ema", s.flat_elems, Role::kOptimizerState);
  s.m = g.flat_buffer(adamw ? "flat.adamw_m" : "flat.sgd_momentum", s.flat_elems, Role::kOptimizerState);
  if (adamw) s.v = g.flat_buffer("flat.adamw_v", s.flat_elems, Role::kOptimizerState);

  std::vector<float> mask(s.flat_elems, 0.0f);
  for (size_t i = 0; i < params.size(); ++i) {
    TensorInfo& p = g.info(params[i]);
    p.view_of = s.params.id;
    p.view_offset = offsets[i];
    bool decay = !config.decay_only_weights || p.shape.rank >= 2;
    std::fill(mask.begin() + offsets[i], mask.begin() + offsets[i] + p.numel(), decay ? 1.0f : 0.0f);
    // Moments get per-parameter names so checkpoints match by name, not by position.
    g.view(s.m, (adamw ? "optim.m." : "optim.momentum.") + p.name, p.shape, offsets[i],
           Role::kOptimizerState);
    if (adamw)
      g.view(s.v, "optim.v." + g.info(params[i]).name, g.info(params[i]).shape, offsets[i],
             Role::kOptimizerState);
    if (s.ema)  // (`p` may dangle here: each view grows the graph's tensor table)
      g.view(s.ema, ema_name(g.info(params[i]).name), g.info(params[i]).shape, offsets[i],
             Role::kOptimizerState);

    // The gradient's producer writes straight into the flat gradient buffer; a gradient that
    // is not a fresh backward tensor (shared by two parameters, a view) is copied there.
    Value grad = grads[params[i]];
    if (!grad) continue;  // unused parameter: its gradient stays zero
    const TensorInfo& gi = g.info(grad);
    bool fresh = gi.view_of < 0 && !gi.pinned && gi.producer >= 0 &&
                 g.nodes()[gi.producer].phase == Phase::kBackward &&
                 g.nodes()[gi.producer].op != &ops::reshape;
    if (!fresh) grad = g.copy(grad);
    TensorInfo& target = g.info(grad);
    target.view_of = s.grads.id;
    target.view_offset = offsets[i];
    target.role = Role::kGradient;
    target.name = "grad." + g.info(params[i]).name;
  }
  s.decay_mask = g.constant("optim.decay_mask", {s.flat_elems}, std::move(mask));
  s.lr = g.state("optim.lr", {1}, Init::kZeros);
  g.info(s.lr).role = Role::kOptimizerState;
  s.step = g.state("optim.step", {1}, Init::kZeros);
  g.info(s.step).role = Role::kOptimizerState;
  g.info(s.step).dtype = DType::kI64;

  Attrs a;
  a.optim = config;
  g.apply(ops::lr_schedule, {s.step, s.lr}, a, "lr_schedule");
  if (adamw)
    g.apply(ops::adamw, {s.params, s.grads, s.m, s.v, s.decay_mask, s.lr, s.step}, a, "adamw");
  else
    g.apply(ops::sgd, {s.params, s.grads, s.m, s.decay_mask, s.lr}, a, "sgd");
  if (s.ema) g.apply(ops::ema_update, {s.ema, s.params, s.step}, a, "ema_update");
  g.set_phase(saved);
  return s;
}

int64_t read_step_counter(const Executor& ex, Value step) {
  const std::vector<std::byte> bytes = ex.read_bytes(step);
  LOCDET_CHECK(bytes.size() == sizeof(int64_t), "the step counter must be one int64");
  int64_t value = 0;
  std::memcpy(&value, bytes.data(), sizeof(value));
  return value;
}

}  // namespace locdet
