// Layers, NCHW: conv2d (cuDNN / im2col + OpenBLAS), batch norm, ReLU / leaky ReLU / SiLU, max
// pooling, global average pooling, linear (cuBLAS / OpenBLAS), and their backward ops.
#include <cstdio>

#include "engine/ops/kernel_call.h"
#include "engine/ops/node_args.h"
#include "engine/ops/ops.h"
#include "kernels/base/error.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/conv_onednn.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/pool.h"
#ifdef LOCDET_WITH_CUDA
#include "kernels/cuda/activation.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/conv.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/pool.h"
#endif

namespace locdet::ops {
namespace {

// ---- shape rules ---------------------------------------------------------------------------

std::vector<TensorSpec> conv2d_shape(const ShapeCall& c) {
  const Shape &xs = c.shape(0), &ws = c.shape(1);
  LOCDET_CHECK(xs.rank == 4 && ws.rank == 4, c.node, ": expected x [N,C,H,W] and w [K,C,R,S], got ", xs.str(),
               " ('", c.name(0), "') and ", ws.str(), " ('", c.name(1), "')");
  LOCDET_CHECK(xs[1] == ws[1], c.node, ": x has ", xs[1], " channels ", xs.str(), " but weight '", c.name(1),
               "' expects ", ws[1], " ", ws.str());
  const int stride = c.attrs.stride, pad = c.attrs.pad;
  LOCDET_CHECK(stride >= 1 && pad >= 0, c.node, ": stride must be >= 1 and pad >= 0");
  const int64_t oh = (xs[2] + 2 * pad - ws[2]) / stride + 1, ow = (xs[3] + 2 * pad - ws[3]) / stride + 1;
  LOCDET_CHECK(oh > 0 && ow > 0, c.node, ": kernel ", ws.str(), " larger than padded input ", xs.str());
  if (c.count() > 2)
    LOCDET_CHECK(c.shape(2) == Shape({ws[0]}), c.node, ": bias '", c.name(2), "' has shape ",
                 c.shape(2).str(), ", expected [", ws[0], "]");
  return {{{xs[0], ws[0], oh, ow}, DType::kF32}};
}

// Backward ops whose outputs the backward rule states (they cannot be told from the inputs:
// which optional gradients exist, the filter's size).
std::vector<TensorSpec> declared_outputs(const ShapeCall& c) {
  return std::any_cast<const std::vector<TensorSpec>&>(c.attrs.params);
}

std::vector<TensorSpec> restored_input(const ShapeCall& c) {
  return {{c.attrs.shape, DType::kF32}};
}

std::vector<TensorSpec> batchnorm_train_shape(const ShapeCall& c) {
  const Shape& xs = c.shape(0);
  LOCDET_CHECK(xs.rank == 4 || xs.rank == 2, c.node, ": expected [N,C,H,W] or [N,C], got ", xs.str());
  const Shape ch{xs[1]};
  for (size_t k = 1; k < 5; ++k)
    LOCDET_CHECK(c.shape(k) == ch, c.node, ": '", c.name(k), "' has shape ", c.shape(k).str(), ", expected ",
                 ch.str());
  return {{xs, DType::kF32}, {ch, DType::kF32}, {ch, DType::kF32}};
}

std::vector<TensorSpec> batchnorm_eval_shape(const ShapeCall& c) {
  return {batchnorm_train_shape(c)[0]};
}

std::vector<TensorSpec> batchnorm_backward_shape(const ShapeCall& c) {  // x, dy, gamma, mean, invstd
  LOCDET_CHECK(c.shape(0) == c.shape(1), c.node, ": x ", c.shape(0).str(), " and dy ", c.shape(1).str(),
               " differ");
  return {{c.shape(0), DType::kF32}, {c.shape(2), DType::kF32}, {c.shape(2), DType::kF32}};
}

std::vector<TensorSpec> elementwise_shape(const ShapeCall& c) {
  for (size_t k = 1; k < c.count(); ++k)
    LOCDET_CHECK(c.shape(k) == c.shape(0), c.node, ": '", c.name(k), "' ", c.shape(k).str(), " and '",
                 c.name(0), "' ", c.shape(0).str(), " differ");
  return {{c.shape(0), DType::kF32}};
}

std::vector<TensorSpec> maxpool2d_shape(const ShapeCall& c) {
  const Shape& xs = c.shape(0);
  LOCDET_CHECK(xs.rank == 4, c.node, ": expected [N,C,H,W], got ", xs.str());
  const int kernel = c.attrs.kernel, stride = c.attrs.stride;
  const int64_t oh = (xs[2] - kernel) / stride + 1, ow = (xs[3] - kernel) / stride + 1;
  LOCDET_CHECK(kernel >= 1 && stride >= 1 && oh > 0 && ow > 0, c.node, ": kernel ", kernel, " stride ",
               stride, " does not fit ", xs.str());
  const Shape ys{xs[0], xs[1], oh, ow};
  return {{ys, DType::kF32}, {ys, DType::kI32}};
}

std::vector<TensorSpec> global_avgpool_shape(const ShapeCall& c) {
  const Shape& xs = c.shape(0);
  LOCDET_CHECK(xs.rank == 4, c.node, ": expected [N,C,H,W], got ", xs.str(), " ('", c.name(0), "')");
  return {{{xs[0], xs[1]}, DType::kF32}};
}

std::vector<TensorSpec> linear_shape(const ShapeCall& c) {
  const Shape &xs = c.shape(0), &ws = c.shape(1);
  LOCDET_CHECK(xs.rank == 2, c.node, ": input '", c.name(0), "' must be [M,K], got ", xs.str());
  LOCDET_CHECK(ws.rank == 2, c.node, ": weight '", c.name(1), "' must be [N,K], got ", ws.str());
  LOCDET_CHECK(xs[1] == ws[1], c.node, ": input ", xs.str(), " has ", xs[1], " features per row but weight '",
               c.name(1), "' ", ws.str(), " expects ", ws[1]);
  if (c.count() > 2)
    LOCDET_CHECK(c.shape(2) == Shape({ws[0]}), c.node, ": bias '", c.name(2), "' has shape ",
                 c.shape(2).str(), ", expected [", ws[0], "]");
  return {{{xs[0], ws[0]}, DType::kF32}};
}

// ---- backward rules ------------------------------------------------------------------------

std::vector<Value> conv2d_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                               const std::vector<bool>& need) {
  std::vector<Value> gin(n.inputs.size());
  Attrs a = n.attrs;
  a.shape = g.shape(n.in(0));
  const std::string name = n.name + ".grad";
  if (need[0]) gin[0] = g.apply1(conv2d_backward_data, {gy[0], n.in(1)}, a, name + ".x");
  std::vector<TensorSpec> outs{{g.shape(n.in(1))}};
  const bool bias = n.inputs.size() == 3;
  if (bias) outs.push_back({g.shape(n.in(2))});
  a.params = outs;
  const auto gw = g.apply(conv2d_backward_filter, {n.in(0), gy[0]}, a, name + ".w");
  gin[1] = gw[0];
  if (bias) gin[2] = gw[1];
  return gin;
}

std::vector<Value> batchnorm_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                                  const std::vector<bool>&) {
  auto outs =
      g.apply(batchnorm_backward, {n.in(0), gy[0], n.in(1), n.out(1), n.out(2)}, n.attrs, n.name + ".grad");
  return {outs[0], outs[1], outs[2], Value{}, Value{}};
}

