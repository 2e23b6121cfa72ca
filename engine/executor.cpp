#include "engine/executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <type_traits>

#include "engine/core/error.h"
#include "engine/nvtx.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/conv_onednn.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/loss.h"
#include "kernels/cpu/optim.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/tensor_ops.h"

#ifdef LOCDET_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace locdet {

Index4 broadcast_index(const Shape& out, const Shape& a, const Shape& b) {
  Index4 d;
  auto strides = [&](const Shape& s, int64_t* st) {
    int64_t stride = 1;
    for (int i = 3; i >= 0; --i) {
      int si = s.rank - 4 + i;  // s aligned at the trailing dim
      int64_t dim = si >= 0 ? s[si] : 1;
      st[i] = dim == 1 ? 0 : stride;
      stride *= dim;
    }
  };
  for (int i = 0; i < 4; ++i) {
    int oi = out.rank - 4 + i;
    d.shape[i] = oi >= 0 ? out[oi] : 1;
  }
  strides(a, d.a);
  strides(b, d.b);
  return d;
}

void slab_dims(const Shape& s, int axis, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int i = 0; i < axis; ++i) *outer *= s[i];
  for (int i = axis + 1; i < s.rank; ++i) *inner *= s[i];
}

namespace {

Conv2dDims conv_dims(const Shape& x, const Shape& w, const Attrs& a) {
  Conv2dDims d;
  d.n = static_cast<int>(x[0]), d.c = static_cast<int>(x[1]), d.h = static_cast<int>(x[2]);
  d.w = static_cast<int>(x[3]);
  d.k = static_cast<int>(w[0]), d.r = static_cast<int>(w[2]), d.s = static_cast<int>(w[3]);
  d.stride = a.stride;
  d.pad = a.pad;
  return d;
}

BatchNormDims bn_dims(const Shape& x) {
  int64_t hw = x.rank == 4 ? x[2] * x[3] : 1;
  return {static_cast<int>(x[0]), static_cast<int>(x[1]), static_cast<int>(hw)};
}

Pool2dDims pool_dims(const Shape& x, const Attrs& a) {
  return {static_cast<int>(x[0]),
          static_cast<int>(x[1]),
          static_cast<int>(x[2]),
          static_cast<int>(x[3]),
          a.kernel,
          a.stride,
          0};
}

template <class T>
class CpuBackend : public Backend {
 public:
  explicit CpuBackend(const Graph& g) : g_(g) {}

  int64_t workspace_bytes(const Node& n) override {
    if (n.op == Op::kConv2d || n.op == Op::kConv2dBackwardData || n.op == Op::kConv2dBackwardFilter) {
      const Shape& x = n.op == Op::kConv2d ? shape(n.inputs[0]) : n.attrs.shape;
      const Shape& w =
          n.op == Op::kConv2dBackwardFilter ? g_.tensors()[n.outputs[0]].shape : shape(n.inputs[1]);
      const Conv2dDims d = conv_dims(x, w, n.attrs);
      if (const cpu::OnednnConv2d* conv = plan_onednn_conv(n, d))
        return static_cast<int64_t>(conv->workspace_bytes());
      return static_cast<int64_t>(cpu::conv2d_workspace_elems(d) * sizeof(T));
    }
    return 0;
  }

  void bind(const std::vector<Tensor>& tensors, const std::vector<std::byte*>& workspaces) override {
    t_ = tensors;
    ws_ = workspaces;
  }

