// Per-element losses, unreduced (follow with mean() or a weighted sum): softmax cross entropy
// over rows, the distribution focal loss and expected bin of rows read as distributions over
// bins, BCE with logits, sigmoid focal, MSE, L1, smooth L1. Targets get no gradient: they
// are labels, not predictions. Math: kernels/common/loss_math.h, shared by both backends.
#include "engine/ops/kernel_call.h"
#include "engine/ops/node_args.h"
#include "engine/ops/ops.h"
#include "kernels/base/error.h"
#include "kernels/cpu/loss.h"
#ifdef LOCDET_WITH_CUDA
#include "kernels/cuda/loss.h"
#endif

namespace locdet::ops {
namespace {

std::vector<TensorSpec> softmax_cross_entropy_shape(const ShapeCall& c) {
  const Shape &ls = c.shape(0), &ys = c.shape(1);
  LOCDET_CHECK(ls.rank == 2 && ys.numel() == ls[0], c.node, ": logits must be [N,C] and labels [N], got ",
               ls.str(), " and ", ys.str());
  LOCDET_CHECK(c.dtype(1) == DType::kI32, c.node, ": labels '", c.name(1), "' must be I32");
  return {{{ls[0]}, DType::kF32}};
}

std::vector<TensorSpec> softmax_cross_entropy_backward_shape(const ShapeCall& c) {  // logits, labels, dloss
  return {{c.shape(0), DType::kF32}};
}

// pred and target (and, for a backward op, dloss) of one shape; the loss has that shape too.
std::vector<TensorSpec> pairwise_shape(const ShapeCall& c) {
  for (size_t k = 0; k < c.count(); ++k)
    LOCDET_CHECK(c.dtype(k) == DType::kF32, c.node, ": '", c.name(k), "' is ", dtype_name(c.dtype(k)),
                 ", expected F32");
  for (size_t k = 1; k < c.count(); ++k)
    LOCDET_CHECK(c.shape(k) == c.shape(0), c.node, ": prediction '", c.name(0), "' ", c.shape(0).str(),
                 " and '", c.name(k), "' ", c.shape(k).str(), " differ");
  return {{c.shape(0), DType::kF32}};
}

// Rows of logits [M, bins] read as distributions over bins (kernels/cpu/loss.h): the expected
// bin of each row, and the distribution focal loss against a continuous target [M] in bins.
void check_bin_rows(const ShapeCall& c) {
  const Shape& s = c.shape(0);
  LOCDET_CHECK(s.rank == 2 && s[1] >= 2, c.node, ": logits must be [M, bins] with bins >= 2, got ", s.str());
  for (size_t k = 0; k < c.count(); ++k)
    LOCDET_CHECK(c.dtype(k) == DType::kF32, c.node, ": '", c.name(k), "' is ", dtype_name(c.dtype(k)),
                 ", expected F32");
}
std::vector<TensorSpec> bin_expectation_shape(const ShapeCall& c) {
  check_bin_rows(c);
  const Shape& s = c.shape(0);
  if (c.count() > 1)
    LOCDET_CHECK(c.shape(1) == Shape({s[0]}), c.node, ": gradient ", c.shape(1).str(), " must be [", s[0],
                 "]");
  return {{c.count() > 1 ? s : Shape({s[0]}), DType::kF32}};
}
std::vector<TensorSpec> distribution_focal_shape(const ShapeCall& c) {  // logits, targets (, dloss)
  check_bin_rows(c);
  const Shape& s = c.shape(0);
  for (size_t k = 1; k < c.count(); ++k)
    LOCDET_CHECK(c.shape(k) == Shape({s[0]}), c.node, ": '", c.name(k), "' ", c.shape(k).str(), " must be [",
                 s[0], "]");
  return {{c.count() > 2 ? s : Shape({s[0]}), DType::kF32}};
}
std::vector<Value> bin_expectation_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                                        const std::vector<bool>&) {
  return {g.apply1(bin_expectation_backward, {n.in(0), gy[0]}, n.attrs, n.name + ".grad")};
}

template <const OpDef& kBackward>
std::vector<Value> loss_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                             const std::vector<bool>&) {
  return {g.apply1(kBackward, {n.in(0), n.in(1), gy[0]}, n.attrs, n.name + ".grad"), Value{}};
}

// ---- CPU ------------------------------------------------------------------------------------

template <class T>
T attr(float v) {
  return static_cast<T>(v);
}