std::vector<Value> batchnorm_eval_grad(Graph&, const Node& n, const std::vector<Value>&,
                                       const std::vector<bool>&) {
  fail("batchnorm '", n.name, "' is in eval mode and has no backward; build the graph with training=true");
}

template <const OpDef& kBackward>
std::vector<Value> activation_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                                   const std::vector<bool>&) {
  return {g.apply1(kBackward, {n.in(0), gy[0]}, n.attrs, n.name + ".grad")};
}

std::vector<Value> maxpool2d_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                                  const std::vector<bool>&) {
  Attrs a = n.attrs;
  a.shape = g.shape(n.in(0));
  return {g.apply1(maxpool2d_backward, {gy[0], n.out(1)}, a, n.name + ".grad")};
}

std::vector<Value> global_avgpool_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                                       const std::vector<bool>&) {
  Attrs a;
  a.shape = g.shape(n.in(0));
  return {g.apply1(global_avgpool_backward, {gy[0]}, a, n.name + ".grad")};
}

std::vector<Value> linear_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                               const std::vector<bool>& need) {
  // Outputs: dw, [db], [dx]; linear_dims() tells which exist from the declared outputs.
  const bool bias = n.inputs.size() == 3;
  std::vector<TensorSpec> outs{{g.shape(n.in(1))}};
  if (bias) outs.push_back({g.shape(n.in(2))});
  if (need[0]) outs.push_back({g.shape(n.in(0))});
  Attrs a;
  a.kernel = need[0] ? 1 : 0;  // has dx
  a.params = outs;
  const auto r = g.apply(linear_backward, {n.in(0), n.in(1), gy[0]}, a, n.name + ".grad");
  std::vector<Value> gin(n.inputs.size());
  gin[1] = r[0];
  if (bias) gin[2] = r[1];
  if (need[0]) gin[0] = r.back();
  return gin;
}

