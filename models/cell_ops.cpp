// Per-cell head ops (see models/cell_ops.h): layout changes between NCHW maps and per-cell
// rows, box decoding around anchors, IoU-family box losses, the localizer's targets.
#include "models/cell_ops.h"

#include "engine/ops/kernel_call.h"
#include "kernels/base/error.h"
#include "kernels/cpu/box_loss.h"
#include "kernels/cpu/layout.h"
#include "kernels/cpu/localizer_targets.h"
#include "models/model_ops.h"
#if defined(LOCDET_WITH_CUDA)
#include "kernels/cuda/box_loss.h"
#include "kernels/cuda/layout.h"
#include "kernels/cuda/localizer_targets.h"
#endif

namespace locdet::models {
namespace {

// ---- to_cells / cells_to_nchw: [N,C,H,W] <-> [N,H*W,C] ------------------------------------

struct CellDims {
  int64_t n, c, hw;
};
CellDims cell_dims(const Shape& nchw) {
  return {nchw[0], nchw[1], nchw[2] * nchw[3]};
}

std::vector<TensorSpec> to_cells_shape(const ShapeCall& c) {
  const Shape& s = c.shape(0);
  LOCDET_CHECK(s.rank == 4, "to_cells: expected [N,C,H,W], got ", s.str());
  const CellDims d = cell_dims(s);
  return {{{d.n, d.hw, d.c}, DType::kF32}};
}

std::vector<TensorSpec> cells_to_nchw_shape(const ShapeCall& c) {  // attrs.shape: the NCHW shape
  const CellDims d = cell_dims(c.attrs.shape);
  LOCDET_CHECK(c.shape(0) == Shape({d.n, d.hw, d.c}), c.node, ": cells ", c.shape(0).str(), " do not match ",
               c.attrs.shape.str());
  return {{c.attrs.shape, DType::kF32}};
}

std::vector<Value> to_cells_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                                 const std::vector<bool>&) {
  Attrs a;
  a.shape = g.shape(n.in(0));
  return {g.apply1(ops::cells_to_nchw, {gy[0]}, a, n.name + ".grad")};
}

void to_cells_cpu(const KernelCall& c) {
  const CellDims d = cell_dims(c.in[0].shape);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::nchw_to_cells<T>(d.n, d.c, d.hw, c.i<T>(0), c.o<T>(0));
  });
}
void cells_to_nchw_cpu(const KernelCall& c) {
  const CellDims d = cell_dims(c.out[0].shape);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::cells_to_nchw<T>(d.n, d.c, d.hw, c.i<T>(0), c.o<T>(0));
  });
}

// ---- decode_boxes: raw [N,A,4] + anchors [A,4] -> boxes [N,A,4]; attrs.value: centre range

std::vector<TensorSpec> decode_boxes_shape(const ShapeCall& c) {
  const Shape& s = c.shape(0);
  LOCDET_CHECK(s.rank == 3 && s[2] == 4, "decode_boxes: raw must be [N,A,4], got ", s.str());
  LOCDET_CHECK(c.shape(1) == Shape({s[1], 4}), "decode_boxes: anchors must be [", s[1], ",4], got ",
               c.shape(1).str());
  if (c.count() > 2)
    LOCDET_CHECK(c.shape(2) == s, c.node, ": gradient ", c.shape(2).str(), " does not match ", s.str());
  return {{s, DType::kF32}};
}

std::vector<Value> decode_boxes_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                                     const std::vector<bool>&) {
  return {g.apply1(ops::decode_boxes_backward, {n.in(0), n.in(1), gy[0]}, n.attrs, n.name + ".grad"),
          Value{}};
}

void decode_boxes_cpu(const KernelCall& c) {
  const Shape& s = c.in[0].shape;
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::box_decode_forward<T>(s[0], s[1], c.i<T>(0), c.i<T>(1), static_cast<T>(c.attrs().value), c.o<T>(0));
  });
}
void decode_boxes_backward_cpu(const KernelCall& c) {  // raw, anchors, dboxes
  const Shape& s = c.in[0].shape;
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::box_decode_backward<T>(s[0], s[1], c.i<T>(0), c.i<T>(1), static_cast<T>(c.attrs().value), c.i<T>(2),
                                c.o<T>(0));
  });
}

