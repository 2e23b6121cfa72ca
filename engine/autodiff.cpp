#include "engine/autodiff.h"

#include "engine/op.h"
#include "engine/ops/ops.h"
#include "kernels/base/error.h"

namespace locdet {
namespace {

// Secondary outputs (batch statistics, argmax) and integer tensors carry no gradient, nor do
// sources other than parameters.
bool differentiable_output(const Graph& g, const Node& n, int out_index) {
  if (g.tensors()[n.outputs[out_index]].dtype != DType::kF32) return false;
  if (n.op->kind == OpKind::kSource) return n.op == &ops::parameter;
  if (n.op == &ops::fill) return false;
  return n.op->grad_outputs < 0 || out_index < n.op->grad_outputs;
}

}  // namespace

Gradients build_backward(Graph& g, Value loss) {
  LOCDET_CHECK(g.shape(loss).numel() == 1, "build_backward: the loss '", g.info(loss).name,
               "' must have one element, got ", g.shape(loss).str(), "; reduce it with mean() or sum()");
  const size_t forward_nodes = g.nodes().size();
  // needs[t]: t depends on a parameter through differentiable ops.
  std::vector<bool> needs(g.tensors().size(), false);
  for (size_t i = 0; i < forward_nodes; ++i) {
    const Node& n = g.nodes()[i];
    bool any = n.op == &ops::parameter;
    for (int t : n.inputs) any = any || needs[t];
    for (size_t o = 0; o < n.outputs.size(); ++o)
      needs[n.outputs[o]] = any && differentiable_output(g, n, static_cast<int>(o));
  }
  LOCDET_CHECK(needs[loss.id], "build_backward: the loss '", g.info(loss).name,
               "' does not depend on any parameter");

  Phase saved = g.phase();
  g.set_phase(Phase::kBackward);
  Gradients grads;
  grads.of[loss.id] = g.fill({1}, 1.0f);
  for (size_t i = forward_nodes; i-- > 0;) {
    // Copy: backward rules append to g.nodes(), which may reallocate.
    const Node n = g.nodes()[i];
    std::vector<Value> gout;
    bool any = false;
    for (int o : n.outputs) {
      gout.push_back(grads[Value{o}]);
      any = any || bool(gout.back());
    }
    if (!any || n.inputs.empty()) continue;
    if (!gout[0]) gout[0] = g.fill(g.shape(Value{n.outputs[0]}), 0.0f);
    LOCDET_CHECK(n.op->backward, "op ", n.op->name, " ('", n.name,
                 "') has no backward rule but a parameter's gradient flows through it");
    std::vector<bool> needs_input(n.inputs.size());
    for (size_t k = 0; k < n.inputs.size(); ++k) needs_input[k] = needs[n.inputs[k]];
    std::vector<Value> gin = n.op->backward(g, n, gout, needs_input);
    LOCDET_CHECK(gin.size() == n.inputs.size(), "op ", n.op->name, " ('", n.name,
                 "'): its backward rule gave ", gin.size(), " gradients for ", n.inputs.size(), " inputs");
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      int t = n.inputs[k];
      if (!gin[k] || !needs[t]) continue;
      auto it = grads.of.find(t);
      grads.of[t] = it == grads.of.end() ? gin[k] : g.add(it->second, gin[k]);
    }
  }
  g.set_phase(saved);
  return grads;
}

}  // namespace locdet
