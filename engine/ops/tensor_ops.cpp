// Sources, views and the generic tensor ops: fill, copy, broadcasting add/sub/mul, scale,
// sum_to / broadcast_to (the pair autodiff uses for broadcasting), sigmoid, concat and slice.
// Kernels: kernels/cpu/tensor_ops, kernels/cuda/tensor_ops.
#include "kernels/cpu/tensor_ops.h"

#include <cstring>

#include "engine/ops/kernel_call.h"
#include "engine/ops/node_args.h"
#include "engine/ops/ops.h"
#include "kernels/base/error.h"
#ifdef LOCDET_WITH_CUDA
#include "kernels/cuda/tensor_ops.h"
#endif

namespace locdet::ops {
namespace {

// ---- shape rules ---------------------------------------------------------------------------

std::vector<TensorSpec> same_as_input(const ShapeCall& c) {
  return {{c.shape(0), c.dtype(0)}};
}

void check_float(const ShapeCall& c, size_t k) {
  LOCDET_CHECK(c.dtype(k) == DType::kF32, c.node, ": '", c.name(k), "' is ", dtype_name(c.dtype(k)),
               ", expected F32");
}

std::vector<TensorSpec> float_same_as_input(const ShapeCall& c) {
  for (size_t k = 0; k < c.count(); ++k) check_float(c, k);
  return {{c.shape(0), DType::kF32}};
}

std::vector<TensorSpec> fill_shape(const ShapeCall& c) {
  return {{c.attrs.shape, DType::kF32}};
}

std::vector<TensorSpec> reshape_shape(const ShapeCall& c) {
  LOCDET_CHECK(c.attrs.shape.numel() == c.shape(0).numel(), "reshape of '", c.name(0), "' ", c.shape(0).str(),
               " to ", c.attrs.shape.str(), ": element counts differ");
  return {{c.attrs.shape, c.dtype(0)}};
}

std::vector<TensorSpec> binary_shape(const ShapeCall& c) {
  check_float(c, 0);
  check_float(c, 1);
  return {
      {broadcast_shapes(c.shape(0), c.shape(1), c.node + " of '" + c.name(0) + "' and '" + c.name(1) + "'"),
       DType::kF32}};
}

std::vector<TensorSpec> sum_to_shape(const ShapeCall& c) {
  const Shape& target = c.attrs.shape;
  LOCDET_CHECK(broadcast_shapes(c.shape(0), target, c.node) == c.shape(0), c.node, ": cannot sum ",
               c.shape(0).str(), " to ", target.str(), " (the target must broadcast to the input)");
  return {{target, DType::kF32}};
}

std::vector<TensorSpec> broadcast_to_shape(const ShapeCall& c) {
  const Shape& target = c.attrs.shape;
  LOCDET_CHECK(broadcast_shapes(c.shape(0), target, c.node) == target, c.node, ": cannot broadcast ",
               c.shape(0).str(), " to ", target.str());
  return {{target, DType::kF32}};
}

std::vector<TensorSpec> slice_shape(const ShapeCall& c) {
  const Shape& xs = c.shape(0);
  const Attrs& a = c.attrs;
  LOCDET_CHECK(a.axis >= 0 && a.axis < xs.rank, c.node, ": axis ", a.axis, " out of range for ", xs.str());
  LOCDET_CHECK(a.start >= 0 && a.length > 0 && a.start + a.length <= xs[a.axis], c.node, ": [", a.start, ", ",
               a.start + a.length, ") is outside dim ", a.axis, " of ", xs.str(), " ('", c.name(0), "')");
  Shape ys = xs;
  ys[a.axis] = a.length;
  return {{ys, c.dtype(0)}};
}

std::vector<TensorSpec> slice_backward_shape(const ShapeCall& c) {
  check_float(c, 0);
  Shape expect = c.attrs.shape;
  expect[c.attrs.axis] = c.attrs.length;
  LOCDET_CHECK(c.shape(0) == expect, c.node, ": gradient ", c.shape(0).str(), " does not match the slice ",
               expect.str());
  return {{c.attrs.shape, DType::kF32}};
}

std::vector<TensorSpec> concat_shape(const ShapeCall& c) {
  LOCDET_CHECK(c.count() > 0, c.node, ": nothing to concatenate");
  const int axis = c.attrs.axis;
  Shape out = c.shape(0);
  LOCDET_CHECK(axis >= 0 && axis < out.rank, c.node, ": axis ", axis, " out of range for ", out.str());
  for (size_t i = 1; i < c.count(); ++i) {
    const Shape& s = c.shape(i);
    bool ok = s.rank == out.rank && c.dtype(i) == c.dtype(0);
    for (int d = 0; ok && d < s.rank; ++d) ok = d == axis || s[d] == out[d];
    LOCDET_CHECK(ok, c.node, ": input ", i, " '", c.name(i), "' ", s.str(), " does not match ",
                 c.shape(0).str(), " outside axis ", axis);
    out[axis] += s[axis];
  }
  return {{out, c.dtype(0)}};
}

std::vector<TensorSpec> sigmoid_backward_shape(const ShapeCall& c) {
  LOCDET_CHECK(c.shape(0) == c.shape(1), c.node, ": y ", c.shape(0).str(), " and dy ", c.shape(1).str(),
               " differ");
  return float_same_as_input(c);
}

// ---- backward rules ------------------------------------------------------------------------

// Gradient of a broadcasting binary op's input: sum over the dims it was broadcast along.
Value reduce_like(Graph& g, Value grad, Value input) {
  return g.shape(grad) == g.shape(input) ? grad : g.sum_to(grad, g.shape(input));
}

std::vector<Value> copy_backward(Graph&, const Node&, const std::vector<Value>& gy,
                                 const std::vector<bool>&) {
  return {gy[0]};
}

std::vector<Value> reshape_backward(Graph& g, const Node& n, const std::vector<Value>& gy,
                                    const std::vector<bool>&) {
  return {g.reshape(gy[0], g.shape(n.in(0)))};
}

std::vector<Value> add_backward(Graph& g, const Node& n, const std::vector<Value>& gy,
                                const std::vector<bool>& need) {
  return {need[0] ? reduce_like(g, gy[0], n.in(0)) : Value{},
          need[1] ? reduce_like(g, gy[0], n.in(1)) : Value{}};
}

std::vector<Value> sub_backward(Graph& g, const Node& n, const std::vector<Value>& gy,
                                const std::vector<bool>& need) {
  return {need[0] ? reduce_like(g, gy[0], n.in(0)) : Value{},
          need[1] ? g.scale(reduce_like(g, gy[0], n.in(1)), -1.0f) : Value{}};
}

std::vector<Value> mul_backward(Graph& g, const Node& n, const std::vector<Value>& gy,
                                const std::vector<bool>& need) {
  return {need[0] ? reduce_like(g, g.mul(gy[0], n.in(1)), n.in(0)) : Value{},
          need[1] ? reduce_like(g, g.mul(gy[0], n.in(0)), n.in(1)) : Value{}};
}

std::vector<Value> scale_backward(Graph& g, const Node& n, const std::vector<Value>& gy,
                                  const std::vector<bool>&) {
  return {g.scale(gy[0], n.attrs.value)};
}

std::vector<Value> sum_to_backward(Graph& g, const Node& n, const std::vector<Value>& gy,
                                   const std::vector<bool>&) {
  return {g.broadcast_to(gy[0], g.shape(n.in(0)), n.attrs.value)};
}

std::vector<Value> broadcast_to_backward(Graph& g, const Node& n, const std::vector<Value>& gy,
                                         const std::vector<bool>&) {
  return {g.sum_to(gy[0], g.shape(n.in(0)), n.attrs.value)};
}

std::vector<Value> sigmoid_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                                const std::vector<bool>&) {
  return {g.apply1(sigmoid_backward, {n.out(0), gy[0]}, {}, n.name + ".grad")};
}

std::vector<Value> slice_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                              const std::vector<bool>&) {
  return {g.apply1(slice_backward, {gy[0]}, n.attrs, n.name + ".grad")};
}