// ---- iou_loss: pred [M,4], target [M,4] -> [M]; params: IouKind ---------------------------

std::vector<TensorSpec> iou_loss_shape(const ShapeCall& c) {
  const Shape& s = c.shape(0);
  LOCDET_CHECK(s.rank == 2 && s[1] == 4, "iou_loss: pred must be [M,4], got ", s.str());
  LOCDET_CHECK(c.shape(1) == s, "iou_loss: target ", c.shape(1).str(), " must match pred ", s.str());
  return {{{s[0]}, DType::kF32}};
}

std::vector<TensorSpec> iou_loss_backward_shape(const ShapeCall& c) {  // pred, target, dloss
  iou_loss_shape(c);
  LOCDET_CHECK(c.shape(2) == Shape({c.shape(0)[0]}), c.node, ": dloss ", c.shape(2).str(), " must be [",
               c.shape(0)[0], "]");
  return {{c.shape(0), DType::kF32}};
}

std::vector<Value> iou_loss_grad(Graph& g, const Node& n, const std::vector<Value>& gy,
                                 const std::vector<bool>&) {
  return {g.apply1(ops::iou_loss_backward, {n.in(0), n.in(1), gy[0]}, n.attrs, n.name + ".grad"), Value{}};
}

void iou_loss_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::iou_loss_forward<T>(c.numel_out(0), c.params<IouKind>(), c.i<T>(0), c.i<T>(1), c.o<T>(0));
  });
}
void iou_loss_backward_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::iou_loss_backward<T>(c.in[0].shape[0], c.params<IouKind>(), c.i<T>(0), c.i<T>(1), c.i<T>(2),
                              c.o<T>(0));
  });
}

// ---- localizer_targets: labels [N,6] -> the head's targets (no gradient); params: LocalizerGrid

std::vector<TensorSpec> localizer_targets_shape(const ShapeCall& c) {
  const Shape& s = c.shape(0);
  LOCDET_CHECK(s.rank == 2 && s[1] == kLocalizerLabelSize, "localizer_targets: labels must be [N,",
               kLocalizerLabelSize, "], got ", s.str());
  const auto& grid = std::any_cast<const LocalizerGrid&>(c.attrs.params);
  const int64_t batch = s[0], cells = static_cast<int64_t>(grid.height) * grid.width;
  return {{{batch}, DType::kI32},         {{batch, 1}, DType::kF32},      {{batch}, DType::kF32},
          {{batch * cells}, DType::kI32}, {{batch * cells}, DType::kF32}, {{batch * cells, 4}, DType::kF32}};
}

void localizer_targets_cpu(const KernelCall& c) {
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::localizer_targets<T>(static_cast<int>(c.in[0].shape[0]), c.params<LocalizerGrid>(), c.i<T>(0),
                              c.o<int32_t>(0), c.o<T>(1), c.o<T>(2), c.o<int32_t>(3), c.o<T>(4), c.o<T>(5));
  });
}

#if defined(LOCDET_WITH_CUDA)
void to_cells_cuda(const KernelCall& c) {
  const CellDims d = cell_dims(c.in[0].shape);
  cuda::nchw_to_cells(d.n, d.c, d.hw, c.i<float>(0), c.o<float>(0), stream_of(c));
}
void cells_to_nchw_cuda(const KernelCall& c) {
  const CellDims d = cell_dims(c.out[0].shape);
  cuda::cells_to_nchw(d.n, d.c, d.hw, c.i<float>(0), c.o<float>(0), stream_of(c));
}
void decode_boxes_cuda(const KernelCall& c) {
  const Shape& s = c.in[0].shape;
  cuda::box_decode_forward(s[0], s[1], c.i<float>(0), c.i<float>(1), c.attrs().value, c.o<float>(0),
                           stream_of(c));
}
void decode_boxes_backward_cuda(const KernelCall& c) {
  const Shape& s = c.in[0].shape;
  cuda::box_decode_backward(s[0], s[1], c.i<float>(0), c.i<float>(1), c.attrs().value, c.i<float>(2),
                            c.o<float>(0), stream_of(c));
}
void iou_loss_cuda(const KernelCall& c) {
  cuda::iou_loss_forward(c.numel_out(0), c.params<IouKind>(), c.i<float>(0), c.i<float>(1), c.o<float>(0),
                         stream_of(c));
}
void iou_loss_backward_cuda(const KernelCall& c) {
  cuda::iou_loss_backward(c.in[0].shape[0], c.params<IouKind>(), c.i<float>(0), c.i<float>(1), c.i<float>(2),
                          c.o<float>(0), stream_of(c));
}
void localizer_targets_cuda(const KernelCall& c) {
  cuda::localizer_targets(static_cast<int>(c.in[0].shape[0]), c.params<LocalizerGrid>(), c.i<float>(0),
                          c.o<int32_t>(0), c.o<float>(1), c.o<float>(2), c.o<int32_t>(3), c.o<float>(4),
                          c.o<float>(5), stream_of(c));
}
#endif

}  // namespace