void softmax_cross_entropy_cpu(const KernelCall& c) {
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::softmax_cross_entropy_forward<T>(d.rows, d.cols, c.i<T>(0), c.i<int32_t>(1),
                                          attr<T>(c.attrs().smoothing), c.o<T>(0));
  });
}
void softmax_cross_entropy_backward_cpu(const KernelCall& c) {
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::softmax_cross_entropy_backward<T>(d.rows, d.cols, c.i<T>(0), c.i<int32_t>(1),
                                           attr<T>(c.attrs().smoothing), c.i<T>(2), c.o<T>(0));
  });
}

void bin_expectation_cpu(const KernelCall& c) {
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::bin_expectation_forward<T>(d.rows, d.cols, c.i<T>(0), c.o<T>(0));
  });
}
void bin_expectation_backward_cpu(const KernelCall& c) {  // logits, dexpectation
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::bin_expectation_backward<T>(d.rows, d.cols, c.i<T>(0), c.i<T>(1), c.o<T>(0));
  });
}
void distribution_focal_cpu(const KernelCall& c) {
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::distribution_focal_forward<T>(d.rows, d.cols, c.i<T>(0), c.i<T>(1), c.o<T>(0));
  });
}
void distribution_focal_backward_cpu(const KernelCall& c) {  // logits, targets, dloss
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::distribution_focal_backward<T>(d.rows, d.cols, c.i<T>(0), c.i<T>(1), c.i<T>(2), c.o<T>(0));
  });
}

#define LOCDET_PAIRWISE_CPU(name, ...)                                                                 \
  void name##_cpu(const KernelCall& c) {                                                               \
    with_real(c, [&](auto t) {                                                                         \
      using T = decltype(t);                                                                           \
      const Attrs& a = c.attrs();                                                                      \
      (void)a;                                                                                         \
      cpu::name##_forward<T>(c.numel_out(0), c.i<T>(0), c.i<T>(1), __VA_ARGS__ c.o<T>(0));             \
    });                                                                                                \
  }                                                                                                    \
  void name##_backward_cpu(const KernelCall& c) {                                                      \
    with_real(c, [&](auto t) {                                                                         \
      using T = decltype(t);                                                                           \
      const Attrs& a = c.attrs();                                                                      \
      (void)a;                                                                                         \
      cpu::name##_backward<T>(c.numel_out(0), c.i<T>(0), c.i<T>(1), __VA_ARGS__ c.i<T>(2), c.o<T>(0)); \
    });                                                                                                \
  }
LOCDET_PAIRWISE_CPU(bce_with_logits)
LOCDET_PAIRWISE_CPU(sigmoid_focal, attr<T>(a.alpha), attr<T>(a.gamma), )
LOCDET_PAIRWISE_CPU(mse)
LOCDET_PAIRWISE_CPU(l1)
LOCDET_PAIRWISE_CPU(smooth_l1, attr<T>(a.beta), )
#undef LOCDET_PAIRWISE_CPU

// ---- CUDA -----------------------------------------------------------------------------------

#ifdef LOCDET_WITH_CUDA
void softmax_cross_entropy_cuda(const KernelCall& c) {
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  cuda::softmax_cross_entropy_forward(d.rows, d.cols, c.i<float>(0), c.i<int32_t>(1), c.attrs().smoothing,
                                      c.o<float>(0), stream_of(c));
}
void softmax_cross_entropy_backward_cuda(const KernelCall& c) {
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  cuda::softmax_cross_entropy_backward(d.rows, d.cols, c.i<float>(0), c.i<int32_t>(1), c.attrs().smoothing,
                                       c.i<float>(2), c.o<float>(0), stream_of(c));
}

void bin_expectation_cuda(const KernelCall& c) {
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  cuda::bin_expectation_forward(d.rows, d.cols, c.i<float>(0), c.o<float>(0), stream_of(c));
}
void bin_expectation_backward_cuda(const KernelCall& c) {
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  cuda::bin_expectation_backward(d.rows, d.cols, c.i<float>(0), c.i<float>(1), c.o<float>(0), stream_of(c));
}
void distribution_focal_cuda(const KernelCall& c) {
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  cuda::distribution_focal_forward(d.rows, d.cols, c.i<float>(0), c.i<float>(1), c.o<float>(0), stream_of(c));
}
void distribution_focal_backward_cuda(const KernelCall& c) {
  const RowsDims d = softmax_dims(*c.graph, *c.node);
  cuda::distribution_focal_backward(d.rows, d.cols, c.i<float>(0), c.i<float>(1), c.i<float>(2),
                                    c.o<float>(0), stream_of(c));
}