// ---- CPU kernels ---------------------------------------------------------------------------

// Float convolutions run on oneDNN (kernels/cpu/conv_onednn.h), one primitive per node made
// here, unless LOCDET_CPU_CONV=reference; one that oneDNN cannot run stays on the reference
// and says so once. Double (gradient checks) always runs the reference.
PlannedNode conv2d_plan_cpu(const PlanCall& p) {
  const Conv2dDims d = conv_dims(p.graph, p.node);
  const auto reference_bytes =
      static_cast<int64_t>(cpu::conv2d_workspace_elems(d) * (p.f64 ? sizeof(double) : sizeof(float)));
  if (p.f64) return {reference_bytes, nullptr, ""};
  if (cpu::cpu_conv_engine() == cpu::CpuConvEngine::kReference)
    return {reference_bytes, nullptr, "reference conv"};
  const OpDef* op = p.node.op;
  const cpu::ConvPass pass = op == &conv2d                 ? cpu::ConvPass::kForward
                             : op == &conv2d_backward_data ? cpu::ConvPass::kBackwardData
                                                           : cpu::ConvPass::kBackwardFilter;
  const bool bias = op == &conv2d ? p.node.inputs.size() > 2 : p.node.outputs.size() > 1;
  try {
    auto conv = std::make_shared<cpu::OnednnConv2d>(d, pass, bias);
    const auto bytes = static_cast<int64_t>(conv->workspace_bytes());
    return {bytes, std::move(conv), "oneDNN conv"};
  } catch (const Error& e) {
    std::fprintf(stderr, "locdet: node '%s' runs on the reference convolution (im2col + OpenBLAS): %s\n",
                 p.node.name.c_str(), e.what());
    return {reference_bytes, nullptr, "reference conv"};
  }
}

cpu::OnednnConv2d* onednn_of(const KernelCall& c) {
  return static_cast<cpu::OnednnConv2d*>(c.state);
}

template <class T>
T* opt_in(const KernelCall& c, size_t k) {
  return k < c.in.size() ? c.i<T>(k) : nullptr;
}
template <class T>
T* opt_out(const KernelCall& c, int k) {
  return k >= 0 && k < static_cast<int>(c.out.size()) ? c.o<T>(k) : nullptr;
}

void conv2d_cpu(const KernelCall& c) {
  if (auto* conv = onednn_of(c))
    return conv->forward(c.i<float>(0), c.i<float>(1), opt_in<float>(c, 2), c.o<float>(0), c.workspace);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::conv2d_forward<T>(conv_dims(*c.graph, *c.node), c.i<T>(0), c.i<T>(1), opt_in<T>(c, 2), c.o<T>(0),
                           reinterpret_cast<T*>(c.workspace));
  });
}

