// The CPU backend: a loop over the nodes calling kernels/cpu, which are the reference that
// defines every op (OpenMP inside the kernels). CpuBackend<double> holds every F32 tensor in
// double, for gradient checks by finite differences.
//
// LOCDET_PROFILE_OPS=1 prints the seconds spent per op kind when the executor goes away.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "engine/backends/backend.h"
#include "engine/backends/node_args.h"
#include "kernels/base/error.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/loss.h"
#include "kernels/cpu/optim.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/tensor_ops.h"

namespace locdet {
namespace {

template <class T>
class CpuBackend : public Backend {
 public:
  explicit CpuBackend(const Graph& g) : g_(g) {}

  int64_t workspace_bytes(const Node& n) override {
    if (n.op == Op::kConv2d || n.op == Op::kConv2dBackwardData || n.op == Op::kConv2dBackwardFilter)
      return static_cast<int64_t>(cpu::conv2d_workspace_elems(conv_dims(g_, n)) * sizeof(T));
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
      op_seconds_[op_name(nodes[i].op)] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }

  ~CpuBackend() override {
    for (const auto& [op, seconds] : op_seconds_)
      std::fprintf(stderr, "op %-32s %9.4f s\n", op.c_str(), seconds);
  }

  std::string mode() const override { return sizeof(T) == 8 ? "cpu (double)" : "cpu"; }

 private:
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

  void slab(const SlabCopy& s) {
    if (t_[s.src].dtype == DType::kI32)
      return cpu::copy_slab<int32_t>(s.outer, s.inner, i32(s.src), s.src_len, s.src_start, i32(s.dst),
                                     s.dst_len, s.dst_start, s.len);
    cpu::copy_slab<T>(s.outer, s.inner, f(s.src), s.src_len, s.src_start, f(s.dst), s.dst_len, s.dst_start,
                      s.len);
  }

  void run_node(const Node& n, T* ws) {
    const auto& in = n.inputs;
    const int out = n.outputs.empty() ? -1 : n.outputs[0];
    const Attrs& a = n.attrs;
    switch (n.op) {
      case Op::kInput:
        if (n.custom) custom_launch(n, Device::kCpu)(call(n));
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
      case Op::kMul:
        return cpu::binary<T>(binary_kind(n.op), binary_index(g_, n), f(in[0]), f(in[1]), f(out));
      case Op::kScale:
        return cpu::scale<T>(numel(out), c(a.value), f(in[0]), f(out));
      case Op::kSumTo:
        return cpu::sum_to<T>(sum_to_index(g_, n), c(a.value), f(in[0]), f(out), numel(out));
      case Op::kBroadcastTo:
        return cpu::broadcast_to<T>(broadcast_to_index(g_, n), c(a.value), f(in[0]), f(out));
      case Op::kSigmoid:
        return cpu::sigmoid_forward<T>(numel(out), f(in[0]), f(out));
      case Op::kSigmoidBackward:
        return cpu::sigmoid_backward<T>(numel(out), f(in[0]), f(in[1]), f(out));
      case Op::kSliceBackward:
        cpu::fill<T>(numel(out), T(0), f(out));
        [[fallthrough]];
      case Op::kConcat:
      case Op::kSlice:
        return for_each_slab(g_, n, [&](const SlabCopy& s) { slab(s); });
      case Op::kConv2d:
        return cpu::conv2d_forward<T>(conv_dims(g_, n), f(in[0]), f(in[1]),
                                      in.size() > 2 ? f(in[2]) : nullptr, f(out), ws);
      case Op::kConv2dBackwardData:
        return cpu::conv2d_backward_data<T>(conv_dims(g_, n), f(in[0]), f(in[1]), f(out), ws);
      case Op::kConv2dBackwardFilter:
        return cpu::conv2d_backward_filter<T>(conv_dims(g_, n), f(in[0]), f(in[1]), f(out),
                                              n.outputs.size() > 1 ? f(n.outputs[1]) : nullptr, ws);
      case Op::kBatchNormTrain:
        return cpu::batchnorm_forward_train<T>(batchnorm_dims(g_, n), f(in[0]), f(in[1]), f(in[2]), f(out),
                                               f(n.outputs[1]), f(n.outputs[2]), f(in[3]), f(in[4]),
                                               c(a.momentum), c(a.eps));
      case Op::kBatchNormEval:
        return cpu::batchnorm_forward_eval<T>(batchnorm_dims(g_, n), f(in[0]), f(in[1]), f(in[2]), f(in[3]),
                                              f(in[4]), c(a.eps), f(out));
      case Op::kBatchNormBackward:
        return cpu::batchnorm_backward<T>(batchnorm_dims(g_, n), f(in[0]), f(in[1]), f(in[2]), f(in[3]),
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
        return cpu::maxpool2d_forward<T>(pool_dims(g_, n), f(in[0]), f(out), i32(n.outputs[1]));
      case Op::kMaxPool2dBackward:
        return cpu::maxpool2d_backward<T>(pool_dims(g_, n), f(in[0]), i32(in[1]), f(out));
      case Op::kGlobalAvgPool: {
        const BatchNormDims d = global_pool_dims(g_, n);
        return cpu::global_avgpool_forward<T>(d.n, d.c, d.hw, f(in[0]), f(out));
      }
      case Op::kGlobalAvgPoolBackward: {
        const BatchNormDims d = global_pool_dims(g_, n);
        return cpu::global_avgpool_backward<T>(d.n, d.c, d.hw, f(in[0]), f(out));
      }
      case Op::kLinear: {
        const LinearDims d = linear_dims(g_, n);
        return cpu::linear_forward<T>(d.m, d.k, d.n, f(in[0]), f(in[1]), in.size() > 2 ? f(in[2]) : nullptr,
                                      f(out));
      }
      case Op::kLinearBackward: {
        const LinearDims d = linear_dims(g_, n);
        return cpu::linear_backward<T>(d.m, d.k, d.n, f(in[0]), f(in[1]), f(in[2]),
                                       d.dx_output >= 0 ? f(n.outputs[d.dx_output]) : nullptr, f(out),
                                       d.db_output >= 0 ? f(n.outputs[d.db_output]) : nullptr);
      }
      case Op::kSoftmaxCrossEntropy: {
        const RowsDims d = softmax_dims(g_, n);
        return cpu::softmax_cross_entropy_forward<T>(d.rows, d.cols, f(in[0]), i32(in[1]), c(a.smoothing),
                                                     f(out));
      }
      case Op::kSoftmaxCrossEntropyBackward: {
        const RowsDims d = softmax_dims(g_, n);
        return cpu::softmax_cross_entropy_backward<T>(d.rows, d.cols, f(in[0]), i32(in[1]), c(a.smoothing),
                                                      f(in[2]), f(out));
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
        return custom_launch(n, Device::kCpu)(call(n));
    }
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

  const Graph& g_;
  std::vector<Tensor> t_;
  std::vector<std::byte*> ws_;
  const bool profile_ = std::getenv("LOCDET_PROFILE_OPS") != nullptr;
  std::map<std::string, double> op_seconds_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const Graph& g, bool use_double) {
  if (use_double) return std::make_unique<CpuBackend<double>>(g);
  return std::make_unique<CpuBackend<float>>(g);
}

}  // namespace locdet
