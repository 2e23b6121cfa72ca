// The localizer's inference graph at a fixed batch size: images in, one prediction per image
// (presence, digit, confidence, box) out.
#pragma once

#include <string>
#include <vector>

#include "engine/tensor_dump.h"
#include "models/inference.h"
#include "models/localizer/model.h"

namespace locdet::models {

class LocalizerPredictor {
 public:
  LocalizerPredictor(const LocalizerConfig& config, int batch, Device device);
  int batch() const { return graph_.batch(); }
  const LocalizerConfig& config() const { return config_; }
  void copy_weights_from(const Executor& trained) { graph_.copy_weights_from(trained); }
  void load_checkpoint(const std::string& path) { graph_.load_checkpoint(path); }
  // images: count x [H, W] in [0, 1] (count <= batch).
  std::vector<LocalizerPrediction> predict(const float* images, int count);
  // Appends the raw outputs of the last predict() for its first `count` images: presence_logit
  // [1], location_logits [cells], class_logits [cells, classes], boxes [cells, 4] per image.
  void dump_outputs(TensorDump& dump, int count) const;

 private:
  LocalizerConfig config_;
  Localizer model_;  // set while graph_ is built
  InferenceGraph graph_;
};

}  // namespace locdet::models
