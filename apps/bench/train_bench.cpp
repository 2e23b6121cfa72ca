// `bench train [--device cpu|cuda] [--batch 64] [--steps N] [--eager] [--profile-step]`:
// training-step throughput of the small localizer-style CNN (48x60x1 input; three
// conv3x3-BN-ReLU-maxpool stages of 16, 32, 64 channels; a linear head with presence, 10 classes
// and a box) through the graph executor, forward + backward + AdamW per step. Prints
// images_per_second.
#include <cstdio>
#include <random>
#include <string>

#include "apps/bench/registry.h"
#include "apps/bench/training_step.h"
#include "engine/autodiff.h"
#include "engine/executor.h"
#include "engine/optim.h"
#include "kernels/base/error.h"

namespace locdet {
namespace {

int run_train_bench(const bench::TrainingStepOptions& o) {
  const Device device = parse_device(o.device);
  const int batch = o.batch;
  Graph g;
  Value image = g.input("image", {batch, 1, 48, 60});
  Value presence = g.input("presence", {batch, 1});
  Value labels = g.input("labels", {batch}, DType::kI32);
  Value box = g.input("box", {batch, 4});
  Value h = image;
  int64_t c = 1;
  for (int64_t width : {16, 32, 64}) {
    std::string name = "backbone.conv" + std::to_string(width);
    h = g.conv2d(h, g.parameter(name + ".weight", {width, c, 3, 3}, Init::kKaimingUniform), {}, 1, 1);
    h = g.maxpool2d(g.relu(g.batchnorm(h, name + ".bn")), 2, 2);
    c = width;
  }
  int64_t features = g.shape(h).numel() / batch;  // 64 x 6 x 7
  Value head = g.linear(h, g.parameter("head.weight", {15, features}, Init::kXavierUniform),
                        g.parameter("head.bias", {15}, Init::kZeros));
  Value loss = g.mean(g.bce_with_logits(g.slice(head, 1, 0, 1), presence));
  loss = g.add(loss, g.mean(g.softmax_cross_entropy(g.slice(head, 1, 1, 10), labels)));
  loss = g.add(loss, g.mean(g.smooth_l1(g.sigmoid(g.slice(head, 1, 11, 4)), box)));
  g.mark_output(loss);
  add_optimizer(g, build_backward(g, loss), OptimizerConfig{});

  ExecutorOptions opt;
  opt.device = device;
  opt.cuda_graph = !o.eager;
  Executor ex(std::move(g), opt);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> im(static_cast<size_t>(batch) * 48 * 60), pres(batch), bx(batch * 4);
  std::vector<int32_t> lab(batch);
  for (float& v : im) v = u(rng);
  for (float& v : pres) v = u(rng) < 0.9f ? 1.0f : 0.0f;
  for (float& v : bx) v = u(rng);
  for (int32_t& v : lab) v = static_cast<int32_t>(rng() % 10);
  ex.write(image, im);
  ex.write(presence, pres);
  ex.write(box, bx);
  ex.write_i32(labels, lab);

  const double seconds = bench::time_training_steps(ex, o);
  const int steps = o.steps;
  std::printf("device: %s\nmode: %s\nbatch: %d\nsteps: %d\narena_mib: %.2f\nloss: %.4f\n",
              device_name(device), ex.mode().c_str(), batch, steps, ex.plan().arena_bytes / 1048576.0,
              ex.read_scalar(loss));
  std::printf("step_ms: %.3f\nimages_per_second: %.1f\n", 1e3 * seconds / steps, batch * steps / seconds);
  return 0;
}

LOCDET_BENCHMARK("train", "training-step throughput of the small CNN (forward, backward, AdamW)",
                 bench::add_training_step_options, run_train_bench);

}  // namespace
}  // namespace locdet
