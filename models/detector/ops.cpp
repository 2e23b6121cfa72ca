// The detector's own ops: training targets (GT from the raw scene labels, anchor matching,
// positives per image, per-anchor targets and weights: one op, no host round trip) and
// batched class-aware NMS for inference graphs. Kernels: kernels/{cpu,cuda}/anchor_match,
// detector_targets and nms.
#include "engine/ops/kernel_call.h"
#include "kernels/base/error.h"
#include "kernels/cpu/anchor_match.h"
#include "kernels/cpu/detector_targets.h"
#include "kernels/cpu/nms.h"
#include "models/detector/model.h"
#include "models/model_ops.h"
#include "models/scene_feed.h"
#if defined(LOCDET_WITH_CUDA)
#include "kernels/cuda/anchor_match.h"
#include "kernels/cuda/detector_targets.h"
#include "kernels/cuda/nms.h"
#endif

namespace locdet::models {
namespace {

// ---- detection_targets --------------------------------------------------------------------
// inputs: scene labels [N, kSceneLabelWords] i32, anchors [A, 4]
// outputs: 0 gt_boxes [N,G,4], 1 gt_classes [N,G], 2 gt_count [N], 3 assigned [N*A],
//          4 target_boxes [N*A,4], 5 target_class [N*A], 6 num_pos [N], 7 cls_target [N*A,C],
//          8 cls_weight [N*A], 9 box_weight [N*A]; workspace: the matcher's per-GT best anchor.

struct TargetParams {
  DetectorClassMap map;
  int classes = 0;
  float pos_iou = 0.5f, neg_iou = 0.4f;
};

constexpr int64_t kG = kDetectorMaxGt;

std::vector<TensorSpec> detection_targets_shape(const ShapeCall& c) {
  const Shape& ls = c.shape(0);
  LOCDET_CHECK(ls.rank == 2 && ls[1] == kSceneLabelWords && c.dtype(0) == DType::kI32,
               "detection_targets: scene labels must be [N, ", kSceneLabelWords, "] i32, got ", ls.str());
  const Shape& as = c.shape(1);
  LOCDET_CHECK(as.rank == 2 && as[1] == 4, "detection_targets: anchors must be [A, 4], got ", as.str());
  const auto& p = std::any_cast<const TargetParams&>(c.attrs.params);
  const int64_t batch = ls[0], total = batch * as[0];
  return {{{batch, kG, 4}, DType::kF32}, {{batch, kG}, DType::kI32},        {{batch}, DType::kI32},
          {{total}, DType::kI32},        {{total, 4}, DType::kF32},         {{total}, DType::kI32},
          {{batch}, DType::kF32},        {{total, p.classes}, DType::kF32}, {{total}, DType::kF32},
          {{total}, DType::kF32}};
}

PlannedNode detection_targets_plan(const PlanCall& p) {
  return {static_cast<int64_t>(sizeof(int32_t)) * cpu::match_anchors_workspace_elems(p.shape_in(0)[0], kG),
          nullptr, ""};
}

void detection_targets_cpu(const KernelCall& c) {
  const auto& p = c.params<TargetParams>();
  const int batch = static_cast<int>(c.in[0].shape[0]);
  const int64_t anchors = c.in[1].shape[0];
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::scene_labels_to_gt<T>(batch, c.i<SceneLabel>(0), p.map, c.o<T>(0), c.o<int32_t>(1), c.o<int32_t>(2));
    cpu::match_anchors<T>(batch, anchors, c.i<T>(1), kG, c.o<T>(0), c.o<int32_t>(1), c.o<int32_t>(2),
                          static_cast<T>(p.pos_iou), static_cast<T>(p.neg_iou), c.o<int32_t>(3), c.o<T>(4),
                          c.o<int32_t>(5), reinterpret_cast<int32_t*>(c.workspace));
    cpu::count_positives<T>(batch, anchors, c.o<int32_t>(3), c.o<T>(6));
    cpu::detector_anchor_targets<T>(batch, anchors, p.classes, c.o<int32_t>(5), c.o<T>(6), c.o<T>(7),
                                    c.o<T>(8), c.o<T>(9));
  });
}

// ---- batched_nms --------------------------------------------------------------------------
// inputs: boxes [N, A, 4], scores [N, A, C]; params: NmsParams
// outputs: boxes [N, max_det, 4], scores [N, max_det], classes [N, max_det] i32, count [N] i32

std::vector<TensorSpec> batched_nms_shape(const ShapeCall& c) {
  const Shape &bs = c.shape(0), &ss = c.shape(1);
  LOCDET_CHECK(bs.rank == 3 && bs[2] == 4, "batched_nms: boxes must be [N, A, 4], got ", bs.str());
  LOCDET_CHECK(ss.rank == 3 && ss[0] == bs[0] && ss[1] == bs[1],
               "batched_nms: scores must be [N, A, C] with boxes ", bs.str(), ", got ", ss.str());
  const int64_t max_det = std::any_cast<const NmsParams&>(c.attrs.params).max_det;
  return {{{bs[0], max_det, 4}, DType::kF32},
          {{bs[0], max_det}, DType::kF32},
          {{bs[0], max_det}, DType::kI32},
          {{bs[0]}, DType::kI32}};
}

