// The memory planner on a real training graph (small CNN + backward + AdamW).
#include <gtest/gtest.h>

#include "engine/autodiff.h"
#include "engine/ops/ops.h"
#include "engine/optim.h"
#include "engine/planner.h"

namespace locdet {
namespace {

Graph training_graph() {
  Graph g;
  Value x = g.input("image", {8, 1, 12, 16});
  Value labels = g.input("labels", {8}, DType::kI32);
  Value h = g.conv2d(x, g.parameter("conv1.weight", {8, 1, 3, 3}, Init::kKaimingUniform), {}, 1, 1);
  h = g.maxpool2d(g.relu(g.batchnorm(h, "bn1")), 2, 2);
  h = g.relu(g.conv2d(h, g.parameter("conv2.weight", {8, 8, 3, 3}, Init::kKaimingUniform), {}, 1, 1));
  h = g.silu(g.conv2d(h, g.parameter("conv3.weight", {8, 8, 3, 3}, Init::kKaimingUniform), {}, 1, 1));
  Value logits = g.linear(g.global_avgpool(h), g.parameter("fc.weight", {3, 8}, Init::kXavierUniform),
                          g.parameter("fc.bias", {3}, Init::kZeros));
  Value loss = g.mean(g.softmax_cross_entropy(logits, labels));
  g.mark_output(loss);
  add_optimizer(g, build_backward(g, loss), OptimizerConfig{});
  return g;
}

int64_t fake_workspace(const Node& n) {
  return n.op == &ops::conv2d ? 1000 : 0;
}

TEST(PlannerMemory, LiveTensorsNeverOverlap) {
  Graph g = training_graph();
  Plan p = plan_memory(g, 4, fake_workspace);
  for (size_t i = 0; i < p.blocks.size(); ++i)
    for (size_t j = i + 1; j < p.blocks.size(); ++j) {
      const PlanBlock &a = p.blocks[i], &b = p.blocks[j];
      bool live_together = a.first <= b.last && b.first <= a.last;
      bool overlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
      EXPECT_FALSE(live_together && overlap) << a.name << " and " << b.name;
    }
}

TEST(PlannerMemory, DeterministicAlignedAndSmallerThanNaive) {
  Graph g = training_graph();
  Plan a = plan_memory(g, 4, fake_workspace), b = plan_memory(g, 4, fake_workspace);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.arena_bytes, b.arena_bytes);
  for (const PlanBlock& blk : a.blocks) EXPECT_EQ(blk.offset % kArenaAlignment, 0) << blk.name;
  EXPECT_LT(a.arena_bytes, a.naive_bytes);
  EXPECT_GT(a.inplace_reuses, 0);  // e.g. relu_backward writes over its dying dy
  std::printf("arena %lld bytes, naive %lld, in-place reuses %d\n", static_cast<long long>(a.arena_bytes),
              static_cast<long long>(a.naive_bytes), a.inplace_reuses);
}

TEST(PlannerMemory, ParametersGradientsAndMomentsAreContiguousInTheSameOrder) {
  Graph g = training_graph();
  Plan p = plan_memory(g, 4, fake_workspace);
  int64_t total = 0;
  std::vector<int64_t> offsets = flat_offsets(g, &total);
  int64_t params = p.offset[g.find("flat.params").id], grads = p.offset[g.find("flat.grads").id];
  int64_t m = p.offset[g.find("flat.adamw_m").id];
  std::vector<Value> ps = g.parameters();
  for (size_t i = 0; i < ps.size(); ++i) {
    const std::string& name = g.info(ps[i]).name;
    EXPECT_EQ(p.offset[ps[i].id], params + 4 * offsets[i]) << name;
    EXPECT_EQ(p.offset[g.find("grad." + name).id], grads + 4 * offsets[i]) << name;
    EXPECT_EQ(p.offset[g.find("optim.m." + name).id], m + 4 * offsets[i]) << name;
  }
}

TEST(PlannerMemory, WorkspaceIsPlanned) {
  Graph g = training_graph();
  Plan p = plan_memory(g, 4, fake_workspace);
  for (size_t i = 0; i < g.nodes().size(); ++i)
    EXPECT_EQ(p.workspace_offset[i] >= 0, g.nodes()[i].op == &ops::conv2d) << g.nodes()[i].name;
}

}  // namespace
}  // namespace locdet