  void run() override {
    const auto& nodes = g_.nodes();
    if (!profile_) {
      for (size_t i = 0; i < nodes.size(); ++i) run_node(nodes[i], reinterpret_cast<T*>(ws_[i]));
      return;
    }
    for (size_t i = 0; i < nodes.size(); ++i) {
      auto start = std::chrono::steady_clock::now();
      run_node(nodes[i], reinterpret_cast<T*>(ws_[i]));
      op_seconds_[profile_name(nodes[i])] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }

  // LOCDET_PROFILE_OPS=1: seconds per op kind, printed when the executor goes away.
  ~CpuBackend() override {
    for (const auto& [op, seconds] : op_seconds_)
      std::fprintf(stderr, "op %-36s %9.4f s\n", op.c_str(), seconds);
  }

  std::string mode() const override {
    if (!std::is_same_v<T, float>) return "cpu (double)";
    if (conv_engine_ == cpu::CpuConvEngine::kReference) return "cpu (reference convolutions)";
    if (conv_fallbacks_ == 0) return "cpu (oneDNN convolutions)";
    return "cpu (oneDNN convolutions, " + std::to_string(conv_fallbacks_) + " on the reference)";
  }

 private:
  const Shape& shape(int t) const { return g_.tensors()[t].shape; }
  T* f(int t) const { return t_[t].as<T>(); }
  int32_t* i32(int t) const { return t_[t].as<int32_t>(); }
  int64_t numel(int t) const { return t_[t].numel(); }
  static T c(float v) { return static_cast<T>(v); }

  CustomCall call(const Node& n) const {
    CustomCall cc;
    cc.device = Device::kCpu;
    for (int t : n.inputs) cc.inputs.push_back(t_[t]);
    for (int t : n.outputs) cc.outputs.push_back(t_[t]);
    return cc;
  }

  void run_node(const Node& n, T* ws) {
    const auto& in = n.inputs;
    const int out = n.outputs.empty() ? -1 : n.outputs[0];
    const Attrs& a = n.attrs;
    switch (n.op) {
      case Op::kInput:
        if (n.custom) {
          LOCDET_CHECK(n.custom->cpu, "input '", n.name, "': its source '", n.custom->name,
                       "' has no CPU launch");
          n.custom->cpu(call(n));
        }
        return;
      case Op::kParameter:
      case Op::kState:
      case Op::kConstant:
      case Op::kReshape:
        return;
      case Op::kFill:
        return cpu::fill<T>(numel(out), c(a.value), f(out));
      case Op::kCopy:
        if (t_[out].dtype == DType::kI32) return cpu::copy<int32_t>(numel(out), i32(in[0]), i32(out));
        return cpu::copy<T>(numel(out), f(in[0]), f(out));
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul: {
        BinaryKind k = n.op == Op::kAdd   ? BinaryKind::kAdd
                       : n.op == Op::kSub ? BinaryKind::kSub
                                          : BinaryKind::kMul;
        return cpu::binary<T>(k, broadcast_index(shape(out), shape(in[0]), shape(in[1])), f(in[0]), f(in[1]),
                              f(out));
      }
      case Op::kScale:
        return cpu::scale<T>(numel(out), c(a.value), f(in[0]), f(out));
      case Op::kSumTo:
        return cpu::sum_to<T>(broadcast_index(shape(in[0]), shape(out), shape(out)), c(a.value), f(in[0]),
                              f(out), numel(out));
      case Op::kBroadcastTo:
        return cpu::broadcast_to<T>(broadcast_index(shape(out), shape(in[0]), shape(in[0])), c(a.value),
                                    f(in[0]), f(out));
      case Op::kSigmoid:
        return cpu::sigmoid_forward<T>(numel(out), f(in[0]), f(out));
      case Op::kSigmoidBackward:
        return cpu::sigmoid_backward<T>(numel(out), f(in[0]), f(in[1]), f(out));
      case Op::kConcat: {
        int64_t outer, inner, at = 0;
        slab_dims(shape(out), a.axis, &outer, &inner);
        for (int t : in) {
          int64_t len = shape(t)[a.axis];
          slab(t, len, 0, out, shape(out)[a.axis], at, len, outer, inner);
          at += len;
        }
        return;
      }
      case Op::kSlice: {
        int64_t outer, inner;
        slab_dims(shape(in[0]), a.axis, &outer, &inner);
        return slab(in[0], shape(in[0])[a.axis], a.start, out, a.length, 0, a.length, outer, inner);
      }
      case Op::kSliceBackward: {
        int64_t outer, inner;
        slab_dims(shape(out), a.axis, &outer, &inner);
        cpu::fill<T>(numel(out), T(0), f(out));
        return slab(in[0], a.length, 0, out, shape(out)[a.axis], a.start, a.length, outer, inner);
      }
      case Op::kConv2d:
        if (run_onednn_conv(n, ws)) return;
        return cpu::conv2d_forward<T>(conv_dims(shape(in[0]), shape(in[1]), a), f(in[0]), f(in[1]),
                                      in.size() > 2 ? f(in[2]) : nullptr, f(out), ws);
      case Op::kConv2dBackwardData:
        if (run_onednn_conv(n, ws)) return;
        return cpu::conv2d_backward_data<T>(conv_dims(a.shape, shape(in[1]), a), f(in[0]), f(in[1]), f(out),
                                            ws);
      case Op::kConv2dBackwardFilter:
        if (run_onednn_conv(n, ws)) return;
        return cpu::conv2d_backward_filter<T>(conv_dims(a.shape, shape(out), a), f(in[0]), f(in[1]), f(out),
                                              n.outputs.size() > 1 ? f(n.outputs[1]) : nullptr, ws);
      case Op::kBatchNormTrain:
        return cpu::batchnorm_forward_train<T>(bn_dims(shape(in[0])), f(in[0]), f(in[1]), f(in[2]), f(out),
                                               f(n.outputs[1]), f(n.outputs[2]), f(in[3]), f(in[4]),
                                               c(a.momentum), c(a.eps));
      case Op::kBatchNormEval:
        return cpu::batchnorm_forward_eval<T>(bn_dims(shape(in[0])), f(in[0]), f(in[1]), f(in[2]), f(in[3]),
                                              f(in[4]), c(a.eps), f(out));
      case Op::kBatchNormBackward:
        return cpu::batchnorm_backward<T>(bn_dims(shape(in[0])), f(in[0]), f(in[1]), f(in[2]), f(in[3]),
                                          f(in[4]), f(out), f(n.outputs[1]), f(n.outputs[2]));
      case Op::kRelu:
        return cpu::relu_forward<T>(numel(out), f(in[0]), f(out));
      case Op::kReluBackward:
        return cpu::relu_backward<T>(numel(out), f(in[0]), f(in[1]), f(out));
      case Op::kLeakyRelu:
        return cpu::leaky_relu_forward<T>(numel(out), f(in[0]), f(out), c(a.value));
      case Op::kLeakyReluBackward:
        return cpu::leaky_relu_backward<T>(numel(out), f(in[0]), f(in[1]), f(out), c(a.value));
      case Op::kSilu:
        return cpu::silu_forward<T>(numel(out), f(in[0]), f(out));
      case Op::kSiluBackward:
        return cpu::silu_backward<T>(numel(out), f(in[0]), f(in[1]), f(out));
      case Op::kMaxPool2d:
        return cpu::maxpool2d_forward<T>(pool_dims(shape(in[0]), a), f(in[0]), f(out), i32(n.outputs[1]));
      case Op::kMaxPool2dBackward:
        return cpu::maxpool2d_backward<T>(pool_dims(a.shape, a), f(in[0]), i32(in[1]), f(out));
      case Op::kGlobalAvgPool: {
        const Shape& x = shape(in[0]);
        return cpu::global_avgpool_forward<T>(int(x[0]), int(x[1]), int(x[2] * x[3]), f(in[0]), f(out));
      }
      case Op::kGlobalAvgPoolBackward: {
        const Shape& x = shape(out);
        return cpu::global_avgpool_backward<T>(int(x[0]), int(x[1]), int(x[2] * x[3]), f(in[0]), f(out));
      }
      case Op::kLinear: {
        const Shape &x = shape(in[0]), &w = shape(in[1]);
        return cpu::linear_forward<T>(int(x[0]), int(x[1]), int(w[0]), f(in[0]), f(in[1]),
                                      in.size() > 2 ? f(in[2]) : nullptr, f(out));
      }
      case Op::kLinearBackward: {
        const Shape &x = shape(in[0]), &w = shape(in[1]);
        bool has_dx = a.kernel == 1;
        bool has_db = n.outputs.size() - 1 - (has_dx ? 1 : 0) == 1;
        return cpu::linear_backward<T>(int(x[0]), int(x[1]), int(w[0]), f(in[0]), f(in[1]), f(in[2]),
                                       has_dx ? f(n.outputs.back()) : nullptr, f(out),
                                       has_db ? f(n.outputs[1]) : nullptr);
      }
      case Op::kSoftmaxCrossEntropy: {
        const Shape& l = shape(in[0]);
        return cpu::softmax_cross_entropy_forward<T>(int(l[0]), int(l[1]), f(in[0]), i32(in[1]),
                                                     c(a.smoothing), f(out));
      }
      case Op::kSoftmaxCrossEntropyBackward: {
        const Shape& l = shape(in[0]);
        return cpu::softmax_cross_entropy_backward<T>(int(l[0]), int(l[1]), f(in[0]), i32(in[1]),
                                                      c(a.smoothing), f(in[2]), f(out));
      }
      case Op::kBceWithLogits:
        return cpu::bce_with_logits_forward<T>(numel(out), f(in[0]), f(in[1]), f(out));
      case Op::kBceWithLogitsBackward:
        return cpu::bce_with_logits_backward<T>(numel(out), f(in[0]), f(in[1]), f(in[2]), f(out));
      case Op::kSigmoidFocal:
        return cpu::sigmoid_focal_forward<T>(numel(out), f(in[0]), f(in[1]), c(a.alpha), c(a.gamma), f(out));
      case Op::kSigmoidFocalBackward:
        return cpu::sigmoid_focal_backward<T>(numel(out), f(in[0]), f(in[1]), c(a.alpha), c(a.gamma),
                                              f(in[2]), f(out));
      case Op::kMse:
        return cpu::mse_forward<T>(numel(out), f(in[0]), f(in[1]), f(out));
      case Op::kMseBackward:
        return cpu::mse_backward<T>(numel(out), f(in[0]), f(in[1]), f(in[2]), f(out));
      case Op::kL1:
        return cpu::l1_forward<T>(numel(out), f(in[0]), f(in[1]), f(out));
      case Op::kL1Backward:
        return cpu::l1_backward<T>(numel(out), f(in[0]), f(in[1]), f(in[2]), f(out));
      case Op::kSmoothL1:
        return cpu::smooth_l1_forward<T>(numel(out), f(in[0]), f(in[1]), c(a.beta), f(out));
      case Op::kSmoothL1Backward:
        return cpu::smooth_l1_backward<T>(numel(out), f(in[0]), f(in[1]), c(a.beta), f(in[2]), f(out));
      case Op::kLrSchedule:
      case Op::kAdamW:
      case Op::kSgd:
        return run_optimizer(n);
      case Op::kCustom:
        LOCDET_CHECK(n.custom->cpu, "custom op '", n.name, "' has no CPU implementation");
        return n.custom->cpu(call(n));
    }
  }

  void slab(int src, int64_t src_len, int64_t src_start, int dst, int64_t dst_len, int64_t dst_start,
            int64_t len, int64_t outer, int64_t inner) {
    if (t_[src].dtype == DType::kI32)
      return cpu::copy_slab<int32_t>(outer, inner, i32(src), src_len, src_start, i32(dst), dst_len, dst_start,
                                     len);
    cpu::copy_slab<T>(outer, inner, f(src), src_len, src_start, f(dst), dst_len, dst_start, len);
  }

  void run_optimizer(const Node& n) {
    if constexpr (sizeof(T) != sizeof(float)) {
      fail("optimizer op '", n.name,
           "' runs in float only; cpu_double is for gradient checks of graphs without an optimizer");
    } else {
      const auto& in = n.inputs;
      const OptimizerConfig& o = n.attrs.optim;
      if (n.op == Op::kLrSchedule)
        return cpu::lr_schedule_step(o.schedule, t_[in[0]].as<int64_t>(), f(in[1]));
      if (n.op == Op::kAdamW)
        return cpu::adamw_step(numel(in[0]), f(in[0]), f(in[1]), f(in[2]), f(in[3]), f(in[4]), o.adamw,
                               f(in[5]), t_[in[6]].as<int64_t>());
      cpu::sgd_step(numel(in[0]), f(in[0]), f(in[1]), f(in[2]), f(in[3]), o.momentum, o.nesterov,
                    o.sgd_weight_decay, f(in[4]));
    }
  }

  // Float convs run on oneDNN (kernels/cpu/conv_onednn.h) unless LOCDET_CPU_CONV=reference;
  // one that oneDNN cannot run stays on the reference, and a line at plan time says so.
  const cpu::OnednnConv2d* plan_onednn_conv(const Node& n, const Conv2dDims& d) {
    if (!std::is_same_v<T, float> || conv_engine_ != cpu::CpuConvEngine::kOnednn) return nullptr;
    const cpu::ConvPass pass = n.op == Op::kConv2d               ? cpu::ConvPass::kForward
                               : n.op == Op::kConv2dBackwardData ? cpu::ConvPass::kBackwardData
                                                                 : cpu::ConvPass::kBackwardFilter;
    const bool bias = n.op == Op::kConv2d ? n.inputs.size() > 2 : n.outputs.size() > 1;
    try {
      return &onednn_convs_.emplace(node_index(n), cpu::OnednnConv2d(d, pass, bias)).first->second;
    } catch (const Error& e) {
      std::fprintf(stderr, "locdet: node '%s' runs on the reference convolution (im2col + OpenBLAS): %s\n",
                   n.name.c_str(), e.what());
      ++conv_fallbacks_;
      return nullptr;
    }
  }

  bool run_onednn_conv(const Node& n, T* ws) {
    if constexpr (std::is_same_v<T, float>) {
      auto it = onednn_convs_.find(node_index(n));
      if (it == onednn_convs_.end()) return false;
      const auto& in = n.inputs;
      if (n.op == Op::kConv2d)
        it->second.forward(f(in[0]), f(in[1]), in.size() > 2 ? f(in[2]) : nullptr, f(n.outputs[0]), ws);
      else if (n.op == Op::kConv2dBackwardData)
        it->second.backward_data(f(in[0]), f(in[1]), f(n.outputs[0]), ws);
      else
        it->second.backward_filter(f(in[0]), f(in[1]), f(n.outputs[0]),
                                   n.outputs.size() > 1 ? f(n.outputs[1]) : nullptr, ws);
      return true;
    }
    return false;
  }

  int node_index(const Node& n) const { return static_cast<int>(&n - g_.nodes().data()); }

  // Op kind, and for convolutions which engine ran them.
  std::string profile_name(const Node& n) const {
    if (n.op != Op::kConv2d && n.op != Op::kConv2dBackwardData && n.op != Op::kConv2dBackwardFilter)
      return op_name(n.op);
    return std::string(op_name(n.op)) + (onednn_convs_.count(node_index(n)) ? " [onednn]" : " [reference]");
  }

  const Graph& g_;
  std::vector<Tensor> t_;
  std::vector<std::byte*> ws_;
  const bool profile_ = std::getenv("LOCDET_PROFILE_OPS") != nullptr;
  const cpu::CpuConvEngine conv_engine_ =
      std::is_same_v<T, float> ? cpu::cpu_conv_engine() : cpu::CpuConvEngine::kReference;
  std::map<int, cpu::OnednnConv2d> onednn_convs_;  // per conv node, built at plan time
  int conv_fallbacks_ = 0;
  std::map<std::string, double> op_seconds_;
};

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (char ch : s) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
  return h;
}

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const Graph& g, bool use_double) {
  if (use_double) return std::make_unique<CpuBackend<double>>(g);
  return std::make_unique<CpuBackend<float>>(g);
}

