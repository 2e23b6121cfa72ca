// Autodiff through whole graphs, checked by central finite differences on the CPU
// executor running in DOUBLE (cpu_double): in double, h = 1e-6 gives ~1e-9 truncation +
// rounding error, so a relative tolerance of 1e-5 separates a right backward from a wrong
// one by orders of magnitude, which float (tolerance ~1e-2) could not.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "engine/autodiff.h"
#include "engine/executor.h"
#include "kernels/base/error.h"
#include "tests/graph_grad_check.h"

namespace locdet {
namespace {

std::vector<float> randn(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(AutodiffGraph, TensorOpsWithBroadcastSliceConcatAndReuse) {
  Graph g;
  Value x = g.input("x", {3, 4});
  Value w = g.parameter("w", {3, 4}, Init::kXavierUniform);
  Value s = g.parameter("s", {4}, Init::kKaimingUniform);     // broadcast over rows
  Value c = g.parameter("c", {3, 1}, Init::kKaimingUniform);  // broadcast over columns
  Value a = g.mul(g.add(x, w), s);
  Value b = g.sub(g.sigmoid(a), c);
  Value cat = g.concat({g.slice(b, 1, 0, 2), g.slice(a, 1, 1, 3)}, 1);  // a used twice: gradients add
  Value r = g.reshape(cat, {15});
  Value loss = g.add(g.mean(g.mul(r, r)), g.scale(g.sum(w), 0.5f));
  check_gradients(g, loss, {{x, randn(12, 1)}}, {});
}

TEST(AutodiffGraph, SmallCnnWithEveryLayerAndLoss) {
  const int n = 2;
  Graph g;
  Value x = g.input("image", {n, 1, 8, 8});
  Value labels = g.input("labels", {n}, DType::kI32);
  Value box = g.input("box", {n, 4});
  Value h = g.conv2d(x, g.parameter("c1.weight", {3, 1, 3, 3}, Init::kKaimingUniform),
                     g.parameter("c1.bias", {3}, Init::kKaimingUniform), 1, 1);
  h = g.relu(g.batchnorm(h, "bn1"));
  h = g.maxpool2d(h, 2, 2);
  h = g.silu(g.conv2d(h, g.parameter("c2.weight", {4, 3, 3, 3}, Init::kKaimingUniform), {}, 2, 1));
  h = g.leaky_relu(h, 0.1f);
  Value pooled = g.global_avgpool(h);  // [n,4]
  Value flat = g.linear(h, g.parameter("fc.weight", {6, 16}, Init::kXavierUniform),
                        g.parameter("fc.bias", {6}, Init::kZeros));  // [n,6] from [n,4,2,2]
  Value head = g.add(flat, g.linear(pooled, g.parameter("gap.weight", {6, 4}, Init::kXavierUniform), {}));
  Value logits = g.slice(head, 1, 0, 3);
  Value boxes = g.sigmoid(g.slice(head, 1, 2, 4));
  Value loss = g.add(
      g.mean(g.softmax_cross_entropy(logits, labels, 0.1f)),
      g.add(g.mean(g.smooth_l1(boxes, box, 0.5f)), g.mean(g.bce_with_logits(head, g.fill({n, 6}, 0.3f)))));
  loss = g.add(loss, g.mean(g.add(g.mse(boxes, box), g.sigmoid_focal(boxes, box))));
  loss = g.add(loss, g.mean(g.l1(boxes, box)));
  check_gradients(g, loss, {{x, randn(n * 64, 2)}, {box, {0.2f, 0.4f, 0.6f, 0.9f, 0.5f, 0.5f, 0.1f, 0.3f}}},
                  {{labels, {2, 0}}});
}

TEST(AutodiffGraph, InputsAndLabelsGetNoGradient) {
  Graph g;
  Value x = g.input("x", {2, 3});
  Value w = g.parameter("w", {3}, Init::kOnes);
  Value loss = g.mean(g.mul(x, w));
  Gradients grads = build_backward(g, loss);
  EXPECT_TRUE(grads[w]);
  EXPECT_FALSE(grads[x]);
}

TEST(AutodiffGraph, LossMustBeScalarAndDependOnParameters) {
  Graph g;
  Value x = g.input("x", {2, 3});
  EXPECT_THROW(build_backward(g, g.mean(x)), Error);
  Value w = g.parameter("w", {3}, Init::kOnes);
  EXPECT_THROW(build_backward(g, g.mul(x, w)), Error);
}

}  // namespace
}  // namespace locdet
