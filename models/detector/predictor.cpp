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

}  // namespace locdet::models