bool backend_supports(Op op, Device device) {
  if (device == Device::kCpu) return true;
#ifdef LOCDET_WITH_CUDA
  (void)op;
  return true;
#else
  (void)op;
  return false;
#endif
}

Executor::Executor(Graph graph, ExecutorOptions options) : graph_(std::move(graph)), options_(options) {
  const Device dev = options_.device;
  for (const Node& n : graph_.nodes())
    LOCDET_CHECK(backend_supports(n.op, dev), "the ", device_name(dev), " backend does not support op ",
                 op_name(n.op), " (node '", n.name, "')",
                 dev == Device::kCuda ? "; this build has no CUDA backend, use --device cpu" : "");
  if (dev == Device::kCpu) {
    backend_ = make_cpu_backend(graph_, options_.cpu_double);
  } else {
    LOCDET_CHECK(!options_.cpu_double, "cpu_double is a CPU option");
#ifdef LOCDET_WITH_CUDA
    LOCDET_CHECK(cuda_available(), "--device cuda, but no GPU is usable: ", cuda_device_summary());
    backend_ = make_cuda_backend(graph_, options_.cuda_graph);
#endif
  }
  const size_t float_bytes = options_.cpu_double ? 8 : 4;
  plan_ = plan_memory(graph_, float_bytes, [&](const Node& n) { return backend_->workspace_bytes(n); });
  if (dev == Device::kCuda) check_device_memory();
  arena_ = std::make_unique<Buffer>(dev, static_cast<size_t>(plan_.arena_bytes));

  const auto& infos = graph_.tensors();
  tensors_.resize(infos.size());
  for (size_t t = 0; t < infos.size(); ++t) {
    Tensor& x = tensors_[t];
    x.device = dev;
    x.dtype = infos[t].dtype == DType::kF32 && options_.cpu_double ? DType::kF64 : infos[t].dtype;
    x.shape = infos[t].shape;
    x.data = arena_->data() + plan_.offset[t];
  }
  std::vector<std::byte*> workspaces(graph_.nodes().size(), nullptr);
  for (size_t i = 0; i < workspaces.size(); ++i)
    if (plan_.workspace_offset[i] >= 0) workspaces[i] = arena_->data() + plan_.workspace_offset[i];
  backend_->bind(tensors_, workspaces);

  init_parameters(options_.seed);
  for (size_t t = 0; t < infos.size(); ++t)
    if (infos[t].role == Role::kConstant) from_host_f32(infos[t].constant, tensors_[t]);
}

