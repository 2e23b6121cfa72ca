// The one place that turns a node of the graph into its kernel's arguments (dimensions,
// broadcast strides, slab copies), so the CPU and CUDA backends read a node the same way and
// differ only in the kernel they call.
#pragma once

#include <cstdint>

#include "engine/graph.h"
#include "engine/ops/ops.h"
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

BinaryKind binary_kind(const Node& n);  // add, sub, mul

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
  int input = 0;  // the node's input to copy from (to output 0)
  int64_t outer = 1, inner = 1, src_len = 0, src_start = 0, dst_len = 0, dst_start = 0, len = 0;
};
// Calls fn(const SlabCopy&) for each copy the node makes (SliceBackward's zero fill of the
// rest of its output is the caller's).
template <class Fn>
void for_each_slab(const Graph& g, const Node& n, Fn&& fn) {
  const auto shape = [&](int t) -> const Shape& { return g.tensors()[t].shape; };
  const Attrs& a = n.attrs;
  const Shape& out = shape(n.outputs[0]);
  SlabCopy c;
  if (n.op == &ops::concat) {
    slab_dims(out, a.axis, &c.outer, &c.inner);
    c.dst_len = out[a.axis];
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      c.input = static_cast<int>(k);
      c.src_len = c.len = shape(n.inputs[k])[a.axis];
      fn(static_cast<const SlabCopy&>(c));
      c.dst_start += c.len;
    }
  } else if (n.op == &ops::slice) {  // [start, start + length) of the input
    slab_dims(shape(n.inputs[0]), a.axis, &c.outer, &c.inner);
    c.src_len = shape(n.inputs[0])[a.axis];
    c.src_start = a.start;
    c.dst_len = c.len = a.length;
    fn(static_cast<const SlabCopy&>(c));
  } else if (n.op == &ops::slice_backward) {  // the gradient lands at [start, start + length)
    slab_dims(out, a.axis, &c.outer, &c.inner);
    c.src_len = c.len = a.length;
    c.dst_len = out[a.axis];
    c.dst_start = a.start;
    fn(static_cast<const SlabCopy&>(c));
  }
}

}  // namespace locdet
