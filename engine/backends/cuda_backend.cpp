// The CUDA backend of engine/executor: every node launched on one stream (eager), or the
// whole step captured once as a CUDA Graph and replayed with one cudaGraphLaunch.
// The first step always runs eagerly (cuBLAS/cuDNN initialize lazily, which must not
// happen inside a capture); the second is captured. If capture fails, the backend says so
// on stderr and stays eager. Custom/source callbacks are captured, not re-run: they must
// only enqueue device work whose per-step inputs live in device memory.
//
// LOCDET_CUDA_SYNC=1 (debugging): run eagerly and synchronize after every op, so an
// asynchronous fault (an illegal address, say) is reported against the op that caused it
// rather than a later one.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "engine/backends/backend.h"
#include "kernels/base/error.h"
#include "kernels/base/nvtx.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_check.h"

namespace locdet {
namespace {

// Ends a capture on every path: on an exception the partial graph is discarded.
class CaptureGuard {
 public:
  explicit CaptureGuard(cudaStream_t s) : stream_(s) {
    CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  }
  ~CaptureGuard() {
    if (!active_) return;
    cudaGraph_t g = nullptr;
    cudaStreamEndCapture(stream_, &g);
    if (g) cudaGraphDestroy(g);
    cudaGetLastError();
  }
  cudaGraph_t finish() {
    cudaGraph_t g = nullptr;
    active_ = false;
    CUDA_CHECK(cudaStreamEndCapture(stream_, &g));
    return g;
  }

 private:
  cudaStream_t stream_;
  bool active_ = true;
};

class CudaBackend : public Backend {
 public:
  CudaBackend(const Graph& g, bool use_graph)
      : Backend(g, Device::kCuda, false),
        sync_each_op_(sync_each_op_requested()),
        use_graph_(use_graph && !sync_each_op_) {}
  ~CudaBackend() override { drop_captured_graph(); }

  void run() override {
    if (!use_graph_) return launch_all();
    if (exec_) {
      CUDA_CHECK(cudaGraphLaunch(exec_, cuda_stream()));
      return;
    }
    if (eager_runs_++ == 0) return launch_all();  // warm-up outside capture
    try {
      capture();
    } catch (const Error& e) {
      std::fprintf(stderr, "locdet: CUDA Graph capture failed, running eagerly instead: %s\n", e.what());
      use_graph_ = false;
      return launch_all();
    }
    CUDA_CHECK(cudaGraphLaunch(exec_, cuda_stream()));
  }

  void synchronize() override { CUDA_CHECK(cudaStreamSynchronize(cuda_stream())); }

  std::string mode() const override {
    if (!use_graph_) return "cuda eager";
    return exec_ ? "cuda graph (captured)" : "cuda graph (not captured yet)";
  }

 private:
  cudaStream_t cuda_stream() const { return ctx_.get().stream; }
  void* stream() const override { return cuda_stream(); }
  const void* cuda_context() const override { return &ctx_.get(); }
  // A captured graph holds the old addresses: capture again (after an eager warm-up).
  void on_bind() override { drop_captured_graph(); }

  static bool sync_each_op_requested() {
    const char* v = std::getenv("LOCDET_CUDA_SYNC");
    return v && *v && std::string(v) != "0";
  }

  void capture() {
    cudaGraph_t graph;
    {
      CaptureGuard guard(cuda_stream());
      launch_all();
      graph = guard.finish();
    }
    const cudaError_t status = cudaGraphInstantiate(&exec_, graph, 0);
    if (status != cudaSuccess) {
      exec_ = nullptr;
      cudaGraphDestroy(graph);
      CUDA_CHECK(status);
    }
    graph_ = graph;
  }

  void drop_captured_graph() {
    if (exec_) cudaGraphExecDestroy(exec_);
    if (graph_) cudaGraphDestroy(graph_);
    exec_ = nullptr;
    graph_ = nullptr;
    eager_runs_ = 0;
  }

  void launch_all() {
    std::optional<NvtxRange> phase_range;
    Phase phase = Phase::kForward;
    const auto& nodes = g_.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!phase_range || nodes[i].phase != phase) {
        phase = nodes[i].phase;
        phase_range.reset();
        phase_range.emplace(phase == Phase::kForward    ? "forward"
                            : phase == Phase::kBackward ? "backward"
                                                        : "optimizer");
      }
      NvtxRange op_range(nodes[i].name.c_str());
      try {
        run_node(i);
        if (sync_each_op_) CUDA_CHECK(cudaStreamSynchronize(cuda_stream()));
      } catch (const Error& e) {
        // CUDA/cuBLAS/cuDNN checks name the file and line; the user needs the op.
        fail("op '", nodes[i].name, "' (", nodes[i].op->name, "): ", e.what());
      }
    }
  }

  const bool sync_each_op_;
  bool use_graph_;
  cuda::CudaContextOwner ctx_;
  int eager_runs_ = 0;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const Graph& g, bool use_cuda_graph) {
  return std::make_unique<CudaBackend>(g, use_cuda_graph);
}

}  // namespace locdet
