// What `bench train` and `bench localizer` share: their step options and how a step is timed.
// Timing: 3 warm-up steps (on CUDA the first runs eagerly, the second is captured as a CUDA Graph
// and the third replays it), then `steps` timed steps between two device synchronizations.
// --profile-step (CUDA) runs one more replayed step right after the warm-up between
// cudaProfilerStart and cudaProfilerStop, inside an NVTX range "profiled_step", so that
// `ncu --profile-from-start off` profiles exactly one captured training step
// (tools/gpu_check.sh --stage 3).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "engine/executor.h"

namespace locdet::bench {

struct TrainingStepOptions {
  std::string device = "cpu";
  int batch = 64;
  int steps = 20;
  bool eager = false;
  bool profile_step = false;
};

void add_training_step_options(CLI::App& command, TrainingStepOptions& options);

// Runs the warm-up, the profiled step if asked, then the timed steps; returns their seconds.
double time_training_steps(Executor& executor, const TrainingStepOptions& options);

}  // namespace locdet::bench
