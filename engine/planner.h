// Memory planner: every tensor gets a byte offset in ONE arena per executor.
//
// Liveness over the node order: a tensor is live from its producer to its last consumer
// (views extend their base). Pinned tensors (inputs, parameters, state, constants,
// optimizer state, the flat gradient buffer, marked outputs) live for the whole step.
// Storages are placed largest first at the best-fitting gap among the storages whose
// lifetimes overlap (offsets aligned to 256 B), which is deterministic. An op listed as
// in-place per its OpDef (engine/op.h) reuses its input's memory when that input dies there.
// Per-node workspaces (im2col, cuDNN) are storages that live for their node only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/graph.h"

namespace locdet {

constexpr int64_t kArenaAlignment = 256;

struct PlanBlock {
  std::string name;         // tensor name, or "workspace:<node>"
  int first = 0, last = 0;  // node indices, inclusive
  int64_t offset = 0, bytes = 0;
};

struct Plan {
  int64_t arena_bytes = 0;
  int64_t naive_bytes = 0;                // every storage separately: what planning saves against
  std::vector<int64_t> offset;            // per tensor (views resolved), bytes into the arena
  std::vector<int64_t> workspace_offset;  // per node, -1 when none
  std::vector<int64_t> workspace_bytes;   // per node
  std::vector<PlanBlock> blocks;          // one per storage (after in-place merging)
  int inplace_reuses = 0;
};

// float_bytes: 4, or 8 when the CPU executor runs the graph in double.
// workspace_bytes(node): the scratch the backend needs for the node (0 for none).
Plan plan_memory(const Graph& g, size_t float_bytes,
                 const std::function<int64_t(const Node&)>& workspace_bytes);

// Element size of a tensor under a plan's float size.
inline size_t planned_elem_bytes(DType dtype, size_t float_bytes) {
  return dtype == DType::kF32 ? float_bytes : dtype_size(dtype);
}

}  // namespace locdet