Executor::~Executor() = default;

namespace {
std::string mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}
}  // namespace

int64_t largest_batch_that_fits(int64_t needed_bytes, int64_t free_bytes, int64_t fixed_bytes,
                                int64_t batch) {
  if (batch < 1 || free_bytes <= fixed_bytes) return 0;
  const double per_sample = static_cast<double>(std::max<int64_t>(needed_bytes - fixed_bytes, 1)) / batch;
  return std::max<int64_t>(0, static_cast<int64_t>((free_bytes - fixed_bytes) / per_sample));
}

std::string device_memory_shortfall(int64_t needed_bytes, int64_t free_bytes, int64_t fixed_bytes,
                                    int64_t batch) {
  if (needed_bytes <= free_bytes) return "";
  std::string msg = "out of GPU memory at plan time: the step needs " + mib(needed_bytes) + " but only " +
                    mib(free_bytes) + " are free (after " + mib(kDeviceMemoryHeadroom) +
                    " kept for the CUDA context and libraries); " + mib(fixed_bytes) +
                    " of it (parameters and optimizer state) does not depend on the batch. ";
  const int64_t fits =
      std::min(largest_batch_that_fits(needed_bytes, free_bytes, fixed_bytes, batch), batch - 1);
  if (fits >= 1) {
    msg += "Estimated largest batch that fits: " + std::to_string(fits) + " (batch now " +
           std::to_string(batch) +
           "; assumes activation memory grows linearly with the batch): use --batch " + std::to_string(fits) +
           " or smaller, or free GPU memory";
  } else {
    msg += "Not even batch 1 fits (batch now " + std::to_string(batch) +
           "): use a smaller model (--width), free GPU memory, or train with --device cpu";
  }
  return msg;
}

