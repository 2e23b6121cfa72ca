// Builder shape inference and the errors a model author sees.
#include <gtest/gtest.h>

#include "engine/graph.h"
#include "engine/ops/ops.h"
#include "kernels/base/error.h"

namespace locdet {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GraphBuilder, InfersShapes) {
  Graph g;
  Value x = g.input("image", {4, 1, 48, 60});
  Value y = g.conv2d(x, g.parameter("w", {16, 1, 3, 3}, Init::kKaimingUniform), {}, 1, 1);
  EXPECT_EQ(g.shape(y), Shape({4, 16, 48, 60}));
  Value p = g.maxpool2d(y, 2, 2);
  EXPECT_EQ(g.shape(p), Shape({4, 16, 24, 30}));
  EXPECT_EQ(g.shape(g.global_avgpool(p)), Shape({4, 16}));
  Value l = g.linear(p, g.parameter("fc", {5, 16 * 24 * 30}, Init::kXavierUniform), {});
  EXPECT_EQ(g.shape(l), Shape({4, 5}));
  EXPECT_EQ(g.shape(g.slice(l, 1, 1, 4)), Shape({4, 4}));
  EXPECT_EQ(g.shape(g.concat({l, l}, 1)), Shape({4, 10}));
  EXPECT_EQ(g.shape(g.add(l, g.input("b", {5}))), Shape({4, 5}));
  EXPECT_EQ(g.shape(g.mul(g.input("col", {4, 1}), l)), Shape({4, 5}));
  EXPECT_EQ(g.shape(g.mean(l)), Shape({1}));
  EXPECT_EQ(g.info(g.batchnorm(y, "bn")).shape, y.id >= 0 ? g.shape(y) : Shape{});
  EXPECT_EQ(g.info(g.find("bn.running_var")).role, Role::kState);
}

TEST(GraphBuilder, MismatchesNameTheNodeAndBothShapes) {
  Graph g;
  Value x = g.input("image", {4, 3, 8, 8});
  Value w = g.parameter("conv.weight", {16, 1, 3, 3}, Init::kKaimingUniform);
  std::string msg = error_of([&] { g.conv2d(x, w, {}, 1, 1); });
  EXPECT_NE(msg.find("conv.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4, 3, 8, 8]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[16, 1, 3, 3]"), std::string::npos) << msg;
  msg = error_of([&] { g.add(g.input("a", {4, 3}), g.input("b", {4, 2})); });
  EXPECT_NE(msg.find("[4, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4, 2]"), std::string::npos) << msg;
  msg = error_of([&] { g.slice(x, 1, 2, 5); });
  EXPECT_NE(msg.find("outside dim 1"), std::string::npos) << msg;
  msg = error_of([&] { g.parameter("conv.weight", {1}, Init::kZeros); });
  EXPECT_NE(msg.find("duplicate"), std::string::npos) << msg;
  msg = error_of([&] { g.softmax_cross_entropy(g.input("logits", {4, 10}), g.input("labels", {4})); });
  EXPECT_NE(msg.find("I32"), std::string::npos) << msg;
}

TEST(GraphBuilder, ReshapeIsAViewAndEvalBatchnormHasNoStatsOutputs) {
  Graph g(false);
  Value x = g.input("x", {2, 4, 3, 3});
  Value r = g.reshape(x, {2, 36});
  EXPECT_EQ(g.info(r).view_of, x.id);
  g.batchnorm(x, "bn");
  EXPECT_EQ(g.nodes().back().op, &ops::batchnorm_eval);
  EXPECT_EQ(g.nodes().back().outputs.size(), 1u);
}

}  // namespace
}  // namespace locdet