#define LOCDET_PAIRWISE_CUDA(name, ...)                                                            \
  void name##_cuda(const KernelCall& c) {                                                          \
    const Attrs& a = c.attrs();                                                                    \
    (void)a;                                                                                       \
    cuda::name##_forward(c.numel_out(0), c.i<float>(0), c.i<float>(1), __VA_ARGS__ c.o<float>(0),  \
                         stream_of(c));                                                            \
  }                                                                                                \
  void name##_backward_cuda(const KernelCall& c) {                                                 \
    const Attrs& a = c.attrs();                                                                    \
    (void)a;                                                                                       \
    cuda::name##_backward(c.numel_out(0), c.i<float>(0), c.i<float>(1), __VA_ARGS__ c.i<float>(2), \
                          c.o<float>(0), stream_of(c));                                            \
  }
LOCDET_PAIRWISE_CUDA(bce_with_logits)
LOCDET_PAIRWISE_CUDA(sigmoid_focal, a.alpha, a.gamma, )
LOCDET_PAIRWISE_CUDA(mse)
LOCDET_PAIRWISE_CUDA(l1)
LOCDET_PAIRWISE_CUDA(smooth_l1, a.beta, )
#undef LOCDET_PAIRWISE_CUDA
#endif

}  // namespace

const OpDef softmax_cross_entropy = OpDef("softmax_cross_entropy")
                                        .with_shape(softmax_cross_entropy_shape)
                                        .with_backward(loss_grad<softmax_cross_entropy_backward>)
                                        .on_cpu({softmax_cross_entropy_cpu})
                                        .on_cuda(LOCDET_CUDA_KERNEL(softmax_cross_entropy_cuda));
const OpDef softmax_cross_entropy_backward =
    OpDef("softmax_cross_entropy_backward")
        .with_shape(softmax_cross_entropy_backward_shape)
        .on_cpu({softmax_cross_entropy_backward_cpu})
        .on_cuda(LOCDET_CUDA_KERNEL(softmax_cross_entropy_backward_cuda));

const OpDef bin_expectation = OpDef("bin_expectation")
                                  .with_shape(bin_expectation_shape)
                                  .with_backward(bin_expectation_grad)
                                  .on_cpu({bin_expectation_cpu})
                                  .on_cuda(LOCDET_CUDA_KERNEL(bin_expectation_cuda));
const OpDef bin_expectation_backward = OpDef("bin_expectation_backward")
                                           .with_shape(bin_expectation_shape)
                                           .on_cpu({bin_expectation_backward_cpu})
                                           .on_cuda(LOCDET_CUDA_KERNEL(bin_expectation_backward_cuda));
const OpDef distribution_focal = OpDef("distribution_focal")
                                     .with_shape(distribution_focal_shape)
                                     .with_backward(loss_grad<distribution_focal_backward>)
                                     .on_cpu({distribution_focal_cpu})
                                     .on_cuda(LOCDET_CUDA_KERNEL(distribution_focal_cuda));
const OpDef distribution_focal_backward = OpDef("distribution_focal_backward")
                                              .with_shape(distribution_focal_shape)
                                              .on_cpu({distribution_focal_backward_cpu})
                                              .on_cuda(LOCDET_CUDA_KERNEL(distribution_focal_backward_cuda));

#define LOCDET_PAIRWISE_DEFS(name)                                  \
  const OpDef name = OpDef(#name)                                   \
                         .with_shape(pairwise_shape)                \
                         .with_backward(loss_grad<name##_backward>) \
                         .on_cpu({name##_cpu})                      \
                         .on_cuda(LOCDET_CUDA_KERNEL(name##_cuda)); \
  const OpDef name##_backward = OpDef(#name "_backward")            \
                                    .with_shape(pairwise_shape)     \
                                    .on_cpu({name##_backward_cpu})  \
                                    .on_cuda(LOCDET_CUDA_KERNEL(name##_backward_cuda));
LOCDET_PAIRWISE_DEFS(bce_with_logits)
LOCDET_PAIRWISE_DEFS(sigmoid_focal)
LOCDET_PAIRWISE_DEFS(mse)
LOCDET_PAIRWISE_DEFS(l1)
LOCDET_PAIRWISE_DEFS(smooth_l1)
#undef LOCDET_PAIRWISE_DEFS

}  // namespace locdet::ops