void conv2d_backward_data_cpu(const KernelCall& c) {
  if (auto* conv = onednn_of(c))
    return conv->backward_data(c.i<float>(0), c.i<float>(1), c.o<float>(0), c.workspace);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::conv2d_backward_data<T>(conv_dims(*c.graph, *c.node), c.i<T>(0), c.i<T>(1), c.o<T>(0),
                                 reinterpret_cast<T*>(c.workspace));
  });
}

void conv2d_backward_filter_cpu(const KernelCall& c) {
  if (auto* conv = onednn_of(c))
    return conv->backward_filter(c.i<float>(0), c.i<float>(1), c.o<float>(0), opt_out<float>(c, 1),
                                 c.workspace);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::conv2d_backward_filter<T>(conv_dims(*c.graph, *c.node), c.i<T>(0), c.i<T>(1), c.o<T>(0),
                                   opt_out<T>(c, 1), reinterpret_cast<T*>(c.workspace));
  });
}

void batchnorm_train_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    const Attrs& a = c.attrs();
    cpu::batchnorm_forward_train<T>(batchnorm_dims(*c.graph, *c.node), c.i<T>(0), c.i<T>(1), c.i<T>(2),
                                    c.o<T>(0), c.o<T>(1), c.o<T>(2), c.i<T>(3), c.i<T>(4),
                                    static_cast<T>(a.momentum), static_cast<T>(a.eps));
  });
}

void batchnorm_eval_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::batchnorm_forward_eval<T>(batchnorm_dims(*c.graph, *c.node), c.i<T>(0), c.i<T>(1), c.i<T>(2),
                                   c.i<T>(3), c.i<T>(4), static_cast<T>(c.attrs().eps), c.o<T>(0));
  });
}

void batchnorm_backward_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::batchnorm_backward<T>(batchnorm_dims(*c.graph, *c.node), c.i<T>(0), c.i<T>(1), c.i<T>(2), c.i<T>(3),
                               c.i<T>(4), c.o<T>(0), c.o<T>(1), c.o<T>(2));
  });
}

void relu_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::relu_forward<T>(c.numel_out(0), c.i<T>(0), c.o<T>(0));
  });
}
void relu_backward_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::relu_backward<T>(c.numel_out(0), c.i<T>(0), c.i<T>(1), c.o<T>(0));
  });
}
void leaky_relu_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::leaky_relu_forward<T>(c.numel_out(0), c.i<T>(0), c.o<T>(0), static_cast<T>(c.attrs().value));
  });
}
void leaky_relu_backward_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::leaky_relu_backward<T>(c.numel_out(0), c.i<T>(0), c.i<T>(1), c.o<T>(0),
                                static_cast<T>(c.attrs().value));
  });
}
void silu_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::silu_forward<T>(c.numel_out(0), c.i<T>(0), c.o<T>(0));
  });
}
void silu_backward_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::silu_backward<T>(c.numel_out(0), c.i<T>(0), c.i<T>(1), c.o<T>(0));
  });
}

void maxpool2d_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::maxpool2d_forward<T>(pool_dims(*c.graph, *c.node), c.i<T>(0), c.o<T>(0), c.o<int32_t>(1));
  });
}
void maxpool2d_backward_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::maxpool2d_backward<T>(pool_dims(*c.graph, *c.node), c.i<T>(0), c.i<int32_t>(1), c.o<T>(0));
  });
}
void global_avgpool_cpu(const KernelCall& c) {
  const BatchNormDims d = global_pool_dims(*c.graph, *c.node);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::global_avgpool_forward<T>(d.n, d.c, d.hw, c.i<T>(0), c.o<T>(0));
  });
}
void global_avgpool_backward_cpu(const KernelCall& c) {
  const BatchNormDims d = global_pool_dims(*c.graph, *c.node);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::global_avgpool_backward<T>(d.n, d.c, d.hw, c.i<T>(0), c.o<T>(0));
  });
}

