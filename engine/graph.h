// Graph IR and the builder API that models use.
//
// A Graph is a list of tensors and a list of nodes in topological (= execution) order.
// Every tensor is produced by exactly one node (parameters, inputs and constants by
// source nodes that launch nothing), so the node list alone says when a tensor is born.
// Builders infer shapes and fail with the node name and both shapes on a mismatch.
//
//   Graph g;
//   Value x = g.input("image", {B, 1, 48, 60});
//   Value w = g.parameter("conv1.weight", {16, 1, 3, 3}, Init::kKaimingUniform);
//   Value y = g.relu(g.batchnorm(g.conv2d(x, w, {}, 1, 1), "bn1"));
#pragma once

#include <any>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "kernels/common/optim_math.h"
#include "kernels/common/schedule.h"

namespace locdet {

struct OpDef;  // engine/op.h: everything about an op, defined once

enum class Role { kInput, kParameter, kState, kConstant, kActivation, kGradient, kOptimizerState };
const char* role_name(Role role);

// Which part of the step a node belongs to (NVTX ranges, timing).
enum class Phase { kForward, kBackward, kOptimizer };

enum class Init { kZeros, kOnes, kKaimingUniform, kXavierUniform };

// A handle to a tensor of a graph. Default-constructed = "none" (e.g. no bias).
struct Value {
  int id = -1;
  explicit operator bool() const { return id >= 0; }
};

// The optimizer section appended by add_optimizer() (engine/optim.h).
struct OptimizerConfig {
  enum class Kind { kAdamW, kSgd } kind = Kind::kAdamW;
  LrSchedule schedule;  // base_lr, warm-up, cosine: computed on device each step
  AdamWParams adamw;    // AdamW's weight_decay is decoupled
  float momentum = 0.9f, sgd_weight_decay = 0.0f;
  bool nesterov = false;
  // Weight decay only on weights (rank >= 2), not on biases and norm parameters.
  bool decay_only_weights = true;
  // > 0: keep an exponential moving average of the parameters ("optim.ema.<name>"), updated
  // after each step with decay min(ema_decay, step / (step + 9)); inference prefers it.
  float ema_decay = 0.0f;
};

struct Attrs {
  int stride = 1, pad = 0, kernel = 0;  // conv, pool
  int axis = 0;
  int64_t start = 0, length = 0;       // slice
  float value = 0.0f;                  // fill value, scale factor, leaky slope
  float eps = 1e-5f, momentum = 0.1f;  // batchnorm
  float smoothing = 0.0f;              // softmax cross entropy
  float alpha = 0.25f, gamma = 2.0f;   // focal
  float beta = 1.0f;                   // smooth l1
  Shape shape;                         // the input shape a backward op restores, sum_to target
  OptimizerConfig optim;
  std::any params;  // an op's own parameter struct (e.g. NmsParams), read with KernelCall::params<P>()
};

struct TensorInfo {
  std::string name;
  Shape shape;
  DType dtype = DType::kF32;
  Role role = Role::kActivation;
  int producer = -1;        // node index
  int view_of = -1;         // tensor id this is a view of (reshape, packed parameter), or -1
  int64_t view_offset = 0;  // in elements of the base
  bool pinned = false;      // lives for the whole step (never shares memory)
  bool flat = false;        // a packed buffer (params, grads, m, v) whose views are the real tensors
  Init init = Init::kZeros;
  std::vector<float> constant;  // the values of a Constant
  int64_t numel() const { return shape.numel(); }
};

struct Node {
  const OpDef* op = nullptr;
  std::string name;
  std::vector<int> inputs;   // tensor ids
  std::vector<int> outputs;  // tensor ids
  Attrs attrs;
  Phase phase = Phase::kForward;
  Value in(size_t k) const { return Value{inputs[k]}; }
  Value out(size_t k) const { return Value{outputs[k]}; }
};

const char* op_name(const Node& n);

class Graph {
 public:
  explicit Graph(bool training = true) : training_(training) {}
  bool training() const { return training_; }

  // --- sources
  // An input the caller fills before each step (Executor::write). Data made on the device
  // inside the step (the scene renderer) is an op whose outputs are the batch.
  Value input(const std::string& name, Shape shape, DType dtype = DType::kF32);
  Value parameter(const std::string& name, Shape shape, Init init);
  Value state(const std::string& name, Shape shape, Init init);  // persistent, not trained
  Value constant(const std::string& name, Shape shape, std::vector<float> values);
  Value fill(Shape shape, float value);

