#include "models/detector/predictor.h"

namespace locdet::models {

DetectorPredictor::DetectorPredictor(const DetectorConfig& config, int batch, Device device)
    : config_(config), graph_(batch, config.height, config.width, device, [this](Graph& g, Value images) {
        model_ = build_detector(g, config_, images, Value{});
        nms_ = batched_nms(g, model_.boxes, model_.scores, config_.nms);
        for (Value v : {nms_.boxes, nms_.scores, nms_.classes, nms_.count}) g.mark_output(v);
      }) {}

std::vector<std::vector<Detection>> DetectorPredictor::predict(const float* images, int count) {
  graph_.run(images, count);
  const Executor& ex = graph_.executor();
  auto all = unpack_detections(config_, batch(), config_.nms.max_det, ex.read(nms_.boxes),
                               ex.read(nms_.scores), ex.read_i32(nms_.classes), ex.read_i32(nms_.count));
  all.resize(count);
  return all;
}

void DetectorPredictor::dump_outputs(TensorDump& dump, int count) const {
  const Executor& ex = graph_.executor();
  const int64_t anchors = model_.num_anchors, max_det = config_.nms.max_det;
  dump.append("boxes", {anchors, 4}, ex.read(model_.boxes).data(), count);
  dump.append("scores", {anchors, config_.num_classes()}, ex.read(model_.scores).data(), count);
  dump.append("det_boxes", {max_det, 4}, ex.read(nms_.boxes).data(), count);
  dump.append("det_scores", {max_det}, ex.read(nms_.scores).data(), count);
  dump.append("det_classes", {max_det}, ex.read_i32(nms_.classes).data(), count);
  dump.append("det_count", {}, ex.read_i32(nms_.count).data(), count);
}

}  // namespace locdet::models
