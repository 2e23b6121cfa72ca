#include "engine/backends/backend.h"

#include <map>

#include "kernels/base/error.h"

namespace locdet {

int64_t Backend::workspace_bytes(const Node& n) {
  if (planned_.size() != g_.nodes().size()) planned_.resize(g_.nodes().size());
  const DeviceKernel& k = n.op->on(device_);
  if (n.op->kind != OpKind::kKernel || !k.plan) return 0;
  try {
    PlannedNode& p = planned_[&n - g_.nodes().data()];
    p = k.plan(PlanCall{g_, n, device_, f64_, cuda_context()});
    return p.workspace_bytes;
  } catch (const Error& e) {
    fail("op '", n.name, "' (", n.op->name, "): ", e.what());
  }
}

void Backend::bind(const std::vector<Tensor>& tensors, const std::vector<std::byte*>& workspaces,
                   const std::vector<int64_t>& workspace_bytes) {
  const auto& nodes = g_.nodes();
  planned_.resize(nodes.size());
  calls_.assign(nodes.size(), KernelCall{});
  for (size_t i = 0; i < nodes.size(); ++i) {
    KernelCall& c = calls_[i];
    c.graph = &g_;
    c.node = &nodes[i];
    for (int t : nodes[i].inputs) c.in.push_back(tensors[t]);
    for (int t : nodes[i].outputs) c.out.push_back(tensors[t]);
    c.workspace = workspaces[i];
    c.workspace_bytes = workspace_bytes[i];
    c.state = planned_[i].state.get();
    c.stream = stream();
    c.cuda_context = cuda_context();
  }
  on_bind();
}

void Backend::run_node(size_t i) const {
  const Node& n = g_.nodes()[i];
  if (n.op->kind == OpKind::kKernel) n.op->on(device_).run(calls_[i]);
}

std::string Backend::node_label(size_t i) const {
  const std::string& impl = i < planned_.size() ? planned_[i].implementation : std::string();
  return impl.empty() ? g_.nodes()[i].op->name : std::string(g_.nodes()[i].op->name) + " [" + impl + "]";
}

std::string Backend::implementations() const {
  std::map<std::string, int> count;
  for (const PlannedNode& p : planned_)
    if (!p.implementation.empty()) ++count[p.implementation];
  std::string out;
  for (const auto& [impl, n] : count) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + impl;
  return out;
}

}  // namespace locdet