std::vector<Value> concat_backward(Graph& g, const Node& n, const std::vector<Value>& gy,
                                   const std::vector<bool>& need) {
  std::vector<Value> gin(n.inputs.size());
  int64_t start = 0;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const int64_t len = g.shape(n.in(i))[n.attrs.axis];
    if (need[i]) gin[i] = g.slice(gy[0], n.attrs.axis, start, len);
    start += len;
  }
  return gin;
}

// ---- CPU kernels ---------------------------------------------------------------------------

void slab_cpu(const KernelCall& c, const SlabCopy& s, const Tensor& src, const Tensor& dst) {
  if (src.dtype == DType::kI32)
    return cpu::copy_slab<int32_t>(s.outer, s.inner, src.as<int32_t>(), s.src_len, s.src_start,
                                   dst.as<int32_t>(), s.dst_len, s.dst_start, s.len);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::copy_slab<T>(s.outer, s.inner, src.as<T>(), s.src_len, s.src_start, dst.as<T>(), s.dst_len,
                      s.dst_start, s.len);
  });
}

void slabs_cpu(const KernelCall& c) {
  if (c.node->op == &slice_backward) {
    with_real(c, [&](auto t) {
      using T = decltype(t);
      cpu::fill<T>(c.numel_out(0), T(0), c.o<T>(0));
    });
  }
  for_each_slab(*c.graph, *c.node, [&](const SlabCopy& s) { slab_cpu(c, s, c.in[s.input], c.out[0]); });
}

