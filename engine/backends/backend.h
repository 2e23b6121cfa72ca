// What the executor asks of a backend, and the two backends it has. A backend runs the nodes
// of one planned graph; the Executor owns the graph, the plan and the arena.
//   CPU  (engine/backends/cpu_backend.cpp):  a loop over the nodes calling kernels/cpu
//        (OpenMP inside the kernels); with use_double every F32 tensor is held in double.
//   CUDA (engine/backends/cuda_backend.cpp): eager launches on one stream, or the whole step
//        captured once as a CUDA Graph and replayed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/tensor.h"

namespace locdet {

class Backend {
 public:
  virtual ~Backend() = default;
  // Scratch the node needs (asked once per node, before planning; may set up cuDNN plans).
  virtual int64_t workspace_bytes(const Node& node) = 0;
  virtual void bind(const std::vector<Tensor>& tensors, const std::vector<std::byte*>& workspaces) = 0;
  virtual void run() = 0;
  virtual void synchronize() {}
  // "cpu", "cuda graph (captured)", "cuda eager" ...
  virtual std::string mode() const = 0;
};

// Whether `device`'s backend implements `op`: a backend that cannot run an op says so.
bool backend_supports(Op op, Device device);

std::unique_ptr<Backend> make_cpu_backend(const Graph& g, bool use_double);
#ifdef LOCDET_WITH_CUDA
std::unique_ptr<Backend> make_cuda_backend(const Graph& g, bool use_cuda_graph);
#endif

}  // namespace locdet
