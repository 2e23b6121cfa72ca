#include "engine/nonfinite.h"

#include <memory>

#include "kernels/base/error.h"
#include "kernels/cpu/nonfinite.h"
#ifdef LOCDET_WITH_CUDA
#include "kernels/cuda/nonfinite.h"
#endif

namespace locdet {
namespace {

std::shared_ptr<const CustomOp> nonfinite_op(int32_t bit) {
  auto op = std::make_shared<CustomOp>();
  op->name = "nonfinite_or";
  // inputs: [0] the watched tensor, [1] the flag (written through: see the header).
  op->cpu = [bit](const CustomCall& c) {
    const Tensor& x = c.inputs[0];
    int32_t* flag = c.inputs[1].as<int32_t>();
    if (x.dtype == DType::kF64) return cpu::nonfinite_or<double>(x.numel(), x.as<double>(), bit, flag);
    cpu::nonfinite_or<float>(x.numel(), x.as<float>(), bit, flag);
  };
#ifdef LOCDET_WITH_CUDA
  op->cuda = [bit](const CustomCall& c) {
    cuda::nonfinite_or(c.inputs[0].numel(), c.inputs[0].as<float>(), bit, c.inputs[1].as<int32_t>(),
                       static_cast<cudaStream_t>(c.stream));
  };
#endif
  return op;
}

}  // namespace

Value add_nonfinite_flag(Graph& g, const std::vector<Value>& watched, const std::string& name) {
  LOCDET_CHECK(!watched.empty() && watched.size() <= 31, "add_nonfinite_flag: watch 1..31 tensors, got ",
               watched.size());
  Value flag = g.input(name, {1}, DType::kI32);
  const Phase phase = g.phase();
  g.set_phase(Phase::kOptimizer);
  for (size_t i = 0; i < watched.size(); ++i) {
    LOCDET_CHECK(g.info(watched[i]).dtype == DType::kF32, "add_nonfinite_flag: '", g.info(watched[i]).name,
                 "' is not a float tensor");
    g.custom(nonfinite_op(int32_t{1} << i), {watched[i], flag}, {});
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
