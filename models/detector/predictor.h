// The detector's inference graph at a fixed batch size: the detector, then batched class-aware
// NMS (config.nms) on the device, so only the kept detections leave it.
#pragma once

#include <string>
#include <vector>

#include "engine/tensor_dump.h"
#include "models/detector/model.h"
#include "models/inference.h"

namespace locdet::models {

class DetectorPredictor {
 public:
  DetectorPredictor(const DetectorConfig& config, int batch, Device device);
  int batch() const { return graph_.batch(); }
  const DetectorConfig& config() const { return config_; }
  void copy_weights_from(const Executor& trained) { graph_.copy_weights_from(trained); }
  void load_checkpoint(const std::string& path) { graph_.load_checkpoint(path); }
  // images: count x [H, W] in [0, 1] (count <= batch). Detections per image, score descending.
  std::vector<std::vector<Detection>> predict(const float* images, int count);
  // Appends the raw outputs of the last predict() for its first `count` images: boxes [A, 4]
  // (xyxy pixels) and scores [A, classes] before NMS, and the NMS outputs det_boxes
  // [max_det, 4], det_scores [max_det], det_classes [max_det] (i32 class index, -1 unused),
  // det_count [] (i32) per image.
  void dump_outputs(TensorDump& dump, int count) const;

 private:
  DetectorConfig config_;
  Detector model_;  // set while graph_ is built
  NmsOutputs nms_;
  InferenceGraph graph_;
};

}  // namespace locdet::models
