// The one place that turns a node of the graph into its kernel's arguments (dimensions,
// broadcast strides, slab copies), so the CPU and CUDA backends read a node the same way and
// differ only in the kernel they call.
#pragma once

#include <cstdint>
#include <functional>

#include "engine/graph.h"
#include "kernels/common/index4.h"
#include "kernels/common/op_params.h"

namespace locdet {

// Conv2d, Conv2dBackwardData and Conv2dBackwardFilter: the forward convolution's dimensions
// (the backward ops carry the input shape in attrs.shape; the filter is an input, or the
// backward-filter's output).
Conv2dDims conv_dims(const Graph& g, const Node& n);
// BatchNormTrain/Eval/Backward: input 0 is x, [n, c] or [n, c, h, w].
BatchNormDims batchnorm_dims(const Graph& g, const Node& n);
// MaxPool2d (input 0 is x) and MaxPool2dBackward (attrs.shape is x's shape).
Pool2dDims pool_dims(const Graph& g, const Node& n);
// GlobalAvgPool (input 0 is x) and GlobalAvgPoolBackward (output 0 has x's shape).
BatchNormDims global_pool_dims(const Graph& g, const Node& n);

// Linear: x [m, k] (or [m, ...] flattened), w [n, k]. LinearBackward also says which of the
// optional outputs (dx, dbias) it has: outputs are dw, [db], [dx].
struct LinearDims {
  int m, k, n;
  int dx_output = -1, db_output = -1;  // output slots, -1 when absent
};
LinearDims linear_dims(const Graph& g, const Node& n);

// SoftmaxCrossEntropy(+Backward): logits [rows, classes].
struct RowsDims {
  int rows, cols;
};
RowsDims softmax_dims(const Graph& g, const Node& n);

BinaryKind binary_kind(Op op);  // Add, Sub, Mul

// The callback a backend on `device` runs for a Custom node or an Input with a source; fails
// naming the node and the op when that op has no launch for the device.
const std::function<void(const CustomCall&)>& custom_launch(const Node& n, Device device);

// numpy broadcast of a and b to `out` as 4-d strides (0 along a broadcast dim).
Index4 broadcast_index(const Shape& out, const Shape& a, const Shape& b);
// Add/Sub/Mul: out from inputs 0 and 1.
Index4 binary_index(const Graph& g, const Node& n);
// SumTo: the input read through the output's strides. BroadcastTo: the reverse.
Index4 sum_to_index(const Graph& g, const Node& n);
Index4 broadcast_to_index(const Graph& g, const Node& n);

// The slab view [outer, len, inner] of a shape around `axis`.
void slab_dims(const Shape& s, int axis, int64_t* outer, int64_t* inner);

// One strided copy behind Concat, Slice and SliceBackward: `len` rows of `inner` elements
// from src (rows src_start.. of src_len per outer step) to dst (rows dst_start.. of dst_len).
struct SlabCopy {
  int src = -1, dst = -1;  // tensor ids
  int64_t outer = 1, inner = 1, src_len = 0, src_start = 0, dst_len = 0, dst_start = 0, len = 0;
};
// Calls fn(const SlabCopy&) for each copy the node makes (SliceBackward's zero fill of the
// rest of its output is the caller's).
template <class Fn>
void for_each_slab(const Graph& g, const Node& n, Fn&& fn) {
  const auto shape = [&](int t) -> const Shape& { return g.tensors()[t].shape; };
  const Attrs& a = n.attrs;
  SlabCopy c;
  switch (n.op) {
    case Op::kConcat: {
      c.dst = n.outputs[0];
      slab_dims(shape(c.dst), a.axis, &c.outer, &c.inner);
      c.dst_len = shape(c.dst)[a.axis];
      for (int t : n.inputs) {
        c.src = t;
        c.src_len = c.len = shape(t)[a.axis];
        c.src_start = 0;
        fn(static_cast<const SlabCopy&>(c));
        c.dst_start += c.len;
      }
      return;
    }
    case Op::kSlice:
      c.src = n.inputs[0];
      c.dst = n.outputs[0];
      slab_dims(shape(c.src), a.axis, &c.outer, &c.inner);
      c.src_len = shape(c.src)[a.axis];
      c.src_start = a.start;
      c.dst_len = c.len = a.length;
      return fn(static_cast<const SlabCopy&>(c));
    case Op::kSliceBackward:
      c.src = n.inputs[0];
      c.dst = n.outputs[0];
      slab_dims(shape(c.dst), a.axis, &c.outer, &c.inner);
      c.src_len = c.len = a.length;
      c.dst_len = shape(c.dst)[a.axis];
      c.dst_start = a.start;
      return fn(static_cast<const SlabCopy&>(c));
    default:
      return;
  }
}

}  // namespace locdet