void Executor::check_device_memory() {
#ifdef LOCDET_WITH_CUDA
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
    cudaGetLastError();
    return;  // cudaMalloc below reports the real error
  }
  int64_t fixed = 0, batch = 0;
  for (const TensorInfo& t : graph_.tensors()) {
    if (t.view_of >= 0) continue;  // its base is counted
    if (t.role == Role::kParameter || t.role == Role::kState || t.role == Role::kOptimizerState ||
        (t.flat && t.role == Role::kGradient))
      fixed += t.numel() * static_cast<int64_t>(planned_elem_bytes(t.dtype, 4));
    if (batch == 0 && t.role == Role::kInput && t.shape.rank >= 2) batch = t.shape[0];
  }
  const int64_t usable = static_cast<int64_t>(free_bytes) - kDeviceMemoryHeadroom;
  const std::string shortfall =
      device_memory_shortfall(plan_.arena_bytes, std::max<int64_t>(usable, 0),
                              std::min(fixed, plan_.arena_bytes), std::max<int64_t>(batch, 1));
  if (!shortfall.empty()) fail(shortfall, " (GPU total ", mib(static_cast<int64_t>(total_bytes)), ")");
#endif
}

void Executor::init_parameters(uint64_t seed) {
  for (size_t t = 0; t < graph_.tensors().size(); ++t) {
    const TensorInfo& info = graph_.tensors()[t];
    bool source = info.producer >= 0 && (graph_.nodes()[info.producer].op == Op::kParameter ||
                                         graph_.nodes()[info.producer].op == Op::kState);
    if (!source || info.flat || info.dtype != DType::kF32 || info.role == Role::kOptimizerState) continue;
    const Shape& s = info.shape;
    std::vector<float> v(info.numel(), info.init == Init::kOnes ? 1.0f : 0.0f);
    if (info.init == Init::kKaimingUniform || info.init == Init::kXavierUniform) {
      int64_t fan_in = s.numel() / s[0], fan_out = s[0] * (s.rank > 2 ? s.numel() / (s[0] * s[1]) : 1);
      // Kaiming uniform with gain sqrt(2) (ReLU): bound sqrt(6 / fan_in); Xavier: sqrt(6 / (in + out)).
      double bound =
          info.init == Init::kKaimingUniform ? std::sqrt(6.0 / fan_in) : std::sqrt(6.0 / (fan_in + fan_out));
      std::mt19937_64 rng(seed ^ fnv1a(info.name));  // per-name: adding a layer never reshuffles the others
      for (float& x : v) x = static_cast<float>(bound * (2.0 * ((rng() >> 11) * 0x1.0p-53) - 1.0));
    }
    from_host_f32(v, tensors_[t]);
  }
}

