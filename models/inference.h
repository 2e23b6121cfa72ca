// The inference graph both tasks' predictors share: a batch of images in at a fixed size, the
// task's model (batch norm with running statistics), weights from a trained executor or a
// checkpoint. Runs eagerly: inputs change between calls through a host write.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/executor.h"

namespace locdet::models {

class InferenceGraph {
 public:
  // `add_model` adds the model on `images` [batch, 1, height, width] and marks its outputs.
  using ModelBuilder = std::function<void(Graph& g, Value images)>;
  InferenceGraph(int batch, int height, int width, Device device, const ModelBuilder& add_model);

  int batch() const { return batch_; }
  void copy_weights_from(const Executor& trained);
  void load_checkpoint(const std::string& path);  // weights only; optimizer state ignored
  // images: count x [height, width] in [0, 1] (count <= batch; the rest is zero padding).
  void run(const float* images, int count);
  const Executor& executor() const { return *executor_; }

 private:
  int batch_;
  Value images_;
  std::unique_ptr<Executor> executor_;
  std::vector<float> input_;
};

}  // namespace locdet::models
