#include "models/cell_ops.h"

#include <memory>

#include "kernels/base/error.h"
#include "kernels/cpu/box_loss.h"
#include "kernels/cpu/layout.h"
#include "kernels/cpu/localizer_targets.h"
#if defined(LOCDET_WITH_CUDA)
#include "kernels/cuda/box_loss.h"
#include "kernels/cuda/layout.h"
#include "kernels/cuda/localizer_targets.h"
#endif

namespace locdet::models {

namespace {

#if defined(LOCDET_WITH_CUDA)
cudaStream_t stream_of(const CustomCall& c) {
  return static_cast<cudaStream_t>(c.stream);
}
#endif

std::shared_ptr<CustomOp> make_op(const std::string& name) {
  auto op = std::make_shared<CustomOp>();
  op->name = name;
  return op;
}

// ---- to_cells -------------------------------------------------------------------------
std::shared_ptr<const CustomOp> cells_to_nchw_op(int64_t n, int64_t c, int64_t hw) {
  auto op = make_op("cells_to_nchw");
  op->cpu = [=](const CustomCall& cc) {
    with_real(cc.inputs[0], [&](auto t) {
      using T = decltype(t);
      cpu::cells_to_nchw<T>(n, c, hw, cc.inputs[0].as<T>(), cc.outputs[0].as<T>());
    });
  };
#if defined(LOCDET_WITH_CUDA)
  op->cuda = [=](const CustomCall& cc) {
    cuda::cells_to_nchw(n, c, hw, cc.inputs[0].as<float>(), cc.outputs[0].as<float>(), stream_of(cc));
  };
#endif
  return op;
}

std::shared_ptr<const CustomOp> nchw_to_cells_op(int64_t n, int64_t c, int64_t hw, Shape nchw) {
  auto op = make_op("to_cells");
  op->cpu = [=](const CustomCall& cc) {
    with_real(cc.inputs[0], [&](auto t) {
      using T = decltype(t);
      cpu::nchw_to_cells<T>(n, c, hw, cc.inputs[0].as<T>(), cc.outputs[0].as<T>());
    });
  };
#if defined(LOCDET_WITH_CUDA)
  op->cuda = [=](const CustomCall& cc) {
    cuda::nchw_to_cells(n, c, hw, cc.inputs[0].as<float>(), cc.outputs[0].as<float>(), stream_of(cc));
  };
#endif
  op->backward = [=](Graph& g, const Node&, const std::vector<Value>& gout) {
    return std::vector<Value>{g.custom(cells_to_nchw_op(n, c, hw), {gout[0]}, {{nchw, DType::kF32}})[0]};
  };
  return op;
}

// ---- decode_boxes ---------------------------------------------------------------------
std::shared_ptr<const CustomOp> decode_backward_op(int64_t batch, int64_t anchors, float range) {
  auto op = make_op("decode_boxes_backward");  // inputs: raw, anchors, dboxes
  op->cpu = [=](const CustomCall& cc) {
    with_real(cc.inputs[0], [&](auto t) {
      using T = decltype(t);
      cpu::box_decode_backward<T>(batch, anchors, cc.inputs[0].as<T>(), cc.inputs[1].as<T>(), T(range),
                                  cc.inputs[2].as<T>(), cc.outputs[0].as<T>());
    });
  };
#if defined(LOCDET_WITH_CUDA)
  op->cuda = [=](const CustomCall& cc) {
    cuda::box_decode_backward(batch, anchors, cc.inputs[0].as<float>(), cc.inputs[1].as<float>(), range,
                              cc.inputs[2].as<float>(), cc.outputs[0].as<float>(), stream_of(cc));
  };
#endif
  return op;
}

// ---- iou_loss -------------------------------------------------------------------------
std::shared_ptr<const CustomOp> iou_backward_op(int64_t m, IouKind kind) {
  auto op = make_op("iou_loss_backward");  // inputs: pred, target, dloss
  op->cpu = [=](const CustomCall& cc) {
    with_real(cc.inputs[0], [&](auto t) {
      using T = decltype(t);
      cpu::iou_loss_backward<T>(m, kind, cc.inputs[0].as<T>(), cc.inputs[1].as<T>(), cc.inputs[2].as<T>(),
                                cc.outputs[0].as<T>());
    });
  };
#if defined(LOCDET_WITH_CUDA)
  op->cuda = [=](const CustomCall& cc) {
    cuda::iou_loss_backward(m, kind, cc.inputs[0].as<float>(), cc.inputs[1].as<float>(),
                            cc.inputs[2].as<float>(), cc.outputs[0].as<float>(), stream_of(cc));
  };
#endif
  return op;
}

}  // namespace

Value to_cells(Graph& g, Value x) {
  const Shape s = g.shape(x);
  LOCDET_CHECK(s.rank == 4, "to_cells: expected [N,C,H,W], got ", s.str());
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3];
  return g.custom(nchw_to_cells_op(n, c, hw, s), {x}, {{Shape{n, hw, c}, DType::kF32}})[0];
}

