// The CPU backend: the nodes in order, each calling its op's CPU kernel (kernels/cpu, the
// reference that defines every op; OpenMP inside the kernels).
//
// LOCDET_PROFILE_OPS=1 prints the seconds spent per op kind when the executor goes away.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "engine/backends/backend.h"

namespace locdet {
namespace {

class CpuBackend : public Backend {
 public:
  CpuBackend(const Graph& g, bool use_double) : Backend(g, Device::kCpu, use_double) {}

  ~CpuBackend() override {
    for (const auto& [op, seconds] : op_seconds_)
      std::fprintf(stderr, "op %-32s %9.4f s\n", op.c_str(), seconds);
  }

  void run() override {
    const size_t nodes = g_.nodes().size();
    if (!profile_) {
      for (size_t i = 0; i < nodes; ++i) run_node(i);
      return;
    }
    for (size_t i = 0; i < nodes; ++i) {
      const auto start = std::chrono::steady_clock::now();
      run_node(i);
      op_seconds_[node_label(i)] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }

  // "cpu", "cpu (double)", "cpu (21 oneDNN convolutions)" ...
  std::string mode() const override {
    const std::string impl = implementations();
    if (f64_) return "cpu (double)";
    return impl.empty() ? "cpu" : "cpu (" + impl + ")";
  }

 private:
  const bool profile_ = std::getenv("LOCDET_PROFILE_OPS") != nullptr;
  std::map<std::string, double> op_seconds_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const Graph& g, bool use_double) {
  return std::make_unique<CpuBackend>(g, use_double);
}

}  // namespace locdet
