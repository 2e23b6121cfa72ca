#include "engine/autodiff.h"

#include "kernels/base/error.h"

namespace locdet {
namespace {

Attrs restore(const Shape& s) {
  Attrs a;
  a.shape = s;
  return a;
}

// Gradient of a broadcasting binary op's input: sum over the dims it was broadcast along.
Value reduce_like(Graph& g, Value grad, Value input) {
  return g.shape(grad) == g.shape(input) ? grad : g.sum_to(grad, g.shape(input));
}

Op loss_backward(Op op) {
  switch (op) {
    case Op::kBceWithLogits:
      return Op::kBceWithLogitsBackward;
    case Op::kSigmoidFocal:
      return Op::kSigmoidFocalBackward;
    case Op::kMse:
      return Op::kMseBackward;
    case Op::kL1:
      return Op::kL1Backward;
    case Op::kSmoothL1:
      return Op::kSmoothL1Backward;
    default:
      fail("no loss backward for ", op_name(op));
  }
}

// The rule for one node: gradients for its inputs (Value{} where none is needed).
std::vector<Value> backward_rule(Graph& g, const Node& n, const std::vector<Value>& gout,
                                 const std::vector<bool>& needs) {
  auto in = [&](size_t i) { return Value{n.inputs[i]}; };
  auto need = [&](size_t i) { return i < n.inputs.size() && needs[n.inputs[i]]; };
  Value gy = gout[0];
  std::vector<Value> gin(n.inputs.size());
  const std::string name = n.name + ".grad";
  switch (n.op) {
    case Op::kCopy:
      gin[0] = gy;
      break;
    case Op::kReshape:
      gin[0] = g.reshape(gy, g.shape(in(0)));
      break;
    case Op::kAdd:
      if (need(0)) gin[0] = reduce_like(g, gy, in(0));
      if (need(1)) gin[1] = reduce_like(g, gy, in(1));
      break;
    case Op::kSub:
      if (need(0)) gin[0] = reduce_like(g, gy, in(0));
      if (need(1)) gin[1] = g.scale(reduce_like(g, gy, in(1)), -1.0f);
      break;
    case Op::kMul:
      if (need(0)) gin[0] = reduce_like(g, g.mul(gy, in(1)), in(0));
      if (need(1)) gin[1] = reduce_like(g, g.mul(gy, in(0)), in(1));
      break;
    case Op::kScale:
      gin[0] = g.scale(gy, n.attrs.value);
      break;
    case Op::kSumTo:
      gin[0] = g.broadcast_to(gy, g.shape(in(0)), n.attrs.value);
      break;
    case Op::kBroadcastTo:
      gin[0] = g.sum_to(gy, g.shape(in(0)), n.attrs.value);
      break;
    case Op::kSigmoid:
      gin[0] = g.add_node(Op::kSigmoidBackward, name, {Value{n.outputs[0]}, gy}, {}, g.shape(gy));
      break;
    case Op::kSlice: {
      Attrs a = n.attrs;
      gin[0] = g.add_node(Op::kSliceBackward, name, {gy}, a, a.shape);
      break;
    }
    case Op::kConcat: {
      int64_t start = 0;
      for (size_t i = 0; i < n.inputs.size(); ++i) {
        int64_t len = g.shape(in(i))[n.attrs.axis];
        if (need(i)) gin[i] = g.slice(gy, n.attrs.axis, start, len);
        start += len;
      }
      break;
    }
    case Op::kConv2d: {
      Attrs a = n.attrs;
      a.shape = g.shape(in(0));
      if (need(0)) gin[0] = g.add_node(Op::kConv2dBackwardData, name + ".x", {gy, in(1)}, a, a.shape);
      bool bias = n.inputs.size() == 3;
      std::vector<std::pair<Shape, DType>> outs{{g.shape(in(1)), DType::kF32}};
      if (bias) outs.push_back({g.shape(in(2)), DType::kF32});
      auto gw = g.add_node_multi(Op::kConv2dBackwardFilter, name + ".w", {in(0), gy}, a, outs);
      gin[1] = gw[0];
      if (bias) gin[2] = gw[1];
      break;
    }
    case Op::kBatchNormTrain: {
      Shape c = g.shape(in(1));
      auto outs = g.add_node_multi(Op::kBatchNormBackward, name,
                                   {in(0), gy, in(1), Value{n.outputs[1]}, Value{n.outputs[2]}}, n.attrs,
                                   {{g.shape(in(0)), DType::kF32}, {c, DType::kF32}, {c, DType::kF32}});
      gin[0] = outs[0];
      gin[1] = outs[1];
      gin[2] = outs[2];
      break;
    }
    case Op::kBatchNormEval:
      fail("batchnorm '", n.name,
           "' is in eval mode and has no backward; build the graph with training=true");
    case Op::kRelu:
      gin[0] = g.add_node(Op::kReluBackward, name, {in(0), gy}, {}, g.shape(gy));
      break;
    case Op::kSilu:
      gin[0] = g.add_node(Op::kSiluBackward, name, {in(0), gy}, {}, g.shape(gy));
      break;
    case Op::kLeakyRelu:
      gin[0] = g.add_node(Op::kLeakyReluBackward, name, {in(0), gy}, n.attrs, g.shape(gy));
      break;
    case Op::kMaxPool2d: {
      Attrs a = n.attrs;
      a.shape = g.shape(in(0));
      gin[0] = g.add_node(Op::kMaxPool2dBackward, name, {gy, Value{n.outputs[1]}}, a, a.shape);
      break;
    }
    case Op::kGlobalAvgPool:
      gin[0] = g.add_node(Op::kGlobalAvgPoolBackward, name, {gy}, restore(g.shape(in(0))), g.shape(in(0)));
      break;
    case Op::kLinear: {
      bool bias = n.inputs.size() == 3;
      std::vector<std::pair<Shape, DType>> outs{{g.shape(in(1)), DType::kF32}};
      if (bias) outs.push_back({g.shape(in(2)), DType::kF32});
      if (need(0)) outs.push_back({g.shape(in(0)), DType::kF32});
      // outputs: dw, [db], [dx]; the executor reads which exist from the output count.
      Attrs a;
      a.kernel = need(0) ? 1 : 0;  // has dx
      auto r = g.add_node_multi(Op::kLinearBackward, name, {in(0), in(1), gy}, a, outs);
      gin[1] = r[0];
      if (bias) gin[2] = r[1];
      if (need(0)) gin[0] = r.back();
      break;
    }
    case Op::kSoftmaxCrossEntropy:
      gin[0] =
          g.add_node(Op::kSoftmaxCrossEntropyBackward, name, {in(0), in(1), gy}, n.attrs, g.shape(in(0)));
      break;
    case Op::kBceWithLogits:
    case Op::kSigmoidFocal:
    case Op::kMse:
    case Op::kL1:
    case Op::kSmoothL1:
      // Targets get no gradient: they are labels, not predictions.
      gin[0] = g.add_node(loss_backward(n.op), name, {in(0), in(1), gy}, n.attrs, g.shape(in(0)));
      break;
    case Op::kCustom:
      LOCDET_CHECK(n.custom && n.custom->backward, "custom op '", n.name,
                   "' has no backward rule but a parameter's gradient flows through it");
      gin = n.custom->backward(g, n, gout);
      LOCDET_CHECK(gin.size() == n.inputs.size(), "custom op '", n.name, "' backward returned ", gin.size(),
                   " gradients for ", n.inputs.size(), " inputs");
      break;
    default:
      fail("op ", op_name(n.op), " ('", n.name, "') has no backward rule");
  }
  return gin;
}

bool differentiable_output(const Graph& g, const Node& n, int out_index) {
  // Secondary outputs (batch statistics, argmax) and integer tensors carry no gradient.
  if (g.tensors()[n.outputs[out_index]].dtype != DType::kF32) return false;
  if (n.op == Op::kBatchNormTrain || n.op == Op::kMaxPool2d) return out_index == 0;
  switch (n.op) {
    case Op::kInput:
    case Op::kConstant:
    case Op::kState:
    case Op::kFill:
      return false;
    default:
      return true;
  }
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
    bool any = n.op == Op::kParameter;
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
    std::vector<bool> needs_now(needs.begin(), needs.end());
    needs_now.resize(g.tensors().size(), false);
    std::vector<Value> gin = backward_rule(g, n, gout, needs_now);
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