  // --- layers (NCHW)
  Value conv2d(Value x, Value w, Value b, int stride, int pad);
  // Creates PREFIX.weight/.bias (parameters) and PREFIX.running_mean/.running_var (state);
  // training graphs normalize with batch statistics, eval graphs with the running ones.
  Value batchnorm(Value x, const std::string& prefix, float momentum = 0.1f, float eps = 1e-5f);
  Value relu(Value x);
  Value leaky_relu(Value x, float slope);
  Value silu(Value x);
  Value sigmoid(Value x);
  Value maxpool2d(Value x, int kernel, int stride);
  Value global_avgpool(Value x);            // [N,C,H,W] -> [N,C]
  Value linear(Value x, Value w, Value b);  // x [M,K] (or [M,...] flattened), w [N,K], b [N]

  // --- tensor ops. add/sub/mul broadcast numpy-style (dims of 1 or missing leading dims).
  Value add(Value a, Value b);
  Value sub(Value a, Value b);
  Value mul(Value a, Value b);
  Value scale(Value x, float s);
  Value sum(Value x);                                      // -> [1]
  Value mean(Value x);                                     // -> [1]
  Value sum_to(Value x, Shape shape, float scale = 1.0f);  // sum over the dims broadcast away
  Value broadcast_to(Value x, Shape shape, float scale = 1.0f);
  Value reshape(Value x, Shape shape);  // a view
  Value slice(Value x, int axis, int64_t start, int64_t length);
  Value concat(const std::vector<Value>& xs, int axis);
  Value copy(Value x);

  // --- per-element losses (unreduced; follow with mean() or a weighted sum)
  Value softmax_cross_entropy(Value logits, Value labels, float smoothing = 0.0f);  // [N,C],[N] i32 -> [N]
  Value bce_with_logits(Value logits, Value target);
  Value sigmoid_focal(Value logits, Value target, float alpha = 0.25f, float gamma = 2.0f);
  Value mse(Value pred, Value target);
  Value l1(Value pred, Value target);
  Value smooth_l1(Value pred, Value target, float beta = 1.0f);
  // Rows of logits [M, bins] as distributions over bins 0..bins-1 (generalized focal loss):
  // the expected bin, sum_k k softmax_k -> [M]; and the cross entropy against a continuous
  // target [M] (in bins) split between its two neighbouring bins -> [M].
  Value bin_expectation(Value logits);
  Value distribution_focal(Value logits, Value target);

  // Adds a node of `op` (engine/op.h): its shape rule checks the inputs and gives the outputs.
  // `name` empty: "<op>_<index>". Returns the outputs.
  std::vector<Value> apply(const OpDef& op, const std::vector<Value>& inputs, Attrs attrs = {},
                           const std::string& name = "");
  Value apply1(const OpDef& op, const std::vector<Value>& inputs, Attrs attrs = {},
               const std::string& name = "") {
    return apply(op, inputs, std::move(attrs), name)[0];
  }

  // A persistent packed buffer of n elements (optimizer wiring); its views carry the names.
  Value flat_buffer(const std::string& name, int64_t n, Role role);
  // A view of `base` starting at element `offset`.
  Value view(Value base, const std::string& name, Shape shape, int64_t offset, Role role);

  // Keeps a tensor readable after a step (loss, predictions, metrics).
  void mark_output(Value v);

  // --- low level (autodiff, optimizer)
  void set_phase(Phase phase) { phase_ = phase; }
  Phase phase() const { return phase_; }

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  std::vector<TensorInfo>& tensors() { return tensors_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  std::vector<Node>& nodes() { return nodes_; }
  const TensorInfo& info(Value v) const;
  TensorInfo& info(Value v);
  const Shape& shape(Value v) const { return info(v).shape; }
  Value find(const std::string& name) const;    // by tensor name; fails when absent
  Value lookup(const std::string& name) const;  // by tensor name; Value{} when absent
  std::vector<Value> parameters() const;        // in declaration order
  std::vector<Value> persistent_state() const;  // parameters, state, optimizer state: what a checkpoint saves
  std::string str() const;                      // one line per node, for debugging

 private:
  Value new_tensor(const std::string& name, Shape shape, DType dtype, Role role, int producer);
  Value source(const OpDef& op, const std::string& name, Shape shape, DType dtype, Role role);
  std::string auto_name(const char* op) const;

  bool training_;
  Phase phase_ = Phase::kForward;
  std::vector<TensorInfo> tensors_;
  std::vector<Node> nodes_;
};

// numpy broadcast of two shapes (aligned at the trailing dim); fails naming `what`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& what);

}  // namespace locdet
