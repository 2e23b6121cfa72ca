#include "models/inference.h"

#include <algorithm>

#include "engine/checkpoint.h"
#include "kernels/base/error.h"

namespace locdet::models {

InferenceGraph::InferenceGraph(int batch, int height, int width, Device device, const ModelBuilder& add_model)
    : batch_(batch) {
  LOCDET_CHECK(batch >= 1, "prediction batch must be >= 1");
  Graph g(false);
  images_ = g.input("image", {batch, 1, height, width});
  add_model(g, images_);
  ExecutorOptions options;
  options.device = device;
  options.cuda_graph = false;  // inputs change between calls through write(), not a device feed
  executor_ = std::make_unique<Executor>(std::move(g), options);
  input_.assign(static_cast<size_t>(batch) * height * width, 0.0f);
}

void InferenceGraph::copy_weights_from(const Executor& trained) {
  executor_->copy_persistent_state_from(trained);
}

void InferenceGraph::load_checkpoint(const std::string& path) {
  locdet::load_checkpoint(path, *executor_, /*strict=*/false);
}

void InferenceGraph::run(const float* images, int count) {
  LOCDET_CHECK(count >= 0 && count <= batch_, "predict: ", count, " images for a batch of ", batch_);
  const size_t pixels = input_.size() / batch_;
  std::copy_n(images, count * pixels, input_.begin());
  std::fill(input_.begin() + count * pixels, input_.end(), 0.0f);
  executor_->write(images_, input_);
  executor_->step();
}

}  // namespace locdet::models