void linear_cpu(const KernelCall& c) {
  const LinearDims d = linear_dims(*c.graph, *c.node);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::linear_forward<T>(d.m, d.k, d.n, c.i<T>(0), c.i<T>(1), opt_in<T>(c, 2), c.o<T>(0));
  });
}
void linear_backward_cpu(const KernelCall& c) {
  const LinearDims d = linear_dims(*c.graph, *c.node);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::linear_backward<T>(d.m, d.k, d.n, c.i<T>(0), c.i<T>(1), c.i<T>(2), opt_out<T>(c, d.dx_output),
                            c.o<T>(0), opt_out<T>(c, d.db_output));
  });
}

// ---- CUDA kernels --------------------------------------------------------------------------

#ifdef LOCDET_WITH_CUDA
// cuDNN chooses the algorithms here, once, at plan time; the node keeps the descriptors.
PlannedNode conv2d_plan_cuda(const PlanCall& p) {
  const auto& ctx = *static_cast<const cuda::CudaContext*>(p.cuda_context);
  auto conv = std::make_shared<cuda::CudnnConv2d>(conv_dims(p.graph, p.node), ctx);
  const auto bytes = static_cast<int64_t>(conv->workspace_bytes());
  return {bytes, std::move(conv), ""};
}
const cuda::CudnnConv2d& cudnn_of(const KernelCall& c) {
  return *static_cast<const cuda::CudnnConv2d*>(c.state);
}
void conv2d_cuda(const KernelCall& c) {
  cudnn_of(c).forward(context_of(c), c.i<float>(0), c.i<float>(1), opt_in<float>(c, 2), c.o<float>(0),
                      c.workspace);
}
void conv2d_backward_data_cuda(const KernelCall& c) {
  cudnn_of(c).backward_data(context_of(c), c.i<float>(0), c.i<float>(1), c.o<float>(0), c.workspace);
}
void conv2d_backward_filter_cuda(const KernelCall& c) {
  cudnn_of(c).backward_filter(context_of(c), c.i<float>(0), c.i<float>(1), c.o<float>(0),
                              opt_out<float>(c, 1), c.workspace);
}

void batchnorm_train_cuda(const KernelCall& c) {
  const Attrs& a = c.attrs();
  cuda::batchnorm_forward_train(batchnorm_dims(*c.graph, *c.node), c.i<float>(0), c.i<float>(1),
                                c.i<float>(2), c.o<float>(0), c.o<float>(1), c.o<float>(2), c.i<float>(3),
                                c.i<float>(4), a.momentum, a.eps, stream_of(c));
}
void batchnorm_eval_cuda(const KernelCall& c) {
  cuda::batchnorm_forward_eval(batchnorm_dims(*c.graph, *c.node), c.i<float>(0), c.i<float>(1), c.i<float>(2),
                               c.i<float>(3), c.i<float>(4), c.attrs().eps, c.o<float>(0), stream_of(c));
}
void batchnorm_backward_cuda(const KernelCall& c) {
  cuda::batchnorm_backward(batchnorm_dims(*c.graph, *c.node), c.i<float>(0), c.i<float>(1), c.i<float>(2),
                           c.i<float>(3), c.i<float>(4), c.o<float>(0), c.o<float>(1), c.o<float>(2),
                           stream_of(c));
}

void relu_cuda(const KernelCall& c) {
  cuda::relu_forward(c.numel_out(0), c.i<float>(0), c.o<float>(0), stream_of(c));
}
void relu_backward_cuda(const KernelCall& c) {
  cuda::relu_backward(c.numel_out(0), c.i<float>(0), c.i<float>(1), c.o<float>(0), stream_of(c));
}
void leaky_relu_cuda(const KernelCall& c) {
  cuda::leaky_relu_forward(c.numel_out(0), c.i<float>(0), c.o<float>(0), c.attrs().value, stream_of(c));
}
void leaky_relu_backward_cuda(const KernelCall& c) {
  cuda::leaky_relu_backward(c.numel_out(0), c.i<float>(0), c.i<float>(1), c.o<float>(0), c.attrs().value,
                            stream_of(c));
}
void silu_cuda(const KernelCall& c) {
  cuda::silu_forward(c.numel_out(0), c.i<float>(0), c.o<float>(0), stream_of(c));
}
void silu_backward_cuda(const KernelCall& c) {
  cuda::silu_backward(c.numel_out(0), c.i<float>(0), c.i<float>(1), c.o<float>(0), stream_of(c));
}

