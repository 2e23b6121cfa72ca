#include "engine/graph.h"

#include <sstream>

#include "engine/op.h"
#include "engine/ops/ops.h"
#include "kernels/base/error.h"

namespace locdet {

const char* op_name(const Node& n) {
  return n.op ? n.op->name : "?";
}

const char* role_name(Role role) {
  switch (role) {
    case Role::kInput:
      return "input";
    case Role::kParameter:
      return "parameter";
    case Role::kState:
      return "state";
    case Role::kConstant:
      return "constant";
    case Role::kActivation:
      return "activation";
    case Role::kGradient:
      return "gradient";
    case Role::kOptimizerState:
      return "optimizer_state";
  }
  return "?";
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& what) {
  int rank = std::max(a.rank, b.rank);
  std::vector<int64_t> out(rank);
  for (int i = 0; i < rank; ++i) {
    int ia = a.rank - rank + i, ib = b.rank - rank + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      fail(what, ": shapes ", a.str(), " and ", b.str(), " do not broadcast (dim ", i, ": ", da, " vs ", db,
           ")");
    out[i] = std::max(da, db);
  }
  return Shape(out);
}

const TensorInfo& Graph::info(Value v) const {
  LOCDET_CHECK(v.id >= 0 && v.id < static_cast<int>(tensors_.size()), "invalid Value ", v.id,
               " (a missing optional input used where one is required?)");
  return tensors_[v.id];
}
TensorInfo& Graph::info(Value v) {
  return const_cast<TensorInfo&>(static_cast<const Graph*>(this)->info(v));
}

Value Graph::lookup(const std::string& name) const {
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].name == name) return Value{static_cast<int>(i)};
  return Value{};
}

Value Graph::find(const std::string& name) const {
  const Value v = lookup(name);
  if (!v) fail("graph has no tensor named '", name, "'");
  return v;
}

std::vector<Value> Graph::parameters() const {
  std::vector<Value> out;
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].role == Role::kParameter && tensors_[i].producer >= 0 &&
        nodes_[tensors_[i].producer].op == &ops::parameter)
      out.push_back(Value{static_cast<int>(i)});
  return out;
}

std::vector<Value> Graph::persistent_state() const {
  std::vector<Value> out;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const TensorInfo& t = tensors_[i];
    if (!t.flat && (t.role == Role::kParameter || t.role == Role::kState || t.role == Role::kOptimizerState))
      out.push_back(Value{static_cast<int>(i)});
  }
  return out;
}

std::string Graph::auto_name(const char* op) const {
  return std::string(op) + "_" + std::to_string(nodes_.size());
}

Value Graph::new_tensor(const std::string& name, Shape shape, DType dtype, Role role, int producer) {
  TensorInfo t;
  t.name = name;
  t.shape = shape;
  t.dtype = dtype;
  t.role = role;
  t.producer = producer;
  t.pinned = role == Role::kInput || role == Role::kParameter || role == Role::kState ||
             role == Role::kConstant || role == Role::kOptimizerState;
  tensors_.push_back(std::move(t));
  return Value{static_cast<int>(tensors_.size() - 1)};
}

std::vector<Value> Graph::apply(const OpDef& op, const std::vector<Value>& inputs, Attrs attrs,
                                const std::string& name) {
  LOCDET_CHECK(op.kind != OpKind::kSource, "op ", op.name, " makes sources: use input(), parameter(), ...");
  Node node;
  node.op = &op;
  node.name = name.empty() ? auto_name(op.name) : name;
  node.attrs = std::move(attrs);
  node.phase = phase_;
  std::vector<const TensorInfo*> in;
  for (Value v : inputs) {
    in.push_back(&info(v));  // info() validates the handle
    node.inputs.push_back(v.id);
  }
  const std::vector<TensorSpec> specs = op.shape(ShapeCall{node.name, in, node.attrs});
  const int index = static_cast<int>(nodes_.size());
  const Role role = phase_ == Phase::kForward ? Role::kActivation : Role::kGradient;
  std::vector<Value> out;
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::string tname = specs.size() == 1 ? node.name : node.name + ":" + std::to_string(i);
    out.push_back(new_tensor(tname, specs[i].shape, specs[i].dtype, role, index));
    node.outputs.push_back(out.back().id);
  }
  nodes_.push_back(std::move(node));
  if (op.kind == OpKind::kView) info(out[0]).view_of = inputs[0].id;
  return out;
}

