// The CUDA executor against the CPU executor, and CUDA Graph replay against eager mode,
// on a small CNN training step (conv, batchnorm, relu, maxpool, linear, cross entropy,
// smooth L1, AdamW). Tolerances: float on both sides but different summation orders
// (cuDNN/cuBLAS vs im2col+OpenBLAS, tree vs sequential reductions): 1e-4 + 1e-3*|ref| on
// losses and updated weights after a few steps. Graph vs eager runs the very same kernels
// in the same order, so they must agree exactly.
#include <gtest/gtest.h>

#include <random>

#include "engine/autodiff.h"
#include "engine/executor.h"
#include "engine/optim.h"
#include "tests/cuda/cuda_test_util.h"

namespace locdet {
namespace {

struct Model {
  Graph g;
  Value image, labels, box, loss;
};

Model build() {
  Model m{Graph(true), {}, {}, {}, {}};
  Graph& g = m.g;
  m.image = g.input("image", {8, 1, 12, 16});
  m.labels = g.input("labels", {8}, DType::kI32);
  m.box = g.input("box", {8, 4});
  Value h = g.conv2d(m.image, g.parameter("conv1.weight", {8, 1, 3, 3}, Init::kKaimingUniform), {}, 1, 1);
  h = g.maxpool2d(g.relu(g.batchnorm(h, "bn1")), 2, 2);
  h = g.relu(g.conv2d(h, g.parameter("conv2.weight", {8, 8, 3, 3}, Init::kKaimingUniform),
                      g.parameter("conv2.bias", {8}, Init::kZeros), 1, 1));
  Value head = g.linear(h, g.parameter("fc.weight", {7, 8 * 6 * 8}, Init::kXavierUniform),
                        g.parameter("fc.bias", {7}, Init::kZeros));
  Value cls = g.mean(g.softmax_cross_entropy(g.slice(head, 1, 0, 3), m.labels));
  Value box = g.mean(g.smooth_l1(g.sigmoid(g.slice(head, 1, 3, 4)), m.box));
  m.loss = g.add(cls, box);
  g.mark_output(m.loss);
  OptimizerConfig cfg;
  cfg.schedule.base_lr = 0.01f;
  add_optimizer(g, build_backward(g, m.loss), cfg);
  return m;
}

// Runs `steps` steps on fixed data; returns the losses and the final conv1 weights.
std::pair<std::vector<float>, std::vector<float>> train(ExecutorOptions opt, int steps) {
  Model m = build();
  Executor ex(m.g, opt);
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  std::vector<float> image(8 * 12 * 16), box(32);
  for (float& v : image) v = nd(rng);
  for (float& v : box) v = 0.5f + 0.1f * nd(rng);
  ex.write(m.image, image);
  ex.write(m.box, box);
  ex.write_i32(m.labels, {0, 1, 2, 0, 1, 2, 0, 1});
  std::vector<float> losses;
  for (int s = 0; s < steps; ++s) {
    ex.step();
    losses.push_back(ex.read_scalar(m.loss));
  }
  return {losses, ex.read(ex.graph().find("conv1.weight"))};
}

TEST(ExecutorCuda, MatchesCpuExecutor) {
  LOCDET_REQUIRE_GPU();
  ExecutorOptions cpu, gpu;
  gpu.device = Device::kCuda;
  gpu.cuda_graph = false;
  auto [cpu_loss, cpu_w] = train(cpu, 4);
  auto [gpu_loss, gpu_w] = train(gpu, 4);
  test::expect_close(cpu_loss, gpu_loss, 1e-4, 1e-3, "loss per step");
  test::expect_close(cpu_w, gpu_w, 1e-4, 1e-3, "conv1.weight after 4 steps");
}

TEST(ExecutorCuda, GraphReplayEqualsEager) {
  LOCDET_REQUIRE_GPU();
  ExecutorOptions eager, graph;
  eager.device = graph.device = Device::kCuda;
  eager.cuda_graph = false;
  graph.cuda_graph = true;
  auto [e_loss, e_w] = train(eager, 5);
  auto [g_loss, g_w] = train(graph, 5);
  EXPECT_EQ(e_loss, g_loss);
  EXPECT_EQ(e_w, g_w);
}

TEST(ExecutorCuda, TensorOpsMatchCpu) {
  LOCDET_REQUIRE_GPU();
  // Broadcast add/mul, sum_to (per-column and full), broadcast_to, sigmoid, slice, concat.
  auto build_ops = [] {
    Graph g(false);
    Value a = g.input("a", {3, 5, 7});
    Value b = g.input("b", {5, 1});
    Value y = g.sigmoid(g.mul(g.add(a, b), g.scale(b, 0.5f)));
    Value cat = g.concat({g.slice(y, 2, 1, 3), g.slice(y, 2, 0, 2)}, 2);
    Value col = g.sum_to(cat, {5, 1}, 0.25f);
    Value all = g.mean(g.broadcast_to(col, {3, 5, 5}));
    for (Value v : {cat, col, all}) g.mark_output(v);
    return g;
  };
  std::vector<float> a(105), b(5);
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.37f * i);
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.2f * i - 0.4f;
  std::vector<std::vector<float>> results[2];
  for (int d = 0; d < 2; ++d) {
    ExecutorOptions opt;
    opt.device = d ? Device::kCuda : Device::kCpu;
    Executor ex(build_ops(), opt);
    ex.write(ex.graph().find("a"), a);
    ex.write(ex.graph().find("b"), b);
    ex.step();
    const auto& t = ex.graph().tensors();
    for (size_t i = 0; i < t.size(); ++i)
      if (t[i].pinned && t[i].role == Role::kActivation)
        results[d].push_back(ex.read(Value{static_cast<int>(i)}));
  }
  ASSERT_EQ(results[0].size(), 3u);
  // Elementwise float math: 1e-6 absolute; reductions reorder sums: 1e-5 relative.
  for (size_t i = 0; i < results[0].size(); ++i)
    test::expect_close(results[0][i], results[1][i], 1e-6, 1e-5, "op");
}

}  // namespace
}  // namespace locdet