void maxpool2d_cuda(const KernelCall& c) {
  cuda::maxpool2d_forward(pool_dims(*c.graph, *c.node), c.i<float>(0), c.o<float>(0), c.o<int32_t>(1),
                          stream_of(c));
}
void maxpool2d_backward_cuda(const KernelCall& c) {
  cuda::maxpool2d_backward(pool_dims(*c.graph, *c.node), c.i<float>(0), c.i<int32_t>(1), c.o<float>(0),
                           stream_of(c));
}
void global_avgpool_cuda(const KernelCall& c) {
  const BatchNormDims d = global_pool_dims(*c.graph, *c.node);
  cuda::global_avgpool_forward(d.n, d.c, d.hw, c.i<float>(0), c.o<float>(0), stream_of(c));
}
void global_avgpool_backward_cuda(const KernelCall& c) {
  const BatchNormDims d = global_pool_dims(*c.graph, *c.node);
  cuda::global_avgpool_backward(d.n, d.c, d.hw, c.i<float>(0), c.o<float>(0), stream_of(c));
}

void linear_cuda(const KernelCall& c) {
  const LinearDims d = linear_dims(*c.graph, *c.node);
  cuda::linear_forward(d.m, d.k, d.n, c.i<float>(0), c.i<float>(1), opt_in<float>(c, 2), c.o<float>(0),
                       context_of(c));
}
void linear_backward_cuda(const KernelCall& c) {
  const LinearDims d = linear_dims(*c.graph, *c.node);
  cuda::linear_backward(d.m, d.k, d.n, c.i<float>(0), c.i<float>(1), c.i<float>(2),
                        opt_out<float>(c, d.dx_output), c.o<float>(0), opt_out<float>(c, d.db_output),
                        context_of(c));
}
#endif

}  // namespace

const OpDef conv2d = OpDef("conv2d")
                         .with_shape(conv2d_shape)
                         .with_backward(conv2d_grad)
                         .on_cpu({conv2d_cpu, conv2d_plan_cpu})
                         .on_cuda(LOCDET_CUDA_KERNEL(conv2d_cuda, conv2d_plan_cuda));
const OpDef conv2d_backward_data =
    OpDef("conv2d_backward_data")
        .with_shape(restored_input)
        .on_cpu({conv2d_backward_data_cpu, conv2d_plan_cpu})
        .on_cuda(LOCDET_CUDA_KERNEL(conv2d_backward_data_cuda, conv2d_plan_cuda));
const OpDef conv2d_backward_filter =
    OpDef("conv2d_backward_filter")
        .with_shape(declared_outputs)
        .on_cpu({conv2d_backward_filter_cpu, conv2d_plan_cpu})
        .on_cuda(LOCDET_CUDA_KERNEL(conv2d_backward_filter_cuda, conv2d_plan_cuda));

const OpDef batchnorm_train = OpDef("batchnorm_train")
                                  .with_shape(batchnorm_train_shape)
                                  .with_backward(batchnorm_grad)
                                  .with_grad_outputs(1)
                                  .on_cpu({batchnorm_train_cpu})
                                  .on_cuda(LOCDET_CUDA_KERNEL(batchnorm_train_cuda));
const OpDef batchnorm_eval = OpDef("batchnorm_eval")
                                 .with_shape(batchnorm_eval_shape)
                                 .with_backward(batchnorm_eval_grad)
                                 .on_cpu({batchnorm_eval_cpu})
                                 .on_cuda(LOCDET_CUDA_KERNEL(batchnorm_eval_cuda));
