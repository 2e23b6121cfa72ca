// What the executor asks of a backend, and the two backends it has. A backend runs the nodes
// of one planned graph by calling each node's op kernel for its device (engine/op.h); the
// Executor owns the graph, the plan and the arena.
//   CPU  (engine/backends/cpu_backend.cpp):  the nodes in order (OpenMP inside the kernels);
//        with use_double every F32 tensor is held in double, for gradient checks.
//   CUDA (engine/backends/cuda_backend.cpp): eager launches on one stream, or the whole step
//        captured once as a CUDA Graph and replayed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/op.h"

namespace locdet {

class Backend {
 public:
  Backend(const Graph& g, Device device, bool f64) : g_(g), device_(device), f64_(f64) {}
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  // Plans node `n` once, before memory is planned (its op's plan(): a cuDNN algorithm, a
  // oneDNN primitive), and returns the workspace it needs. Errors name the node.
  int64_t workspace_bytes(const Node& n);
  // Binds the arena: one KernelCall per node, built here once so a step allocates nothing.
  void bind(const std::vector<Tensor>& tensors, const std::vector<std::byte*>& workspaces,
            const std::vector<int64_t>& workspace_bytes);
  virtual void run() = 0;
  virtual void synchronize() {}
  // "cpu", "cuda graph (captured)", "cuda eager" ...
  virtual std::string mode() const = 0;

 protected:
  virtual void on_bind() {}  // CUDA: a captured graph holds the old addresses
  virtual void* stream() const { return nullptr; }
  virtual const void* cuda_context() const { return nullptr; }
  // Runs node i's kernel with its bound call.
  void run_node(size_t i) const;
  // "op" or "op [implementation]" for node i (profiles).
  std::string node_label(size_t i) const;
  // ", 21 conv2d on oneDNN, 3 conv2d on reference" style summary of the plans' choices ("" if none).
  std::string implementations() const;

  const Graph& g_;
  const Device device_;
  const bool f64_;
  std::vector<PlannedNode> planned_;  // per node
  std::vector<KernelCall> calls_;     // per node, after bind()
};

std::unique_ptr<Backend> make_cpu_backend(const Graph& g, bool use_double);
#ifdef LOCDET_WITH_CUDA
std::unique_ptr<Backend> make_cuda_backend(const Graph& g, bool use_cuda_graph);
#endif

}  // namespace locdet
