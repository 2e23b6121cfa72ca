#include "models/trainer.h"

#include <utility>

#include "engine/autodiff.h"
#include "engine/nonfinite.h"
#include "engine/optim.h"
#include "kernels/base/error.h"

namespace locdet::models {

SceneTrainer::SceneTrainer(const RunSchedule& schedule, TrainingData data, Device device)
    : schedule_(schedule), data_(std::move(data)), device_(device) {}

void SceneTrainer::build(const ModelBuilder& add_model, bool cuda_graph) {
  LOCDET_CHECK(!executor_, "SceneTrainer::build: the graph is already built");
  Graph g(true);
  const SceneFeed feed = data_.add_train_feed(g, schedule_.batch, schedule_.seed, device_);
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