void fill_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::fill<T>(c.numel_out(0), static_cast<T>(c.attrs().value), c.o<T>(0));
  });
}

void copy_cpu(const KernelCall& c) {
  std::memcpy(c.out[0].data, c.in[0].data, c.out[0].bytes());
}

void binary_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::binary<T>(binary_kind(*c.node), binary_index(*c.graph, *c.node), c.i<T>(0), c.i<T>(1), c.o<T>(0));
  });
}

void scale_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::scale<T>(c.numel_out(0), static_cast<T>(c.attrs().value), c.i<T>(0), c.o<T>(0));
  });
}

void sum_to_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::sum_to<T>(sum_to_index(*c.graph, *c.node), static_cast<T>(c.attrs().value), c.i<T>(0), c.o<T>(0),
                   c.numel_out(0));
  });
}

void broadcast_to_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::broadcast_to<T>(broadcast_to_index(*c.graph, *c.node), static_cast<T>(c.attrs().value), c.i<T>(0),
                         c.o<T>(0));
  });
}

void sigmoid_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::sigmoid_forward<T>(c.numel_out(0), c.i<T>(0), c.o<T>(0));
  });
}

void sigmoid_backward_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::sigmoid_backward<T>(c.numel_out(0), c.i<T>(0), c.i<T>(1), c.o<T>(0));
  });
}

// ---- CUDA kernels --------------------------------------------------------------------------

#ifdef LOCDET_WITH_CUDA
void slabs_cuda(const KernelCall& c) {
  if (c.node->op == &slice_backward) cuda::fill(c.numel_out(0), 0.0f, c.o<float>(0), stream_of(c));
  for_each_slab(*c.graph, *c.node, [&](const SlabCopy& s) {
    cuda::copy_slab(s.outer, s.inner, c.i<float>(s.input), s.src_len, s.src_start, c.o<float>(0), s.dst_len,
                    s.dst_start, s.len, stream_of(c));
  });
}

void fill_cuda(const KernelCall& c) {
  cuda::fill(c.numel_out(0), c.attrs().value, c.o<float>(0), stream_of(c));
}

void copy_cuda(const KernelCall& c) {
  cuda::copy_bytes(static_cast<int64_t>(c.out[0].bytes()), c.in[0].data, c.out[0].data, stream_of(c));
}

void binary_cuda(const KernelCall& c) {
  cuda::binary(binary_kind(*c.node), binary_index(*c.graph, *c.node), c.i<float>(0), c.i<float>(1),
               c.o<float>(0), stream_of(c));
}

void scale_cuda(const KernelCall& c) {
  cuda::scale(c.numel_out(0), c.attrs().value, c.i<float>(0), c.o<float>(0), stream_of(c));
}

void sum_to_cuda(const KernelCall& c) {
  cuda::sum_to(sum_to_index(*c.graph, *c.node), c.attrs().value, c.i<float>(0), c.o<float>(0), c.numel_out(0),
               stream_of(c));
}

void broadcast_to_cuda(const KernelCall& c) {
  cuda::broadcast_to(broadcast_to_index(*c.graph, *c.node), c.attrs().value, c.i<float>(0), c.o<float>(0),
                     stream_of(c));
}

