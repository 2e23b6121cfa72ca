#include "models/trainer.h"

#include "engine/autodiff.h"
#include "engine/nonfinite.h"
#include "engine/optim.h"
#include "kernels/base/error.h"

namespace locdet::models {

SceneTrainer::SceneTrainer(const RunSchedule& schedule, const data::DigitBank& bank, Device device)
    : schedule_(schedule), bank_(bank), device_(device) {}

void SceneTrainer::build(const ModelBuilder& add_model, bool cuda_graph) {
  LOCDET_CHECK(!executor_, "SceneTrainer::build: the graph is already built");
  auto stream = std::make_shared<SceneStream>(bank_, schedule_.preset, data::Split::kTrain, schedule_.seed);
  if (device_ == Device::kCuda) stream->prepare_cuda();
  Graph g(true);
  const SceneFeed feed = add_scene_feed(g, stream, schedule_.batch);
  const Value loss = add_model(g, feed);
  OptimizerState state = add_optimizer(g, build_backward(g, loss), schedule_.optimizer());
  step_ = state.step;
  lr_ = state.lr;
  nonfinite_ = add_nonfinite_flag(g, {loss, state.grads});
  ExecutorOptions options;
  options.device = device_;
  options.cuda_graph = cuda_graph;
  options.seed = schedule_.seed;
  executor_ = std::make_unique<Executor>(std::move(g), options);
}

int64_t SceneTrainer::steps_done() const {
  return read_step_counter(*executor_, step_);
}

float SceneTrainer::read_lr() const {
  return executor_->read_scalar(lr_);
}

std::string SceneTrainer::nonfinite_what() const {
  const uint32_t mask = read_nonfinite_flag(*executor_, nonfinite_);
  return mask ? describe_nonfinite(mask, {"loss", "gradients"}) : "";
}

}  // namespace locdet::models
