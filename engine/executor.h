// Runs a planned graph on one device. The constructor plans memory, makes ONE arena
// allocation, initializes parameters (seeded) and uploads constants; step() then runs
// every node once (for a training graph: forward, backward, optimizer) with no allocation.
// Host <-> device traffic happens only in read()/write(), which are explicit.
//
// CPU: a loop over the nodes calling kernels/cpu (OpenMP inside the kernels); with
// cpu_double every F32 tensor is held and computed in double (gradient checks).
// CUDA: eager launches on one stream, or (cuda_graph) the whole step captured once as a
// CUDA Graph and replayed; capture failure falls back to eager and says so.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/planner.h"
#include "engine/tensor.h"

namespace locdet {

struct ExecutorOptions {
  Device device = Device::kCpu;
  bool cuda_graph = true;   // CUDA: capture the step as a CUDA Graph (eager when false)
  bool cpu_double = false;  // CPU: compute F32 tensors in double
  uint64_t seed = 1;        // parameter initialization
};

class Backend;  // engine/backends/backend.h

class Executor {
 public:
  explicit Executor(Graph graph, ExecutorOptions options = {});
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void step();
  const Graph& graph() const { return graph_; }
  const Plan& plan() const { return plan_; }
  const ExecutorOptions& options() const { return options_; }
  std::string mode() const;  // the backend's: "cpu", "cuda graph (captured)", ...

  Tensor tensor(Value v) const;
  Tensor tensor(const std::string& name) const { return tensor(graph_.find(name)); }
  std::vector<float> read(Value v) const;
  std::vector<int32_t> read_i32(Value v) const;
  float read_scalar(Value v) const { return read(v).at(0); }
  void write(Value v, const std::vector<float>& values);
  void write_i32(Value v, const std::vector<int32_t>& values);
  // Raw bytes of a tensor as stored (checkpoints); sizes must match exactly.
  std::vector<std::byte> read_bytes(Value v) const;
  void write_bytes(Value v, const std::vector<std::byte>& bytes);
  // Every persistent tensor of this graph (parameters, batch-norm statistics) from the
  // same-named tensor of `from`: an inference graph taking a training graph's weights (a
  // parameter's weight average "optim.ema.<name>" where `from` keeps one and this graph does not).
  void copy_persistent_state_from(const Executor& from);
  void synchronize();

  // Re-initializes parameters and state with `seed` (Kaiming/Xavier uniform, zeros, ones).
  void init_parameters(uint64_t seed);

 private:
  void check_device_memory();  // CUDA: fails with device_memory_shortfall()'s message
  Graph graph_;
  ExecutorOptions options_;
  std::unique_ptr<Backend> backend_;
  Plan plan_;
  std::unique_ptr<Buffer> arena_;
  std::vector<Tensor> tensors_;
};

// Device memory check at plan time. The arena holds a part that does not depend on the
// batch (parameters, state, optimizer state: `fixed_bytes`) and activations, gradients of
// activations and workspaces, which grow about linearly with the batch. Returns "" when
// `needed_bytes` fits in `free_bytes`, else the message: needed, free, and the largest
// batch estimated to fit (linear in batch; 0 when not even the fixed part fits).
std::string device_memory_shortfall(int64_t needed_bytes, int64_t free_bytes, int64_t fixed_bytes,
                                    int64_t batch);
// The estimate behind that message (0 when even batch 1 does not fit).
int64_t largest_batch_that_fits(int64_t needed_bytes, int64_t free_bytes, int64_t fixed_bytes, int64_t batch);
// Bytes left for the CUDA context, cuDNN/cuBLAS handles and allocator slack.
constexpr int64_t kDeviceMemoryHeadroom = int64_t{256} << 20;

}  // namespace locdet
