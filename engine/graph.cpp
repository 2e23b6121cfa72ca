#include "engine/graph.h"

#include <sstream>

#include "kernels/base/error.h"

namespace locdet {

const char* op_name(Op op) {
  switch (op) {
#define LOCDET_OP(name, str, inplace) \
  case Op::k##name:                   \
    return str;
#include "engine/ops.def"
#undef LOCDET_OP
  }
  return "?";
}

int op_inplace_input(Op op) {
  switch (op) {
#define LOCDET_OP(name, str, inplace) \
  case Op::k##name:                   \
    return inplace;
#include "engine/ops.def"
#undef LOCDET_OP
  }
  return -1;
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

Value Graph::find(const std::string& name) const {
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].name == name) return Value{static_cast<int>(i)};
  fail("graph has no tensor named '", name, "'");
}

std::vector<Value> Graph::parameters() const {
  std::vector<Value> out;
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].role == Role::kParameter && tensors_[i].producer >= 0 &&
        nodes_[tensors_[i].producer].op == Op::kParameter)
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

std::string Graph::auto_name(const char* op) {
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

std::vector<Value> Graph::add_node_multi(Op op, const std::string& name, std::vector<Value> inputs,
                                         Attrs attrs, const std::vector<std::pair<Shape, DType>>& outputs) {
  Node node;
  node.op = op;
  node.name = name.empty() ? auto_name(op_name(op)) : name;
  node.attrs = std::move(attrs);
  node.phase = phase_;
  for (Value v : inputs) node.inputs.push_back((info(v), v.id));  // info() validates the handle
  int index = static_cast<int>(nodes_.size());
  std::vector<Value> out;
  Role role = phase_ == Phase::kForward ? Role::kActivation : Role::kGradient;
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string tname = outputs.size() == 1 ? node.name : node.name + ":" + std::to_string(i);
    out.push_back(new_tensor(tname, outputs[i].first, outputs[i].second, role, index));
    node.outputs.push_back(out.back().id);
  }
  nodes_.push_back(std::move(node));
  return out;
}

Value Graph::add_node(Op op, const std::string& name, std::vector<Value> inputs, Attrs attrs, Shape shape,
                      DType dtype) {
  return add_node_multi(op, name, std::move(inputs), std::move(attrs), {{shape, dtype}})[0];
}

Value Graph::source(Op op, const std::string& name, Shape shape, DType dtype, Role role) {
  LOCDET_CHECK(!name.empty(), "a ", role_name(role), " needs a name");
  for (const TensorInfo& t : tensors_)
    LOCDET_CHECK(t.name != name, "duplicate tensor name '", name, "' (", role_name(role),
                 "); give each parameter/input a unique name");
  Node node;
  node.op = op;
  node.name = name;
  node.phase = phase_;
  Value v = new_tensor(name, shape, dtype, role, static_cast<int>(nodes_.size()));
  node.outputs.push_back(v.id);
  nodes_.push_back(std::move(node));
  return v;
}

Value Graph::input(const std::string& name, Shape shape, DType dtype, std::shared_ptr<const CustomOp> src) {
  Value v = source(Op::kInput, name, shape, dtype, Role::kInput);
  nodes_.back().custom = std::move(src);
  return v;
}

Value Graph::parameter(const std::string& name, Shape shape, Init init) {
  Value v = source(Op::kParameter, name, shape, DType::kF32, Role::kParameter);
  info(v).init = init;
  return v;
}

Value Graph::state(const std::string& name, Shape shape, Init init) {
  Value v = source(Op::kState, name, shape, DType::kF32, Role::kState);
  info(v).init = init;
  return v;
}

Value Graph::constant(const std::string& name, Shape shape, std::vector<float> values) {
  LOCDET_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "constant '", name, "': ", values.size(),
               " values for shape ", shape.str());
  Value v = source(Op::kConstant, name, shape, DType::kF32, Role::kConstant);
  info(v).constant = std::move(values);
  return v;
}

Value Graph::fill(Shape shape, float value) {
  Attrs a;
  a.value = value;
  return add_node(Op::kFill, "", {}, a, shape);
}

void Graph::check_float(Value v, const char* what) const {
  const TensorInfo& t = info(v);
  LOCDET_CHECK(t.dtype == DType::kF32, what, ": '", t.name, "' is ", dtype_name(t.dtype), ", expected F32");
}

