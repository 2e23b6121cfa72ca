// One op, defined once: the whole engine (graph builder, autodiff, planner, both backends and
// the op-table test) reads an op from its OpDef and from nothing else.
//
//   shape     the shape rule: checks the inputs and attributes (failing with the node's name
//             and the shapes involved) and gives the outputs
//   backward  adds the nodes that compute the inputs' gradients (none: not differentiable)
//   cpu/cuda  per device: `run` launches the kernel; `plan` (optional) sets the node up once
//             at plan time (a cuDNN algorithm, a oneDNN primitive) and says how much workspace
//             it needs; `refuse` (optional) names what this device cannot do for this node.
//             An empty `run` means the device has no kernel for the op; the executor refuses
//             the graph at plan time, before anything runs.
//
// The engine's ops are in engine/ops/ (engine_ops() lists them); models add their own the same
// way (models/model_ops.h lists them: cell ops, box losses, scene feed, detector ops).
// tests/test_op_table.cpp walks every op on every backend.
#pragma once

#include <any>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/tensor.h"

namespace locdet {

struct TensorSpec {
  Shape shape;
  DType dtype = DType::kF32;
};

// What the shape rule sees: the node's name (for messages), its inputs and attributes.
struct ShapeCall {
  const std::string& node;
  const std::vector<const TensorInfo*>& inputs;
  const Attrs& attrs;
  size_t count() const { return inputs.size(); }
  const Shape& shape(size_t i) const { return inputs[i]->shape; }
  DType dtype(size_t i) const { return inputs[i]->dtype; }
  const std::string& name(size_t i) const { return inputs[i]->name; }
};

// What a kernel gets, bound once per node when the executor binds its arena: the node, its
// tensors on the device (F32 tensors are F64 in a cpu_double executor), its workspace, what
// `plan` prepared and, on CUDA, the stream and the cuBLAS/cuDNN context.
struct KernelCall {
  const Graph* graph = nullptr;
  const Node* node = nullptr;
  std::vector<Tensor> in, out;
  std::byte* workspace = nullptr;
  int64_t workspace_bytes = 0;
  void* state = nullptr;               // plan()'s state, or null
  void* stream = nullptr;              // cudaStream_t
  const void* cuda_context = nullptr;  // const cuda::CudaContext*

  const Attrs& attrs() const { return node->attrs; }
  template <class P>
  const P& params() const {
    return std::any_cast<const P&>(node->attrs.params);
  }
  template <class T>
  T* i(size_t k) const {
    return in[k].as<T>();
  }
  template <class T>
  T* o(size_t k) const {
    return out[k].as<T>();
  }
  int64_t numel_in(size_t k) const { return in[k].numel(); }
  int64_t numel_out(size_t k) const { return out[k].numel(); }
};

// What `plan` gets, once per node before memory is planned.
struct PlanCall {
  const Graph& graph;
  const Node& node;
  Device device;
  bool f64 = false;                    // CPU: the executor computes in double
  const void* cuda_context = nullptr;  // const cuda::CudaContext*
  const Shape& shape_in(size_t k) const { return graph.tensors()[node.inputs[k]].shape; }
  const Shape& shape_out(size_t k) const { return graph.tensors()[node.outputs[k]].shape; }
};

struct PlannedNode {
  int64_t workspace_bytes = 0;
  std::shared_ptr<void> state;  // handed to run() as KernelCall::state
  // Which implementation plan() chose, when an op has several ("oneDNN", "reference"): the
  // executor's mode and the op profile name it.
  std::string implementation;
};

struct DeviceKernel {
  void (*run)(const KernelCall&) = nullptr;
  PlannedNode (*plan)(const PlanCall&) = nullptr;
  std::string (*refuse)(const Graph&, const Node&) = nullptr;  // "" when the node can run
};

// Gradients for the node's inputs (Value{} where none); `needs[k]`: input k wants one.
using BackwardFn = std::vector<Value> (*)(Graph& g, const Node& n, const std::vector<Value>& grad_outputs,
                                          const std::vector<bool>& needs);
using ShapeFn = std::vector<TensorSpec> (*)(const ShapeCall&);

enum class OpKind {
  kSource,  // makes a pinned tensor the executor owns (input, parameter, state, constant)
  kView,    // a new shape over its input's memory (reshape): no kernel
  kKernel,  // runs a kernel
};

struct OpDef {
  explicit OpDef(const char* op_name, OpKind op_kind = OpKind::kKernel) : name(op_name), kind(op_kind) {}

  const char* name;
  OpKind kind;
  ShapeFn shape = nullptr;
  BackwardFn backward = nullptr;
  // Output 0 may reuse input `inplace`'s memory when that input dies at this node (the kernel
  // reads element i of it before writing element i of the output); -1: never.
  int inplace = -1;
  // How many leading float outputs carry a gradient (batch statistics and argmax outputs do
  // not); -1: all float outputs.
  int grad_outputs = -1;
  DeviceKernel cpu, cuda;

  const DeviceKernel& on(Device device) const { return device == Device::kCuda ? cuda : cpu; }

  // Builder-style set-up for the definitions in engine/ops and models/.
  OpDef& with_shape(ShapeFn f) { return shape = f, *this; }
  OpDef& with_backward(BackwardFn f) { return backward = f, *this; }
  OpDef& with_inplace(int input) { return inplace = input, *this; }
  OpDef& with_grad_outputs(int n) { return grad_outputs = n, *this; }
  OpDef& on_cpu(DeviceKernel k) { return cpu = k, *this; }
  OpDef& on_cuda(DeviceKernel k) { return cuda = k, *this; }
};

// Why `device` cannot run node `n` ("" when it can): no kernel for the op, or the op's own
// refuse() answer. The executor asks this for every node at plan time.
std::string unsupported_reason(const Graph& g, const Node& n, Device device);

// Every op the engine defines (engine/ops); models::model_ops() lists the models' own.
const std::vector<const OpDef*>& engine_ops();

}  // namespace locdet