Value Graph::source(const OpDef& op, const std::string& name, Shape shape, DType dtype, Role role) {
  LOCDET_CHECK(!name.empty(), "a ", role_name(role), " needs a name");
  for (const TensorInfo& t : tensors_)
    LOCDET_CHECK(t.name != name, "duplicate tensor name '", name, "' (", role_name(role),
                 "); give each parameter/input a unique name");
  Node node;
  node.op = &op;
  node.name = name;
  node.phase = phase_;
  Value v = new_tensor(name, shape, dtype, role, static_cast<int>(nodes_.size()));
  node.outputs.push_back(v.id);
  nodes_.push_back(std::move(node));
  return v;
}

Value Graph::input(const std::string& name, Shape shape, DType dtype) {
  return source(ops::input, name, shape, dtype, Role::kInput);
}

Value Graph::parameter(const std::string& name, Shape shape, Init init) {
  Value v = source(ops::parameter, name, shape, DType::kF32, Role::kParameter);
  info(v).init = init;
  return v;
}

Value Graph::state(const std::string& name, Shape shape, Init init) {
  Value v = source(ops::state, name, shape, DType::kF32, Role::kState);
  info(v).init = init;
  return v;
}

Value Graph::constant(const std::string& name, Shape shape, std::vector<float> values) {
  LOCDET_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "constant '", name, "': ", values.size(),
               " values for shape ", shape.str());
  Value v = source(ops::constant, name, shape, DType::kF32, Role::kConstant);
  info(v).constant = std::move(values);
  return v;
}

Value Graph::fill(Shape shape, float value) {
  Attrs a;
  a.value = value;
  a.shape = shape;
  return apply1(ops::fill, {}, a);
}

Value Graph::conv2d(Value x, Value w, Value b, int stride, int pad) {
  Attrs a;
  a.stride = stride;
  a.pad = pad;
  return apply1(ops::conv2d, b ? std::vector<Value>{x, w, b} : std::vector<Value>{x, w}, a);
}

Value Graph::batchnorm(Value x, const std::string& prefix, float momentum, float eps) {
  const Shape xs = shape(x);  // a copy: building may grow tensors_
  LOCDET_CHECK(xs.rank == 4 || xs.rank == 2, "batchnorm '", prefix, "': expected [N,C,H,W] or [N,C], got ",
               xs.str());
  const Shape c{xs[1]};
  Value gamma = parameter(prefix + ".weight", c, Init::kOnes);
  Value beta = parameter(prefix + ".bias", c, Init::kZeros);
  Value mean = state(prefix + ".running_mean", c, Init::kZeros);
  Value var = state(prefix + ".running_var", c, Init::kOnes);
  Attrs a;
  a.eps = eps;
  a.momentum = momentum;
  return apply1(training_ ? ops::batchnorm_train : ops::batchnorm_eval, {x, gamma, beta, mean, var}, a,
                prefix);
}

Value Graph::relu(Value x) {
  return apply1(ops::relu, {x});
}
Value Graph::silu(Value x) {
  return apply1(ops::silu, {x});
}
Value Graph::sigmoid(Value x) {
  return apply1(ops::sigmoid, {x});
}
Value Graph::leaky_relu(Value x, float slope) {
  Attrs a;
  a.value = slope;
  return apply1(ops::leaky_relu, {x}, a);
}

Value Graph::maxpool2d(Value x, int kernel, int stride) {
  Attrs a;
  a.kernel = kernel;
  a.stride = stride;
  return apply1(ops::maxpool2d, {x}, a);
}

Value Graph::global_avgpool(Value x) {
  return apply1(ops::global_avgpool, {x});
}

Value Graph::linear(Value x, Value w, Value b) {
  const std::string name = auto_name(ops::linear.name);  // before the reshape below adds a node
  const Shape xs = shape(x);                             // a copy: building may grow tensors_
  if (xs.rank != 2) x = reshape(x, {xs[0], xs.numel() / xs[0]});
  return apply1(ops::linear, b ? std::vector<Value>{x, w, b} : std::vector<Value>{x, w}, {}, name);
}

