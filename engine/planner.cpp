#include "engine/planner.h"

#include <algorithm>

#include "engine/op.h"
#include "kernels/base/error.h"

namespace locdet {
namespace {

int64_t align(int64_t x) {
  return (x + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

struct Storage {
  std::string name;
  int first, last;
  int64_t bytes;
  bool pinned;
  int64_t offset = -1;
};

// Best fit among the placed storages whose lifetimes overlap s.
int64_t place(const Storage& s, const std::vector<const Storage*>& placed) {
  std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end)
  for (const Storage* p : placed)
    if (p->first <= s.last && s.first <= p->last) busy.push_back({p->offset, p->offset + align(p->bytes)});
  std::sort(busy.begin(), busy.end());
  int64_t need = align(s.bytes), cursor = 0, best = -1, best_gap = INT64_MAX;
  for (auto [begin, end] : busy) {
    int64_t gap = begin - cursor;
    if (gap >= need && gap < best_gap) best = cursor, best_gap = gap;
    cursor = std::max(cursor, end);
  }
  return best >= 0 ? best : cursor;
}

}  // namespace

Plan plan_memory(const Graph& g, size_t float_bytes,
                 const std::function<int64_t(const Node&)>& workspace_bytes) {
  const auto& tensors = g.tensors();
  const auto& nodes = g.nodes();
  const int n_tensors = static_cast<int>(tensors.size()), n_nodes = static_cast<int>(nodes.size());
  auto root = [&](int t) {
    while (tensors[t].view_of >= 0) t = tensors[t].view_of;
    return t;
  };
  auto bytes_of = [&](int t) {
    return tensors[t].numel() * static_cast<int64_t>(planned_elem_bytes(tensors[t].dtype, float_bytes));
  };

  // One storage per base tensor; storage_of maps every tensor to its storage index.
  std::vector<Storage> storages;
  std::vector<int> storage_of(n_tensors, -1);
  for (int t = 0; t < n_tensors; ++t) {
    if (tensors[t].view_of >= 0) continue;
    const TensorInfo& info = tensors[t];
    int p = info.producer;
    storage_of[t] = static_cast<int>(storages.size());
    storages.push_back(
        {info.name, info.pinned ? 0 : p, info.pinned ? n_nodes - 1 : p, bytes_of(t), info.pinned});
  }
  for (int t = 0; t < n_tensors; ++t)
    if (tensors[t].view_of >= 0) storage_of[t] = storage_of[root(t)];
  std::vector<int> last_use(storages.size());
  for (size_t s = 0; s < storages.size(); ++s) last_use[s] = storages[s].last;
  for (int i = 0; i < n_nodes; ++i)
    for (int t : nodes[i].inputs) last_use[storage_of[t]] = std::max(last_use[storage_of[t]], i);

  // In-place: output 0 takes over the memory of an input that dies at this node.
  Plan plan;
  std::vector<bool> merged(storages.size(), false);
  for (int i = 0; i < n_nodes; ++i) {
    const Node& n = nodes[i];
    int k = n.op->inplace;
    if (k < 0 || k >= static_cast<int>(n.inputs.size()) || n.outputs.empty()) continue;
    int in = n.inputs[k], out = n.outputs[0];
    if (tensors[in].view_of >= 0 || tensors[out].view_of >= 0) continue;
    int si = storage_of[in], so = storage_of[out];
    if (storages[si].pinned || storages[so].pinned || last_use[si] != i ||
        storages[si].bytes != storages[so].bytes)
      continue;
    // Nothing else may read the input's memory at this node under another name (e.g. a view).
    bool aliased = false;
    for (size_t j = 0; j < n.inputs.size(); ++j)
      aliased = aliased || (static_cast<int>(j) != k && storage_of[n.inputs[j]] == si &&
                            tensors[n.inputs[j]].view_of >= 0);
    if (aliased) continue;
    for (int t = 0; t < n_tensors; ++t)
      if (storage_of[t] == so) storage_of[t] = si;
    last_use[si] = std::max(last_use[si], last_use[so]);
    merged[so] = true;
    ++plan.inplace_reuses;
  }
  for (size_t s = 0; s < storages.size(); ++s) storages[s].last = last_use[s];

  plan.workspace_offset.assign(n_nodes, -1);
  plan.workspace_bytes.assign(n_nodes, 0);
  std::vector<int> workspace_storage(n_nodes, -1);
  for (int i = 0; i < n_nodes; ++i) {
    int64_t ws = workspace_bytes ? workspace_bytes(nodes[i]) : 0;
    if (ws <= 0) continue;
    plan.workspace_bytes[i] = ws;
    workspace_storage[i] = static_cast<int>(storages.size());
    storages.push_back({"workspace:" + nodes[i].name, i, i, ws, false});
    merged.push_back(false);
  }

  std::vector<int> order;
  for (size_t s = 0; s < storages.size(); ++s)
    if (!merged[s]) order.push_back(static_cast<int>(s));
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return storages[a].bytes > storages[b].bytes; });
  std::vector<const Storage*> placed;
  for (int s : order) {
    storages[s].offset = place(storages[s], placed);
    placed.push_back(&storages[s]);
    plan.arena_bytes = std::max(plan.arena_bytes, storages[s].offset + align(storages[s].bytes));
    plan.naive_bytes += align(storages[s].bytes);
    plan.blocks.push_back(
        {storages[s].name, storages[s].first, storages[s].last, storages[s].offset, storages[s].bytes});
  }
  for (int i = 0; i < n_nodes; ++i)
    if (workspace_storage[i] >= 0) plan.workspace_offset[i] = storages[workspace_storage[i]].offset;

  plan.offset.assign(n_tensors, 0);
  for (int t = 0; t < n_tensors; ++t) {
    int64_t base = storages[storage_of[t]].offset;
    // Views: the element offset is in the base's element size (views never change dtype).
    int64_t view_bytes = 0;
    for (int v = t; tensors[v].view_of >= 0; v = tensors[v].view_of)
      view_bytes +=
          tensors[v].view_offset * static_cast<int64_t>(planned_elem_bytes(tensors[v].dtype, float_bytes));
    plan.offset[t] = base + view_bytes;
  }
  return plan;
}

}  // namespace locdet
