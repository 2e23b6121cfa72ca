#include "engine/executor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "engine/backends/backend.h"
#include "engine/ops/ops.h"
#include "engine/optim.h"
#include "kernels/base/error.h"
#include "kernels/base/nvtx.h"

#ifdef LOCDET_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace locdet {

namespace {

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (char ch : s) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
  return h;
}

}  // namespace

Executor::Executor(Graph graph, ExecutorOptions options) : graph_(std::move(graph)), options_(options) {
  const Device dev = options_.device;
  // Every node must be runnable on the device before anything is allocated or run.
  for (const Node& n : graph_.nodes()) {
    const std::string why = unsupported_reason(graph_, n, dev);
    LOCDET_CHECK(why.empty(), "cannot run node '", n.name, "' (op ", n.op->name, ") on ", device_name(dev),
                 ": ", why);
  }
  if (dev == Device::kCpu) {
    backend_ = make_cpu_backend(graph_, options_.cpu_double);
  } else {
    LOCDET_CHECK(!options_.cpu_double, "cpu_double is a CPU option");
#ifdef LOCDET_WITH_CUDA
    LOCDET_CHECK(cuda_available(), "--device cuda, but no GPU is usable: ", cuda_device_summary());
    backend_ = make_cuda_backend(graph_, options_.cuda_graph);
#endif
  }
  const size_t float_bytes = options_.cpu_double ? 8 : 4;
  plan_ = plan_memory(graph_, float_bytes, [&](const Node& n) { return backend_->workspace_bytes(n); });
  if (dev == Device::kCuda) check_device_memory();
  arena_ = std::make_unique<Buffer>(dev, static_cast<size_t>(plan_.arena_bytes));

  const auto& infos = graph_.tensors();
  tensors_.resize(infos.size());
  for (size_t t = 0; t < infos.size(); ++t) {
    Tensor& x = tensors_[t];
    x.device = dev;
    x.dtype = infos[t].dtype == DType::kF32 && options_.cpu_double ? DType::kF64 : infos[t].dtype;
    x.shape = infos[t].shape;
    x.data = arena_->data() + plan_.offset[t];
  }
  std::vector<std::byte*> workspaces(graph_.nodes().size(), nullptr);
  for (size_t i = 0; i < workspaces.size(); ++i)
    if (plan_.workspace_offset[i] >= 0) workspaces[i] = arena_->data() + plan_.workspace_offset[i];
  backend_->bind(tensors_, workspaces, plan_.workspace_bytes);

  init_parameters(options_.seed);
  for (size_t t = 0; t < infos.size(); ++t)
    if (infos[t].role == Role::kConstant) from_host_f32(infos[t].constant, tensors_[t]);
}

Executor::~Executor() = default;

namespace {
std::string mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}
}  // namespace

int64_t largest_batch_that_fits(int64_t needed_bytes, int64_t free_bytes, int64_t fixed_bytes,
                                int64_t batch) {
  if (batch < 1 || free_bytes <= fixed_bytes) return 0;
  const double per_sample = static_cast<double>(std::max<int64_t>(needed_bytes - fixed_bytes, 1)) / batch;
  return std::max<int64_t>(0, static_cast<int64_t>((free_bytes - fixed_bytes) / per_sample));
}

std::string device_memory_shortfall(int64_t needed_bytes, int64_t free_bytes, int64_t fixed_bytes,
                                    int64_t batch) {
  if (needed_bytes <= free_bytes) return "";
  std::string msg = "out of GPU memory at plan time: the step needs " + mib(needed_bytes) + " but only " +
                    mib(free_bytes) + " are free (after " + mib(kDeviceMemoryHeadroom) +
                    " kept for the CUDA context and libraries); " + mib(fixed_bytes) +
                    " of it (parameters and optimizer state) does not depend on the batch. ";
  const int64_t fits =
      std::min(largest_batch_that_fits(needed_bytes, free_bytes, fixed_bytes, batch), batch - 1);
  if (fits >= 1) {
    msg += "Estimated largest batch that fits: " + std::to_string(fits) + " (batch now " +
           std::to_string(batch) +
           "; assumes activation memory grows linearly with the batch): use --batch " + std::to_string(fits) +
           " or smaller, or free GPU memory";
  } else {
    msg += "Not even batch 1 fits (batch now " + std::to_string(batch) +
           "): use a smaller model (--width), free GPU memory, or train with --device cpu";
  }
  return msg;
}