void sigmoid_cuda(const KernelCall& c) {
  cuda::sigmoid_forward(c.numel_out(0), c.i<float>(0), c.o<float>(0), stream_of(c));
}

void sigmoid_backward_cuda(const KernelCall& c) {
  cuda::sigmoid_backward(c.numel_out(0), c.i<float>(0), c.i<float>(1), c.o<float>(0), stream_of(c));
}
#endif

}  // namespace

const OpDef input = OpDef("input", OpKind::kSource);
const OpDef parameter = OpDef("parameter", OpKind::kSource);
const OpDef state = OpDef("state", OpKind::kSource);
const OpDef constant = OpDef("constant", OpKind::kSource);
const OpDef reshape =
    OpDef("reshape", OpKind::kView).with_shape(reshape_shape).with_backward(reshape_backward);

const OpDef fill =
    OpDef("fill").with_shape(fill_shape).on_cpu({fill_cpu}).on_cuda(LOCDET_CUDA_KERNEL(fill_cuda));
const OpDef copy = OpDef("copy")
                       .with_shape(same_as_input)
                       .with_backward(copy_backward)
                       .on_cpu({copy_cpu})
                       .on_cuda(LOCDET_CUDA_KERNEL(copy_cuda));
const OpDef add = OpDef("add")
                      .with_shape(binary_shape)
                      .with_backward(add_backward)
                      .with_inplace(0)
                      .on_cpu({binary_cpu})
                      .on_cuda(LOCDET_CUDA_KERNEL(binary_cuda));
const OpDef sub = OpDef("sub")
                      .with_shape(binary_shape)
                      .with_backward(sub_backward)
                      .with_inplace(0)
                      .on_cpu({binary_cpu})
                      .on_cuda(LOCDET_CUDA_KERNEL(binary_cuda));
const OpDef mul = OpDef("mul")
                      .with_shape(binary_shape)
                      .with_backward(mul_backward)
                      .with_inplace(0)
                      .on_cpu({binary_cpu})
                      .on_cuda(LOCDET_CUDA_KERNEL(binary_cuda));
const OpDef scale = OpDef("scale")
                        .with_shape(float_same_as_input)
                        .with_backward(scale_backward)
                        .with_inplace(0)
                        .on_cpu({scale_cpu})
                        .on_cuda(LOCDET_CUDA_KERNEL(scale_cuda));
const OpDef sum_to = OpDef("sum_to")
                         .with_shape(sum_to_shape)
                         .with_backward(sum_to_backward)
                         .on_cpu({sum_to_cpu})
                         .on_cuda(LOCDET_CUDA_KERNEL(sum_to_cuda));
const OpDef broadcast_to = OpDef("broadcast_to")
                               .with_shape(broadcast_to_shape)
                               .with_backward(broadcast_to_backward)
                               .on_cpu({broadcast_to_cpu})
                               .on_cuda(LOCDET_CUDA_KERNEL(broadcast_to_cuda));
const OpDef sigmoid = OpDef("sigmoid")
                          .with_shape(float_same_as_input)
                          .with_backward(sigmoid_grad)
                          .with_inplace(0)
                          .on_cpu({sigmoid_cpu})
                          .on_cuda(LOCDET_CUDA_KERNEL(sigmoid_cuda));
const OpDef sigmoid_backward = OpDef("sigmoid_backward")
                                   .with_shape(sigmoid_backward_shape)
                                   .with_inplace(1)
                                   .on_cpu({sigmoid_backward_cpu})
                                   .on_cuda(LOCDET_CUDA_KERNEL(sigmoid_backward_cuda));
const OpDef concat = OpDef("concat")
                         .with_shape(concat_shape)
                         .with_backward(concat_backward)
                         .on_cpu({slabs_cpu})
                         .on_cuda(LOCDET_CUDA_KERNEL(slabs_cuda));
const OpDef slice = OpDef("slice")
                        .with_shape(slice_shape)
                        .with_backward(slice_grad)
                        .on_cpu({slabs_cpu})
                        .on_cuda(LOCDET_CUDA_KERNEL(slabs_cuda));
const OpDef slice_backward = OpDef("slice_backward")
                                 .with_shape(slice_backward_shape)
                                 .on_cpu({slabs_cpu})
                                 .on_cuda(LOCDET_CUDA_KERNEL(slabs_cuda));

}  // namespace locdet::ops