struct NmsDims {
  int64_t batch, boxes;
  int classes;
};
NmsDims nms_dims(const Shape& scores) {
  return {scores[0], scores[1], static_cast<int>(scores[2])};
}

PlannedNode batched_nms_plan_cpu(const PlanCall& p) {
  const NmsDims d = nms_dims(p.shape_in(1));
  return {static_cast<int64_t>(cpu::nms_workspace_bytes(
              d.boxes, d.classes, std::any_cast<const NmsParams&>(p.node.attrs.params))),
          nullptr, ""};
}

void batched_nms_cpu(const KernelCall& c) {
  const NmsDims d = nms_dims(c.in[1].shape);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    cpu::batched_nms<T>(d.batch, d.boxes, d.classes, c.i<T>(0), c.i<T>(1), c.params<NmsParams>(), c.o<T>(0),
                        c.o<T>(1), c.o<int32_t>(2), c.o<int32_t>(3), c.workspace);
  });
}

#if defined(LOCDET_WITH_CUDA)
void detection_targets_cuda(const KernelCall& c) {
  const auto& p = c.params<TargetParams>();
  const int batch = static_cast<int>(c.in[0].shape[0]);
  const int64_t anchors = c.in[1].shape[0];
  const cudaStream_t s = stream_of(c);
  cuda::scene_labels_to_gt(batch, c.i<SceneLabel>(0), p.map, c.o<float>(0), c.o<int32_t>(1), c.o<int32_t>(2),
                           s);
  cuda::match_anchors(batch, anchors, c.i<float>(1), kG, c.o<float>(0), c.o<int32_t>(1), c.o<int32_t>(2),
                      p.pos_iou, p.neg_iou, c.o<int32_t>(3), c.o<float>(4), c.o<int32_t>(5),
                      reinterpret_cast<int32_t*>(c.workspace), s);
  cuda::count_positives(batch, anchors, c.o<int32_t>(3), c.o<float>(6), s);
  cuda::detector_anchor_targets(batch, anchors, p.classes, c.o<int32_t>(5), c.o<float>(6), c.o<float>(7),
                                c.o<float>(8), c.o<float>(9), s);
}

// CUB sizes its sort's scratch here, at plan time, on the device that will run it.
PlannedNode batched_nms_plan_cuda(const PlanCall& p) {
  const NmsDims d = nms_dims(p.shape_in(1));
  return {static_cast<int64_t>(cuda::nms_workspace_bytes(
              d.batch, d.boxes, d.classes, std::any_cast<const NmsParams&>(p.node.attrs.params))),
          nullptr, ""};
}

void batched_nms_cuda(const KernelCall& c) {
  const NmsDims d = nms_dims(c.in[1].shape);
  cuda::batched_nms(d.batch, d.boxes, d.classes, c.i<float>(0), c.i<float>(1), c.params<NmsParams>(),
                    c.o<float>(0), c.o<float>(1), c.o<int32_t>(2), c.o<int32_t>(3), c.workspace,
                    static_cast<size_t>(c.workspace_bytes), stream_of(c));
}
#endif

}  // namespace

const OpDef ops::detection_targets =
    OpDef("detection_targets")
        .with_shape(detection_targets_shape)
        .on_cpu({detection_targets_cpu, detection_targets_plan})
        .on_cuda(LOCDET_CUDA_KERNEL(detection_targets_cuda, detection_targets_plan));
const OpDef ops::batched_nms = OpDef("batched_nms")
                                   .with_shape(batched_nms_shape)
                                   .on_cpu({batched_nms_cpu, batched_nms_plan_cpu})
                                   .on_cuda(LOCDET_CUDA_KERNEL(batched_nms_cuda, batched_nms_plan_cuda));

DetectionTargets detection_targets(Graph& g, Value scene_labels, Value anchors,
                                   const DetectorConfig& config) {
  TargetParams p;
  p.map = config.class_map();
  p.classes = config.num_classes();
  p.pos_iou = config.pos_iou;
  p.neg_iou = config.neg_iou;
  Attrs a;
  a.params = p;
  const auto out = g.apply(ops::detection_targets, {scene_labels, anchors}, a);
  return {out[3], out[5], out[4], out[6], out[7], out[8], out[9]};
}

NmsOutputs batched_nms(Graph& g, Value boxes, Value scores, const NmsParams& params) {
  Attrs a;
  a.params = params;
  const auto out = g.apply(ops::batched_nms, {boxes, scores}, a);
  return {out[0], out[1], out[2], out[3]};
}

}  // namespace locdet::models