Value Graph::conv2d(Value x, Value w, Value b, int stride, int pad) {
  std::string name = auto_name("conv2d");
  const Shape xs = shape(x), ws = shape(w);  // copies: building may grow tensors_
  LOCDET_CHECK(xs.rank == 4 && ws.rank == 4, name, ": expected x [N,C,H,W] and w [K,C,R,S], got ", xs.str(),
               " ('", info(x).name, "') and ", ws.str(), " ('", info(w).name, "')");
  LOCDET_CHECK(xs[1] == ws[1], name, ": x has ", xs[1], " channels ", xs.str(), " but weight '", info(w).name,
               "' expects ", ws[1], " ", ws.str());
  LOCDET_CHECK(stride >= 1 && pad >= 0, name, ": stride must be >= 1 and pad >= 0");
  int64_t oh = (xs[2] + 2 * pad - ws[2]) / stride + 1, ow = (xs[3] + 2 * pad - ws[3]) / stride + 1;
  LOCDET_CHECK(oh > 0 && ow > 0, name, ": kernel ", ws.str(), " larger than padded input ", xs.str());
  std::vector<Value> in{x, w};
  if (b) {
    LOCDET_CHECK(shape(b) == Shape({ws[0]}), name, ": bias '", info(b).name, "' has shape ", shape(b).str(),
                 ", expected [", ws[0], "]");
    in.push_back(b);
  }
  Attrs a;
  a.stride = stride;
  a.pad = pad;
  return add_node(Op::kConv2d, name, in, a, {xs[0], ws[0], oh, ow});
}

Value Graph::batchnorm(Value x, const std::string& prefix, float momentum, float eps) {
  const Shape xs = shape(x);  // a copy: building may grow tensors_
  LOCDET_CHECK(xs.rank == 4 || xs.rank == 2, "batchnorm '", prefix, "': expected [N,C,H,W] or [N,C], got ",
               xs.str());
  Shape c{xs[1]};
  Value gamma = parameter(prefix + ".weight", c, Init::kOnes);
  Value beta = parameter(prefix + ".bias", c, Init::kZeros);
  Value mean = state(prefix + ".running_mean", c, Init::kZeros);
  Value var = state(prefix + ".running_var", c, Init::kOnes);
  Attrs a;
  a.eps = eps;
  a.momentum = momentum;
  if (!training_) return add_node(Op::kBatchNormEval, prefix, {x, gamma, beta, mean, var}, a, xs);
  auto out = add_node_multi(Op::kBatchNormTrain, prefix, {x, gamma, beta, mean, var}, a,
                            {{xs, DType::kF32}, {c, DType::kF32}, {c, DType::kF32}});
  return out[0];
}

Value Graph::relu(Value x) {
  return add_node(Op::kRelu, "", {x}, {}, shape(x));
}
Value Graph::silu(Value x) {
  return add_node(Op::kSilu, "", {x}, {}, shape(x));
}
Value Graph::sigmoid(Value x) {
  return add_node(Op::kSigmoid, "", {x}, {}, shape(x));
}
Value Graph::leaky_relu(Value x, float slope) {
  Attrs a;
  a.value = slope;
  return add_node(Op::kLeakyRelu, "", {x}, a, shape(x));
}

Value Graph::maxpool2d(Value x, int kernel, int stride) {
  std::string name = auto_name("maxpool2d");
  const Shape xs = shape(x);  // a copy: building may grow tensors_
  LOCDET_CHECK(xs.rank == 4, name, ": expected [N,C,H,W], got ", xs.str());
  int64_t oh = (xs[2] - kernel) / stride + 1, ow = (xs[3] - kernel) / stride + 1;
  LOCDET_CHECK(kernel >= 1 && stride >= 1 && oh > 0 && ow > 0, name, ": kernel ", kernel, " stride ", stride,
               " does not fit ", xs.str());
  Attrs a;
  a.kernel = kernel;
  a.stride = stride;
  Shape ys{xs[0], xs[1], oh, ow};
  return add_node_multi(Op::kMaxPool2d, name, {x}, a, {{ys, DType::kF32}, {ys, DType::kI32}})[0];
}

