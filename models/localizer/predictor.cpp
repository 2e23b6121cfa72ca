#include "models/localizer/predictor.h"

namespace locdet::models {

LocalizerPredictor::LocalizerPredictor(const LocalizerConfig& config, int batch, Device device)
    : config_(config), graph_(batch, config.height, config.width, device, [this](Graph& g, Value images) {
        model_ = build_localizer(g, config_, images, Value{});
      }) {}

std::vector<LocalizerPrediction> LocalizerPredictor::predict(const float* images, int count) {
  graph_.run(images, count);
  const Executor& ex = graph_.executor();
  auto all = decode_localizer(batch(), model_.grid_h * model_.grid_w, config_.num_classes(),
                              ex.read(model_.presence_logit), ex.read(model_.location_logits),
                              ex.read(model_.class_logits), ex.read(model_.boxes));
  all.resize(count);
  return all;
}

void LocalizerPredictor::dump_outputs(TensorDump& dump, int count) const {
  const Executor& ex = graph_.executor();
  const int64_t cells = static_cast<int64_t>(model_.grid_h) * model_.grid_w;
  dump.append("presence_logit", {1}, ex.read(model_.presence_logit).data(), count);
  dump.append("location_logits", {cells}, ex.read(model_.location_logits).data(), count);
  dump.append("class_logits", {cells, config_.num_classes()}, ex.read(model_.class_logits).data(), count);
  dump.append("boxes", {cells, 4}, ex.read(model_.boxes).data(), count);
}

}  // namespace locdet::models
