#include "engine/nonfinite.h"

#include "engine/ops/kernel_call.h"
#include "engine/ops/ops.h"
#include "kernels/base/error.h"
#include "kernels/cpu/nonfinite.h"
#ifdef LOCDET_WITH_CUDA
#include "kernels/cuda/nonfinite.h"
#endif

namespace locdet {
namespace {

std::vector<TensorSpec> watch_shape(const ShapeCall& c) {
  LOCDET_CHECK(c.dtype(0) == DType::kF32, "add_nonfinite_flag: '", c.name(0), "' is not a float tensor");
  LOCDET_CHECK(c.shape(1) == Shape({1}) && c.dtype(1) == DType::kI32, c.node, ": the flag must be [1] I32");
  return {};  // writes through its flag input
}

// inputs: [0] the watched tensor, [1] the flag (written through: see the header).
void nonfinite_cpu(const KernelCall& c) {
  const int32_t bit = c.params<int32_t>();
  const Tensor& x = c.in[0];
  if (x.dtype == DType::kF64)
    return cpu::nonfinite_or<double>(x.numel(), x.as<double>(), bit, c.i<int32_t>(1));
  cpu::nonfinite_or<float>(x.numel(), x.as<float>(), bit, c.i<int32_t>(1));
}

#ifdef LOCDET_WITH_CUDA
void nonfinite_cuda(const KernelCall& c) {
  cuda::nonfinite_or(c.numel_in(0), c.i<float>(0), c.params<int32_t>(), c.i<int32_t>(1), stream_of(c));
}
#endif

}  // namespace

const OpDef ops::nonfinite_or = OpDef("nonfinite_or")
                                    .with_shape(watch_shape)
                                    .on_cpu({nonfinite_cpu})
                                    .on_cuda(LOCDET_CUDA_KERNEL(nonfinite_cuda));

Value add_nonfinite_flag(Graph& g, const std::vector<Value>& watched, const std::string& name) {
  LOCDET_CHECK(!watched.empty() && watched.size() <= 31, "add_nonfinite_flag: watch 1..31 tensors, got ",
               watched.size());
  Value flag = g.input(name, {1}, DType::kI32);
  const Phase phase = g.phase();
  g.set_phase(Phase::kOptimizer);
  for (size_t i = 0; i < watched.size(); ++i) {
    Attrs a;
    a.params = int32_t{1} << i;
    g.apply(ops::nonfinite_or, {watched[i], flag}, a);
  }
  g.set_phase(phase);
  return flag;
}

uint32_t read_nonfinite_flag(const Executor& ex, Value flag) {
  return static_cast<uint32_t>(ex.read_i32(flag).at(0));
}

void clear_nonfinite_flag(Executor& ex, Value flag) {
  ex.write_i32(flag, {0});
}

std::string describe_nonfinite(uint32_t mask, const std::vector<std::string>& labels) {
  std::string out;
  for (size_t i = 0; i < labels.size() && i < 32; ++i)
    if (mask & (uint32_t{1} << i)) out += (out.empty() ? "" : ", ") + labels[i];
  return out.empty() ? "nothing" : out;
}

}  // namespace locdet
