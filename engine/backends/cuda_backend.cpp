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
#include <map>
#include <optional>
#include <string>

#include "engine/backends/backend.h"
#include "engine/backends/node_args.h"
#include "kernels/base/error.h"
#include "kernels/base/nvtx.h"
#include "kernels/cuda/activation.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/loss.h"
#include "kernels/cuda/optim.h"
#include "kernels/cuda/pool.h"
#include "kernels/cuda/tensor_ops.h"

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
      : g_(g), sync_each_op_(sync_each_op_requested()), use_graph_(use_graph && !sync_each_op_) {}
  ~CudaBackend() override { drop_captured_graph(); }

  int64_t workspace_bytes(const Node& n) override {
    if (n.op != Op::kConv2d && n.op != Op::kConv2dBackwardData && n.op != Op::kConv2dBackwardFilter) return 0;
    // cuDNN algorithms are chosen here, once, at plan time.
    try {
      auto it = convs_.emplace(&n - g_.nodes().data(), cuda::CudnnConv2d(conv_dims(g_, n), ctx_.get())).first;
      return static_cast<int64_t>(it->second.workspace_bytes());
    } catch (const Error& e) {
      fail("op '", n.name, "' (", op_name(n.op), "): ", e.what());
    }
  }

  void bind(const std::vector<Tensor>& tensors, const std::vector<std::byte*>& workspaces) override {
    // A captured graph holds the old addresses: capture again (after an eager warm-up).
    drop_captured_graph();
    t_ = tensors;
    ws_ = workspaces;
  }

  void run() override {
    if (!use_graph_) return launch_all();
    if (exec_) {
      CUDA_CHECK(cudaGraphLaunch(exec_, stream()));
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
    CUDA_CHECK(cudaGraphLaunch(exec_, stream()));
  }

  void synchronize() override { CUDA_CHECK(cudaStreamSynchronize(stream())); }

  std::string mode() const override {
    if (!use_graph_) return "cuda eager";
    return exec_ ? "cuda graph (captured)" : "cuda graph (not captured yet)";
  }

 private:
  cudaStream_t stream() const { return ctx_.get().stream; }
  float* f(int t) const { return t_[t].as<float>(); }
  int32_t* i32(int t) const { return t_[t].as<int32_t>(); }
  int64_t numel(int t) const { return t_[t].numel(); }

  static bool sync_each_op_requested() {
    const char* v = std::getenv("LOCDET_CUDA_SYNC");
    return v && *v && std::string(v) != "0";
  }

  void capture() {
    cudaGraph_t graph;
    {
      CaptureGuard guard(stream());
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
        launch(nodes[i], static_cast<int>(i));
        if (sync_each_op_) CUDA_CHECK(cudaStreamSynchronize(stream()));
      } catch (const Error& e) {
        // CUDA/cuBLAS/cuDNN checks name the file and line; the user needs the op.
        fail("op '", nodes[i].name, "' (", op_name(nodes[i].op), "): ", e.what());
      }
    }
  }

  CustomCall call(const Node& n) const {
    CustomCall cc;
    cc.device = Device::kCuda;
    cc.stream = stream();
    for (int t : n.inputs) cc.inputs.push_back(t_[t]);
    for (int t : n.outputs) cc.outputs.push_back(t_[t]);
    return cc;
  }

  void slab(const SlabCopy& c) {
    cuda::copy_slab(c.outer, c.inner, f(c.src), c.src_len, c.src_start, f(c.dst), c.dst_len, c.dst_start,
                    c.len, stream());
  }

  void launch(const Node& n, int index) {
    const auto& in = n.inputs;
    const int out = n.outputs.empty() ? -1 : n.outputs[0];
    const Attrs& a = n.attrs;
    cudaStream_t s = stream();
    const cuda::CudaContext& ctx = ctx_.get();
    switch (n.op) {
      case Op::kInput:
        if (n.custom) custom_launch(n, Device::kCuda)(call(n));
        return;
      case Op::kParameter:
      case Op::kState:
      case Op::kConstant:
      case Op::kReshape:
        return;
      case Op::kFill:
        return cuda::fill(numel(out), a.value, f(out), s);
      case Op::kCopy:
        return cuda::copy_bytes(static_cast<int64_t>(t_[out].bytes()), t_[in[0]].data, t_[out].data, s);
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
        return cuda::binary(binary_kind(n.op), binary_index(g_, n), f(in[0]), f(in[1]), f(out), s);
      case Op::kScale:
        return cuda::scale(numel(out), a.value, f(in[0]), f(out), s);
      case Op::kSumTo:
        return cuda::sum_to(sum_to_index(g_, n), a.value, f(in[0]), f(out), numel(out), s);
      case Op::kBroadcastTo:
        return cuda::broadcast_to(broadcast_to_index(g_, n), a.value, f(in[0]), f(out), s);
      case Op::kSigmoid:
        return cuda::sigmoid_forward(numel(out), f(in[0]), f(out), s);
      case Op::kSigmoidBackward:
        return cuda::sigmoid_backward(numel(out), f(in[0]), f(in[1]), f(out), s);
      case Op::kSliceBackward:
        cuda::fill(numel(out), 0.0f, f(out), s);
        [[fallthrough]];
      case Op::kConcat:
      case Op::kSlice:
        return for_each_slab(g_, n, [&](const SlabCopy& c) { slab(c); });
      case Op::kConv2d:
        return convs_.at(index).forward(ctx, f(in[0]), f(in[1]), in.size() > 2 ? f(in[2]) : nullptr, f(out),
                                        ws_[index]);
      case Op::kConv2dBackwardData:
        return convs_.at(index).backward_data(ctx, f(in[0]), f(in[1]), f(out), ws_[index]);
      case Op::kConv2dBackwardFilter:
        return convs_.at(index).backward_filter(ctx, f(in[0]), f(in[1]), f(out),
                                                n.outputs.size() > 1 ? f(n.outputs[1]) : nullptr, ws_[index]);
      case Op::kBatchNormTrain:
        return cuda::batchnorm_forward_train(batchnorm_dims(g_, n), f(in[0]), f(in[1]), f(in[2]), f(out),
                                             f(n.outputs[1]), f(n.outputs[2]), f(in[3]), f(in[4]), a.momentum,
                                             a.eps, s);
      case Op::kBatchNormEval:
        return cuda::batchnorm_forward_eval(batchnorm_dims(g_, n), f(in[0]), f(in[1]), f(in[2]), f(in[3]),
                                            f(in[4]), a.eps, f(out), s);
      case Op::kBatchNormBackward:
        return cuda::batchnorm_backward(batchnorm_dims(g_, n), f(in[0]), f(in[1]), f(in[2]), f(in[3]),
                                        f(in[4]), f(out), f(n.outputs[1]), f(n.outputs[2]), s);
      case Op::kRelu:
        return cuda::relu_forward(numel(out), f(in[0]), f(out), s);
      case Op::kReluBackward:
        return cuda::relu_backward(numel(out), f(in[0]), f(in[1]), f(out), s);
      case Op::kLeakyRelu:
        return cuda::leaky_relu_forward(numel(out), f(in[0]), f(out), a.value, s);
      case Op::kLeakyReluBackward:
        return cuda::leaky_relu_backward(numel(out), f(in[0]), f(in[1]), f(out), a.value, s);
      case Op::kSilu:
        return cuda::silu_forward(numel(out), f(in[0]), f(out), s);
      case Op::kSiluBackward:
        return cuda::silu_backward(numel(out), f(in[0]), f(in[1]), f(out), s);
      case Op::kMaxPool2d:
        return cuda::maxpool2d_forward(pool_dims(g_, n), f(in[0]), f(out), i32(n.outputs[1]), s);
      case Op::kMaxPool2dBackward:
        return cuda::maxpool2d_backward(pool_dims(g_, n), f(in[0]), i32(in[1]), f(out), s);
      case Op::kGlobalAvgPool: {
        const BatchNormDims d = global_pool_dims(g_, n);
        return cuda::global_avgpool_forward(d.n, d.c, d.hw, f(in[0]), f(out), s);
      }
      case Op::kGlobalAvgPoolBackward: {
        const BatchNormDims d = global_pool_dims(g_, n);
        return cuda::global_avgpool_backward(d.n, d.c, d.hw, f(in[0]), f(out), s);
      }
      case Op::kLinear: {
        const LinearDims d = linear_dims(g_, n);
        return cuda::linear_forward(d.m, d.k, d.n, f(in[0]), f(in[1]), in.size() > 2 ? f(in[2]) : nullptr,
                                    f(out), ctx);
      }
      case Op::kLinearBackward: {
        const LinearDims d = linear_dims(g_, n);
        return cuda::linear_backward(d.m, d.k, d.n, f(in[0]), f(in[1]), f(in[2]),
                                     d.dx_output >= 0 ? f(n.outputs[d.dx_output]) : nullptr, f(out),
                                     d.db_output >= 0 ? f(n.outputs[d.db_output]) : nullptr, ctx);
      }
      case Op::kSoftmaxCrossEntropy: {
        const RowsDims d = softmax_dims(g_, n);
        return cuda::softmax_cross_entropy_forward(d.rows, d.cols, f(in[0]), i32(in[1]), a.smoothing, f(out),
                                                   s);
      }
      case Op::kSoftmaxCrossEntropyBackward: {
        const RowsDims d = softmax_dims(g_, n);
        return cuda::softmax_cross_entropy_backward(d.rows, d.cols, f(in[0]), i32(in[1]), a.smoothing,
                                                    f(in[2]), f(out), s);
      }
      case Op::kBceWithLogits:
        return cuda::bce_with_logits_forward(numel(out), f(in[0]), f(in[1]), f(out), s);
      case Op::kBceWithLogitsBackward:
        return cuda::bce_with_logits_backward(numel(out), f(in[0]), f(in[1]), f(in[2]), f(out), s);
      case Op::kSigmoidFocal:
        return cuda::sigmoid_focal_forward(numel(out), f(in[0]), f(in[1]), a.alpha, a.gamma, f(out), s);
      case Op::kSigmoidFocalBackward:
        return cuda::sigmoid_focal_backward(numel(out), f(in[0]), f(in[1]), a.alpha, a.gamma, f(in[2]),
                                            f(out), s);
      case Op::kMse:
        return cuda::mse_forward(numel(out), f(in[0]), f(in[1]), f(out), s);
      case Op::kMseBackward:
        return cuda::mse_backward(numel(out), f(in[0]), f(in[1]), f(in[2]), f(out), s);
      case Op::kL1:
        return cuda::l1_forward(numel(out), f(in[0]), f(in[1]), f(out), s);
      case Op::kL1Backward:
        return cuda::l1_backward(numel(out), f(in[0]), f(in[1]), f(in[2]), f(out), s);
      case Op::kSmoothL1:
        return cuda::smooth_l1_forward(numel(out), f(in[0]), f(in[1]), a.beta, f(out), s);
      case Op::kSmoothL1Backward:
        return cuda::smooth_l1_backward(numel(out), f(in[0]), f(in[1]), a.beta, f(in[2]), f(out), s);
      case Op::kLrSchedule:
        return cuda::lr_schedule_step(a.optim.schedule, t_[in[0]].as<int64_t>(), f(in[1]), s);
      case Op::kAdamW:
        return cuda::adamw_step(numel(in[0]), f(in[0]), f(in[1]), f(in[2]), f(in[3]), f(in[4]), a.optim.adamw,
                                f(in[5]), t_[in[6]].as<int64_t>(), s);
      case Op::kSgd:
        return cuda::sgd_step(numel(in[0]), f(in[0]), f(in[1]), f(in[2]), f(in[3]), a.optim.momentum,
                              a.optim.nesterov, a.optim.sgd_weight_decay, f(in[4]), s);
      case Op::kCustom:
        return custom_launch(n, Device::kCuda)(call(n));
    }
  }

  const Graph& g_;
  const bool sync_each_op_;
  bool use_graph_;
  cuda::CudaContextOwner ctx_;
  std::map<int, cuda::CudnnConv2d> convs_;  // per conv node, built at plan time
  std::vector<Tensor> t_;
  std::vector<std::byte*> ws_;
  int eager_runs_ = 0;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const Graph& g, bool use_cuda_graph) {
  return std::make_unique<CudaBackend>(g, use_cuda_graph);
}

}  // namespace locdet