Value Graph::add(Value a, Value b) {
  return apply1(ops::add, {a, b});
}
Value Graph::sub(Value a, Value b) {
  return apply1(ops::sub, {a, b});
}
Value Graph::mul(Value a, Value b) {
  return apply1(ops::mul, {a, b});
}

Value Graph::scale(Value x, float s) {
  Attrs a;
  a.value = s;
  return apply1(ops::scale, {x}, a);
}

Value Graph::sum_to(Value x, Shape target, float scale) {
  Attrs a;
  a.value = scale;
  a.shape = target;
  return apply1(ops::sum_to, {x}, a);
}
Value Graph::sum(Value x) {
  return sum_to(x, {1});
}
Value Graph::mean(Value x) {
  return sum_to(x, {1}, 1.0f / static_cast<float>(shape(x).numel()));
}

Value Graph::broadcast_to(Value x, Shape target, float scale) {
  Attrs a;
  a.value = scale;
  a.shape = target;
  return apply1(ops::broadcast_to, {x}, a);
}

Value Graph::reshape(Value x, Shape s) {
  Attrs a;
  a.shape = s;
  return apply1(ops::reshape, {x}, a);
}

Value Graph::slice(Value x, int axis, int64_t start, int64_t length) {
  Attrs a;
  a.axis = axis;
  a.start = start;
  a.length = length;
  a.shape = shape(x);
  return apply1(ops::slice, {x}, a);
}

Value Graph::concat(const std::vector<Value>& xs, int axis) {
  Attrs a;
  a.axis = axis;
  return apply1(ops::concat, xs, a);
}

Value Graph::copy(Value x) {
  return apply1(ops::copy, {x});
}

Value Graph::softmax_cross_entropy(Value logits, Value labels, float smoothing) {
  Attrs a;
  a.smoothing = smoothing;
  return apply1(ops::softmax_cross_entropy, {logits, labels}, a);
}
Value Graph::bce_with_logits(Value l, Value t) {
  return apply1(ops::bce_with_logits, {l, t});
}
Value Graph::mse(Value p, Value t) {
  return apply1(ops::mse, {p, t});
}
Value Graph::l1(Value p, Value t) {
  return apply1(ops::l1, {p, t});
}
Value Graph::sigmoid_focal(Value l, Value t, float alpha, float gamma) {
  Attrs a;
  a.alpha = alpha;
  a.gamma = gamma;
  return apply1(ops::sigmoid_focal, {l, t}, a);
}
Value Graph::bin_expectation(Value logits) {
  return apply1(ops::bin_expectation, {logits});
}
Value Graph::distribution_focal(Value logits, Value target) {
  return apply1(ops::distribution_focal, {logits, target});
}
Value Graph::smooth_l1(Value p, Value t, float beta) {
  Attrs a;
  a.beta = beta;
  return apply1(ops::smooth_l1, {p, t}, a);
}

Value Graph::flat_buffer(const std::string& name, int64_t n, Role role) {
  Value v = source(ops::state, name, {n}, DType::kF32, role);
  info(v).flat = true;
  info(v).pinned = true;
  return v;
}

Value Graph::view(Value base, const std::string& name, Shape shape, int64_t offset, Role role) {
  LOCDET_CHECK(offset >= 0 && offset + shape.numel() <= info(base).numel(), "view '", name, "' ", shape.str(),
               " at ", offset, " does not fit in '", info(base).name, "' ", info(base).shape.str());
  Value v = new_tensor(name, shape, info(base).dtype, role, info(base).producer);
  info(v).view_of = base.id;
  info(v).view_offset = offset;
  info(v).pinned = false;
  return v;
}

void Graph::mark_output(Value v) {
  int id = v.id;
  while (info(Value{id}).view_of >= 0) id = info(Value{id}).view_of;
  info(Value{id}).pinned = true;
}

std::string Graph::str() const {
  std::ostringstream out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    out << i << " " << op_name(n) << " '" << n.name << "' (";
    for (size_t k = 0; k < n.inputs.size(); ++k) out << (k ? ", " : "") << tensors_[n.inputs[k]].name;
    out << ") ->";
    for (int o : n.outputs) out << " " << tensors_[o].shape.str();
    out << "\n";
  }
  return out.str();
}

}  // namespace locdet