void Executor::check_device_memory() {
#ifdef LOCDET_WITH_CUDA
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
    cudaGetLastError();
    return;  // cudaMalloc below reports the real error
  }
  int64_t fixed = 0, batch = 0;
  for (const TensorInfo& t : graph_.tensors()) {
    if (t.view_of >= 0) continue;  // its base is counted
    if (t.role == Role::kParameter || t.role == Role::kState || t.role == Role::kOptimizerState ||
        (t.flat && t.role == Role::kGradient))
      fixed += t.numel() * static_cast<int64_t>(planned_elem_bytes(t.dtype, 4));
    if (batch == 0 && t.role == Role::kInput && t.shape.rank >= 2) batch = t.shape[0];
  }
  const int64_t usable = static_cast<int64_t>(free_bytes) - kDeviceMemoryHeadroom;
  const std::string shortfall =
      device_memory_shortfall(plan_.arena_bytes, std::max<int64_t>(usable, 0),
                              std::min(fixed, plan_.arena_bytes), std::max<int64_t>(batch, 1));
  if (!shortfall.empty()) fail(shortfall, " (GPU total ", mib(static_cast<int64_t>(total_bytes)), ")");
#endif
}

void Executor::init_parameters(uint64_t seed) {
  for (size_t t = 0; t < graph_.tensors().size(); ++t) {
    const TensorInfo& info = graph_.tensors()[t];
    bool source = info.producer >= 0 && (graph_.nodes()[info.producer].op == &ops::parameter ||
                                         graph_.nodes()[info.producer].op == &ops::state);
    if (!source || info.flat || info.dtype != DType::kF32 || info.role == Role::kOptimizerState) continue;
    const Shape& s = info.shape;
    std::vector<float> v(info.numel(), info.init == Init::kOnes ? 1.0f : 0.0f);
    if (info.init == Init::kKaimingUniform || info.init == Init::kXavierUniform) {
      int64_t fan_in = s.numel() / s[0], fan_out = s[0] * (s.rank > 2 ? s.numel() / (s[0] * s[1]) : 1);
      // Kaiming uniform with gain sqrt(2) (ReLU): bound sqrt(6 / fan_in); Xavier: sqrt(6 / (in + out)).
      double bound =
          info.init == Init::kKaimingUniform ? std::sqrt(6.0 / fan_in) : std::sqrt(6.0 / (fan_in + fan_out));
      std::mt19937_64 rng(seed ^ fnv1a(info.name));  // per-name: adding a layer never reshuffles the others
      for (float& x : v) x = static_cast<float>(bound * (2.0 * ((rng() >> 11) * 0x1.0p-53) - 1.0));
    }
    from_host_f32(v, tensors_[t]);
  }
}

std::string Executor::mode() const {
  return backend_->mode();
}

void Executor::synchronize() {
  backend_->synchronize();
}

void Executor::step() {
  NvtxRange range("train_step");
  backend_->run();
}

Tensor Executor::tensor(Value v) const {
  graph_.info(v);
  return tensors_[v.id];
}

std::vector<float> Executor::read(Value v) const {
  backend_->synchronize();
  return to_host_f32(tensor(v));
}
std::vector<int32_t> Executor::read_i32(Value v) const {
  backend_->synchronize();
  return to_host_i32(tensor(v));
}
void Executor::write(Value v, const std::vector<float>& values) {
  backend_->synchronize();
  from_host_f32(values, tensor(v));
}
void Executor::write_i32(Value v, const std::vector<int32_t>& values) {
  backend_->synchronize();
  from_host_i32(values, tensor(v));
}
std::vector<std::byte> Executor::read_bytes(Value v) const {
  backend_->synchronize();
  Tensor t = tensor(v);
  std::vector<std::byte> out(t.bytes());
  copy_from_tensor(t, out.data(), out.size());
  return out;
}
void Executor::write_bytes(Value v, const std::vector<std::byte>& bytes) {
  backend_->synchronize();
  copy_to_tensor(bytes.data(), bytes.size(), tensor(v));
}
void Executor::copy_persistent_state_from(const Executor& from) {
  for (Value v : graph_.persistent_state()) {
    const std::string& name = graph_.info(v).name;
    // A graph without an optimizer (inference) takes a parameter's weight average if `from` keeps one.
    Value source = from.graph().find(name);
    if (graph_.info(v).role == Role::kParameter && !graph_.lookup(ema_name(name))) {
      const Value average = from.graph().lookup(ema_name(name));
      if (average) source = average;
    }
    write_bytes(v, from.read_bytes(source));
  }
}

}  // namespace locdet