Value Graph::global_avgpool(Value x) {
  const Shape xs = shape(x);  // a copy: building may grow tensors_
  LOCDET_CHECK(xs.rank == 4, "global_avgpool: expected [N,C,H,W], got ", xs.str(), " ('", info(x).name, "')");
  return add_node(Op::kGlobalAvgPool, "", {x}, {}, {xs[0], xs[1]});
}

Value Graph::linear(Value x, Value w, Value b) {
  std::string name = auto_name("linear");
  const Shape xs = shape(x), ws = shape(w);  // copies: building may grow tensors_
  LOCDET_CHECK(ws.rank == 2, name, ": weight '", info(w).name, "' must be [N,K], got ", ws.str());
  int64_t k = xs.numel() / xs[0];
  if (xs.rank != 2) x = reshape(x, {xs[0], k});
  LOCDET_CHECK(k == ws[1], name, ": input ", xs.str(), " has ", k, " features per row but weight '",
               info(w).name, "' ", ws.str(), " expects ", ws[1]);
  std::vector<Value> in{x, w};
  if (b) {
    LOCDET_CHECK(shape(b) == Shape({ws[0]}), name, ": bias '", info(b).name, "' has shape ", shape(b).str(),
                 ", expected [", ws[0], "]");
    in.push_back(b);
  }
  return add_node(Op::kLinear, name, in, {}, {shape(x)[0], ws[0]});
}

Value Graph::binary(Op op, Value a, Value b) {
  std::string name = auto_name(op_name(op));
  check_float(a, name.c_str());
  check_float(b, name.c_str());
  Shape out =
      broadcast_shapes(shape(a), shape(b), name + " of '" + info(a).name + "' and '" + info(b).name + "'");
  return add_node(op, name, {a, b}, {}, out);
}
Value Graph::add(Value a, Value b) {
  return binary(Op::kAdd, a, b);
}
Value Graph::sub(Value a, Value b) {
  return binary(Op::kSub, a, b);
}
Value Graph::mul(Value a, Value b) {
  return binary(Op::kMul, a, b);
}

Value Graph::scale(Value x, float s) {
  Attrs a;
  a.value = s;
  return add_node(Op::kScale, "", {x}, a, shape(x));
}

Value Graph::sum_to(Value x, Shape target, float scale) {
  std::string name = auto_name("sum_to");
  Shape b = broadcast_shapes(shape(x), target, name);
  LOCDET_CHECK(b == shape(x), name, ": cannot sum ", shape(x).str(), " to ", target.str(),
               " (the target must broadcast to the input)");
  Attrs a;
  a.value = scale;
  a.shape = target;
  return add_node(Op::kSumTo, name, {x}, a, target);
}
Value Graph::sum(Value x) {
  return sum_to(x, {1});
}
Value Graph::mean(Value x) {
  return sum_to(x, {1}, 1.0f / static_cast<float>(shape(x).numel()));
}

Value Graph::broadcast_to(Value x, Shape target, float scale) {
  std::string name = auto_name("broadcast_to");
  LOCDET_CHECK(broadcast_shapes(shape(x), target, name) == target, name, ": cannot broadcast ",
               shape(x).str(), " to ", target.str());
  Attrs a;
  a.value = scale;
  a.shape = target;
  return add_node(Op::kBroadcastTo, name, {x}, a, target);
}

Value Graph::reshape(Value x, Shape s) {
  LOCDET_CHECK(s.numel() == shape(x).numel(), "reshape of '", info(x).name, "' ", shape(x).str(), " to ",
               s.str(), ": element counts differ");
  Value v = add_node(Op::kReshape, "", {x}, {}, s, info(x).dtype);
  info(v).view_of = x.id;
  return v;
}

Value Graph::slice(Value x, int axis, int64_t start, int64_t length) {
  std::string name = auto_name("slice");
  const Shape xs = shape(x);  // a copy: building may grow tensors_
  LOCDET_CHECK(axis >= 0 && axis < xs.rank, name, ": axis ", axis, " out of range for ", xs.str());
  LOCDET_CHECK(start >= 0 && length > 0 && start + length <= xs[axis], name, ": [", start, ", ",
               start + length, ") is outside dim ", axis, " of ", xs.str(), " ('", info(x).name, "')");
  Attrs a;
  a.axis = axis;
  a.start = start;
  a.length = length;
  a.shape = xs;
  Shape ys = xs;
  ys[axis] = length;
  return add_node(Op::kSlice, name, {x}, a, ys, info(x).dtype);
}