const OpDef batchnorm_backward = OpDef("batchnorm_backward")
                                     .with_shape(batchnorm_backward_shape)
                                     .on_cpu({batchnorm_backward_cpu})
                                     .on_cuda(LOCDET_CUDA_KERNEL(batchnorm_backward_cuda));

const OpDef relu = OpDef("relu")
                       .with_shape(elementwise_shape)
                       .with_backward(activation_grad<relu_backward>)
                       .with_inplace(0)
                       .on_cpu({relu_cpu})
                       .on_cuda(LOCDET_CUDA_KERNEL(relu_cuda));
const OpDef relu_backward = OpDef("relu_backward")
                                .with_shape(elementwise_shape)
                                .with_inplace(1)
                                .on_cpu({relu_backward_cpu})
                                .on_cuda(LOCDET_CUDA_KERNEL(relu_backward_cuda));
const OpDef leaky_relu = OpDef("leaky_relu")
                             .with_shape(elementwise_shape)
                             .with_backward(activation_grad<leaky_relu_backward>)
                             .with_inplace(0)
                             .on_cpu({leaky_relu_cpu})
                             .on_cuda(LOCDET_CUDA_KERNEL(leaky_relu_cuda));
const OpDef leaky_relu_backward = OpDef("leaky_relu_backward")
                                      .with_shape(elementwise_shape)
                                      .with_inplace(1)
                                      .on_cpu({leaky_relu_backward_cpu})
                                      .on_cuda(LOCDET_CUDA_KERNEL(leaky_relu_backward_cuda));
const OpDef silu = OpDef("silu")
                       .with_shape(elementwise_shape)
                       .with_backward(activation_grad<silu_backward>)
                       .with_inplace(0)
                       .on_cpu({silu_cpu})
                       .on_cuda(LOCDET_CUDA_KERNEL(silu_cuda));
const OpDef silu_backward = OpDef("silu_backward")
                                .with_shape(elementwise_shape)
                                .with_inplace(1)
                                .on_cpu({silu_backward_cpu})
                                .on_cuda(LOCDET_CUDA_KERNEL(silu_backward_cuda));

const OpDef maxpool2d = OpDef("maxpool2d")
                            .with_shape(maxpool2d_shape)
                            .with_backward(maxpool2d_grad)
                            .with_grad_outputs(1)
                            .on_cpu({maxpool2d_cpu})
                            .on_cuda(LOCDET_CUDA_KERNEL(maxpool2d_cuda));
const OpDef maxpool2d_backward = OpDef("maxpool2d_backward")
                                     .with_shape(restored_input)
                                     .on_cpu({maxpool2d_backward_cpu})
                                     .on_cuda(LOCDET_CUDA_KERNEL(maxpool2d_backward_cuda));
const OpDef global_avgpool = OpDef("global_avgpool")
                                 .with_shape(global_avgpool_shape)
                                 .with_backward(global_avgpool_grad)
                                 .on_cpu({global_avgpool_cpu})
                                 .on_cuda(LOCDET_CUDA_KERNEL(global_avgpool_cuda));
const OpDef global_avgpool_backward = OpDef("global_avgpool_backward")
                                          .with_shape(restored_input)
                                          .on_cpu({global_avgpool_backward_cpu})
                                          .on_cuda(LOCDET_CUDA_KERNEL(global_avgpool_backward_cuda));

const OpDef linear = OpDef("linear")
                         .with_shape(linear_shape)
                         .with_backward(linear_grad)
                         .on_cpu({linear_cpu})
                         .on_cuda(LOCDET_CUDA_KERNEL(linear_cuda));
const OpDef linear_backward = OpDef("linear_backward")
                                  .with_shape(declared_outputs)
                                  .on_cpu({linear_backward_cpu})
                                  .on_cuda(LOCDET_CUDA_KERNEL(linear_backward_cuda));

}  // namespace locdet::ops