Value decode_boxes(Graph& g, Value raw, Value anchors_xyxy, float center_range) {
  const Shape s = g.shape(raw);
  LOCDET_CHECK(s.rank == 3 && s[2] == 4, "decode_boxes: raw must be [N,A,4], got ", s.str());
  LOCDET_CHECK(g.shape(anchors_xyxy) == Shape({s[1], 4}), "decode_boxes: anchors must be [", s[1],
               ",4], got ", g.shape(anchors_xyxy).str());
  const int64_t batch = s[0], anchors = s[1];
  auto op = make_op("decode_boxes");
  op->cpu = [=](const CustomCall& cc) {
    with_real(cc.inputs[0], [&](auto t) {
      using T = decltype(t);
      cpu::box_decode_forward<T>(batch, anchors, cc.inputs[0].as<T>(), cc.inputs[1].as<T>(), T(center_range),
                                 cc.outputs[0].as<T>());
    });
  };
#if defined(LOCDET_WITH_CUDA)
  op->cuda = [=](const CustomCall& cc) {
    cuda::box_decode_forward(batch, anchors, cc.inputs[0].as<float>(), cc.inputs[1].as<float>(), center_range,
                             cc.outputs[0].as<float>(), stream_of(cc));
  };
#endif
  op->backward = [=](Graph& gb, const Node& node, const std::vector<Value>& gout) {
    Value draw = gb.custom(decode_backward_op(batch, anchors, center_range),
                           {Value{node.inputs[0]}, Value{node.inputs[1]}, gout[0]}, {{s, DType::kF32}})[0];
    return std::vector<Value>{draw, Value{}};
  };
  return g.custom(op, {raw, anchors_xyxy}, {{s, DType::kF32}})[0];
}

Value iou_loss(Graph& g, Value pred, Value target, IouKind kind) {
  const Shape s = g.shape(pred);
  LOCDET_CHECK(s.rank == 2 && s[1] == 4, "iou_loss: pred must be [M,4], got ", s.str());
  LOCDET_CHECK(g.shape(target) == s, "iou_loss: target ", g.shape(target).str(), " must match pred ",
               s.str());
  const int64_t m = s[0];
  auto op = make_op("iou_loss");
  op->cpu = [=](const CustomCall& cc) {
    with_real(cc.inputs[0], [&](auto t) {
      using T = decltype(t);
      cpu::iou_loss_forward<T>(m, kind, cc.inputs[0].as<T>(), cc.inputs[1].as<T>(), cc.outputs[0].as<T>());
    });
  };
#if defined(LOCDET_WITH_CUDA)
  op->cuda = [=](const CustomCall& cc) {
    cuda::iou_loss_forward(m, kind, cc.inputs[0].as<float>(), cc.inputs[1].as<float>(),
                           cc.outputs[0].as<float>(), stream_of(cc));
  };
#endif
  op->backward = [=](Graph& gb, const Node& node, const std::vector<Value>& gout) {
    Value dpred = gb.custom(iou_backward_op(m, kind), {Value{node.inputs[0]}, Value{node.inputs[1]}, gout[0]},
                            {{s, DType::kF32}})[0];
    return std::vector<Value>{dpred, Value{}};
  };
  return g.custom(op, {pred, target}, {{Shape{m}, DType::kF32}})[0];
}

LocalizerTargets localizer_targets(Graph& g, Value labels, const LocalizerGrid& grid) {
  const Shape s = g.shape(labels);
  LOCDET_CHECK(s.rank == 2 && s[1] == kLocalizerLabelSize, "localizer_targets: labels must be [N,",
               kLocalizerLabelSize, "], got ", s.str());
  const int batch = static_cast<int>(s[0]);
  const int64_t cells = static_cast<int64_t>(grid.height) * grid.width;
  auto op = make_op("localizer_targets");  // no backward: labels are data
  op->cpu = [=](const CustomCall& cc) {
    with_real(cc.inputs[0], [&](auto t) {
      using T = decltype(t);
      cpu::localizer_targets<T>(batch, grid, cc.inputs[0].as<T>(), cc.outputs[0].as<int32_t>(),
                                cc.outputs[1].as<T>(), cc.outputs[2].as<T>(), cc.outputs[3].as<int32_t>(),
                                cc.outputs[4].as<T>(), cc.outputs[5].as<T>());
    });
  };
#if defined(LOCDET_WITH_CUDA)
  op->cuda = [=](const CustomCall& cc) {
    cuda::localizer_targets(batch, grid, cc.inputs[0].as<float>(), cc.outputs[0].as<int32_t>(),
                            cc.outputs[1].as<float>(), cc.outputs[2].as<float>(), cc.outputs[3].as<int32_t>(),
                            cc.outputs[4].as<float>(), cc.outputs[5].as<float>(), stream_of(cc));
  };
#endif
  auto out = g.custom(op, {labels},
                      {{Shape{batch}, DType::kI32},
                       {Shape{batch, 1}, DType::kF32},
                       {Shape{batch}, DType::kF32},
                       {Shape{batch * cells}, DType::kI32},
                       {Shape{batch * cells}, DType::kF32},
                       {Shape{batch * cells, 4}, DType::kF32}});
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