Value Graph::concat(const std::vector<Value>& xs, int axis) {
  std::string name = auto_name("concat");
  LOCDET_CHECK(!xs.empty(), name, ": nothing to concatenate");
  Shape out = shape(xs[0]);
  LOCDET_CHECK(axis >= 0 && axis < out.rank, name, ": axis ", axis, " out of range for ", out.str());
  for (size_t i = 1; i < xs.size(); ++i) {
    const Shape s = shape(xs[i]);
    bool ok = s.rank == out.rank;
    for (int d = 0; ok && d < s.rank; ++d) ok = d == axis || s[d] == out[d];
    LOCDET_CHECK(ok, name, ": input ", i, " '", info(xs[i]).name, "' ", s.str(), " does not match ",
                 shape(xs[0]).str(), " outside axis ", axis);
    out[axis] += s[axis];
  }
  Attrs a;
  a.axis = axis;
  return add_node(Op::kConcat, name, xs, a, out, info(xs[0]).dtype);
}

Value Graph::copy(Value x) {
  return add_node(Op::kCopy, "", {x}, {}, shape(x), info(x).dtype);
}

Value Graph::softmax_cross_entropy(Value logits, Value labels, float smoothing) {
  std::string name = auto_name("softmax_cross_entropy");
  const Shape ls = shape(logits), ys = shape(labels);
  LOCDET_CHECK(ls.rank == 2 && ys.numel() == ls[0], name, ": logits must be [N,C] and labels [N], got ",
               ls.str(), " and ", ys.str());
  LOCDET_CHECK(info(labels).dtype == DType::kI32, name, ": labels '", info(labels).name, "' must be I32");
  Attrs a;
  a.smoothing = smoothing;
  return add_node(Op::kSoftmaxCrossEntropy, name, {logits, labels}, a, {ls[0]});
}

Value Graph::loss(Op op, Value pred, Value target, Attrs attrs) {
  std::string name = auto_name(op_name(op));
  check_float(pred, name.c_str());
  check_float(target, name.c_str());
  LOCDET_CHECK(shape(pred) == shape(target), name, ": prediction '", info(pred).name, "' ", shape(pred).str(),
               " and target '", info(target).name, "' ", shape(target).str(), " differ");
  return add_node(op, name, {pred, target}, attrs, shape(pred));
}
Value Graph::bce_with_logits(Value l, Value t) {
  return loss(Op::kBceWithLogits, l, t, {});
}
Value Graph::mse(Value p, Value t) {
  return loss(Op::kMse, p, t, {});
}
Value Graph::l1(Value p, Value t) {
  return loss(Op::kL1, p, t, {});
}
Value Graph::sigmoid_focal(Value l, Value t, float alpha, float gamma) {
  Attrs a;
  a.alpha = alpha;
  a.gamma = gamma;
  return loss(Op::kSigmoidFocal, l, t, a);
}
Value Graph::smooth_l1(Value p, Value t, float beta) {
  Attrs a;
  a.beta = beta;
  return loss(Op::kSmoothL1, p, t, a);
}

std::vector<Value> Graph::custom(std::shared_ptr<const CustomOp> op, const std::vector<Value>& inputs,
                                 const std::vector<std::pair<Shape, DType>>& outputs) {
  LOCDET_CHECK(op != nullptr, "custom op is null");
  auto out = add_node_multi(Op::kCustom, auto_name(op->name.c_str()), inputs, {}, outputs);
  nodes_.back().custom = std::move(op);
  return out;
}

Value Graph::flat_buffer(const std::string& name, int64_t n, Role role) {
  Value v = source(Op::kState, name, {n}, DType::kF32, role);
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
    out << i << " " << op_name(n.op) << " '" << n.name << "' (";
    for (size_t k = 0; k < n.inputs.size(); ++k) out << (k ? ", " : "") << tensors_[n.inputs[k]].name;
    out << ") ->";
    for (int o : n.outputs) out << " " << tensors_[o].shape.str();
    out << "\n";
  }
  return out.str();
}

}  // namespace locdet