void Executor::step() {
  NvtxRange range("train_step");
  backend_->run();
}

Tensor Executor::tensor(Value v) const {
  graph_.info(v);
  return tensors_[v.id];
}

std::vector<float> Executor::read(Value v) const {
  backend_->synchronize();
  return to_host_f32(tensor(v));
}
std::vector<int32_t> Executor::read_i32(Value v) const {
  backend_->synchronize();
  return to_host_i32(tensor(v));
}
void Executor::write(Value v, const std::vector<float>& values) {
  backend_->synchronize();
  from_host_f32(values, tensor(v));
}
void Executor::write_i32(Value v, const std::vector<int32_t>& values) {
  backend_->synchronize();
  from_host_i32(values, tensor(v));
}
std::vector<std::byte> Executor::read_bytes(Value v) const {
  backend_->synchronize();
  Tensor t = tensor(v);
  std::vector<std::byte> out(t.bytes());
  copy_from_tensor(t, out.data(), out.size());
  return out;
}
void Executor::write_bytes(Value v, const std::vector<std::byte>& bytes) {
  backend_->synchronize();
  copy_to_tensor(bytes.data(), bytes.size(), tensor(v));
}
void Executor::copy_persistent_state_from(const Executor& from) {
  for (Value v : graph_.persistent_state())
    write_bytes(v, from.read_bytes(from.graph().find(graph_.info(v).name)));
}

}  // namespace locdet
