#include "apps/bench/training_step.h"

#include <chrono>

#include "apps/bench/registry.h"
#include "kernels/base/error.h"
#include "kernels/base/nvtx.h"
#ifdef LOCDET_WITH_CUDA
#include <cuda_profiler_api.h>

#include "kernels/cuda/cuda_check.h"
#endif

namespace locdet::bench {

void add_training_step_options(CLI::App& command, TrainingStepOptions& options) {
  command.add_option("--batch", options.batch, "images per step")->check(positive())->capture_default_str();
  command.add_option("--steps", options.steps, "timed steps")->check(positive())->capture_default_str();
  command.add_flag("--eager", options.eager, "CUDA: launch every node instead of replaying a captured step");
  command.add_flag("--profile-step", options.profile_step,
                   "CUDA: run one captured step after the warm-up between cudaProfilerStart/Stop (for "
                   "ncu --profile-from-start off)");
}

double time_training_steps(Executor& executor, const TrainingStepOptions& options) {
  LOCDET_CHECK(!options.profile_step || executor.options().device == Device::kCuda,
               "--profile-step profiles a CUDA step: add --device cuda");
  for (int i = 0; i < 3; ++i) executor.step();  // warm-up (and CUDA Graph capture)
  executor.synchronize();
  if (options.profile_step) {
#ifdef LOCDET_WITH_CUDA
    CUDA_CHECK(cudaProfilerStart());
    {
      NvtxRange range("profiled_step");
      executor.step();
      executor.synchronize();
    }
    CUDA_CHECK(cudaProfilerStop());
#endif
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < options.steps; ++i) executor.step();
  executor.synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace locdet::bench
