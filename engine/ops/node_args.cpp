#include "engine/ops/node_args.h"

#include "kernels/base/error.h"

namespace locdet {
namespace {

const Shape& shape_of(const Graph& g, int t) {
  return g.tensors()[t].shape;
}

int as_int(int64_t v) {
  return static_cast<int>(v);
}

}  // namespace

Conv2dDims conv_dims(const Graph& g, const Node& n) {
  const Shape& x = n.op == &ops::conv2d ? shape_of(g, n.inputs[0]) : n.attrs.shape;
  const Shape& w =
      n.op == &ops::conv2d_backward_filter ? shape_of(g, n.outputs[0]) : shape_of(g, n.inputs[1]);
  Conv2dDims d;
  d.n = as_int(x[0]), d.c = as_int(x[1]), d.h = as_int(x[2]), d.w = as_int(x[3]);
  d.k = as_int(w[0]), d.r = as_int(w[2]), d.s = as_int(w[3]);
  d.stride = n.attrs.stride;
  d.pad = n.attrs.pad;
  return d;
}

BatchNormDims batchnorm_dims(const Graph& g, const Node& n) {
  const Shape& x = shape_of(g, n.inputs[0]);
  return {as_int(x[0]), as_int(x[1]), as_int(x.rank == 4 ? x[2] * x[3] : 1)};
}

Pool2dDims pool_dims(const Graph& g, const Node& n) {
  const Shape& x = n.op == &ops::maxpool2d ? shape_of(g, n.inputs[0]) : n.attrs.shape;
  return {as_int(x[0]), as_int(x[1]), as_int(x[2]), as_int(x[3]), n.attrs.kernel, n.attrs.stride, 0};
}

BatchNormDims global_pool_dims(const Graph& g, const Node& n) {
  const Shape& x = n.op == &ops::global_avgpool ? shape_of(g, n.inputs[0]) : shape_of(g, n.outputs[0]);
  return {as_int(x[0]), as_int(x[1]), as_int(x[2] * x[3])};
}

LinearDims linear_dims(const Graph& g, const Node& n) {
  const Shape &x = shape_of(g, n.inputs[0]), &w = shape_of(g, n.inputs[1]);
  LinearDims d{as_int(x[0]), as_int(x[1]), as_int(w[0])};
  if (n.op == &ops::linear_backward) {
    // attrs.kernel == 1: the backward also computes dx, which is then its last output.
    const bool has_dx = n.attrs.kernel == 1;
    const int extra = static_cast<int>(n.outputs.size()) - 1 - (has_dx ? 1 : 0);
    if (has_dx) d.dx_output = static_cast<int>(n.outputs.size()) - 1;
    if (extra == 1) d.db_output = 1;
  }
  return d;
}

RowsDims softmax_dims(const Graph& g, const Node& n) {
  const Shape& logits = shape_of(g, n.inputs[0]);
  return {as_int(logits[0]), as_int(logits[1])};
}

BinaryKind binary_kind(const Node& n) {
  if (n.op == &ops::add) return BinaryKind::kAdd;
  if (n.op == &ops::sub) return BinaryKind::kSub;
  if (n.op == &ops::mul) return BinaryKind::kMul;
  fail("binary_kind: op ", op_name(n), " is not a binary op");
}

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

Index4 binary_index(const Graph& g, const Node& n) {
  return broadcast_index(shape_of(g, n.outputs[0]), shape_of(g, n.inputs[0]), shape_of(g, n.inputs[1]));
}

Index4 sum_to_index(const Graph& g, const Node& n) {
  const Shape& out = shape_of(g, n.outputs[0]);
  return broadcast_index(shape_of(g, n.inputs[0]), out, out);
}

Index4 broadcast_to_index(const Graph& g, const Node& n) {
  const Shape& in = shape_of(g, n.inputs[0]);
  return broadcast_index(shape_of(g, n.outputs[0]), in, in);
}

void slab_dims(const Shape& s, int axis, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int i = 0; i < axis; ++i) *outer *= s[i];
  for (int i = axis + 1; i < s.rank; ++i) *inner *= s[i];
}

}  // namespace locdet