const OpDef ops::to_cells = OpDef("to_cells")
                                .with_shape(to_cells_shape)
                                .with_backward(to_cells_grad)
                                .on_cpu({to_cells_cpu})
                                .on_cuda(LOCDET_CUDA_KERNEL(to_cells_cuda));
const OpDef ops::cells_to_nchw = OpDef("cells_to_nchw")
                                     .with_shape(cells_to_nchw_shape)
                                     .on_cpu({cells_to_nchw_cpu})
                                     .on_cuda(LOCDET_CUDA_KERNEL(cells_to_nchw_cuda));
const OpDef ops::decode_boxes = OpDef("decode_boxes")
                                    .with_shape(decode_boxes_shape)
                                    .with_backward(decode_boxes_grad)
                                    .on_cpu({decode_boxes_cpu})
                                    .on_cuda(LOCDET_CUDA_KERNEL(decode_boxes_cuda));
const OpDef ops::decode_boxes_backward = OpDef("decode_boxes_backward")
                                             .with_shape(decode_boxes_shape)
                                             .on_cpu({decode_boxes_backward_cpu})
                                             .on_cuda(LOCDET_CUDA_KERNEL(decode_boxes_backward_cuda));
const OpDef ops::iou_loss = OpDef("iou_loss")
                                .with_shape(iou_loss_shape)
                                .with_backward(iou_loss_grad)
                                .on_cpu({iou_loss_cpu})
                                .on_cuda(LOCDET_CUDA_KERNEL(iou_loss_cuda));
const OpDef ops::iou_loss_backward = OpDef("iou_loss_backward")
                                         .with_shape(iou_loss_backward_shape)
                                         .on_cpu({iou_loss_backward_cpu})
                                         .on_cuda(LOCDET_CUDA_KERNEL(iou_loss_backward_cuda));
const OpDef ops::localizer_targets = OpDef("localizer_targets")
                                         .with_shape(localizer_targets_shape)
                                         .on_cpu({localizer_targets_cpu})
                                         .on_cuda(LOCDET_CUDA_KERNEL(localizer_targets_cuda));

Value to_cells(Graph& g, Value x) {
  return g.apply1(ops::to_cells, {x});
}

Value decode_boxes(Graph& g, Value raw, Value anchors_xyxy, float center_range) {
  Attrs a;
  a.value = center_range;
  return g.apply1(ops::decode_boxes, {raw, anchors_xyxy}, a);
}

Value iou_loss(Graph& g, Value pred, Value target, IouKind kind) {
  Attrs a;
  a.params = kind;
  return g.apply1(ops::iou_loss, {pred, target}, a);
}

LocalizerTargets localizer_targets(Graph& g, Value labels, const LocalizerGrid& grid) {
  Attrs a;
  a.params = grid;
  const auto out = g.apply(ops::localizer_targets, {labels}, a);
  return {out[0], out[1], out[2], out[3], out[4], out[5]};
}

IouKind parse_iou_kind(const std::string& name) {
  if (name == "iou") return IouKind::kIou;
  if (name == "giou") return IouKind::kGiou;
  if (name == "diou") return IouKind::kDiou;
  if (name == "ciou") return IouKind::kCiou;
  fail("unknown IoU loss '", name, "': use iou, giou, diou or ciou");
}

}  // namespace locdet::models
