// Non-finite detection on the device without a host sync per step.
//
// add_nonfinite_flag() appends one node per watched tensor at the end of the graph (after
// the optimizer, so the loss and gradients it sees are this step's). Each node ORs its
// bit (1 << position in `watched`) into a persistent [1] int32 flag when the tensor holds
// a NaN or an Inf. The flag only accumulates; the host reads it every N steps with
// read_nonfinite_flag() (one 4-byte device read) and knows whether any step since the
// last clear went bad, and which watched tensor did.
//
// The flag is an Input without a source: pinned, never written by the executor, never
// saved in checkpoints (it is run health, not model state). The nodes write through it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/executor.h"
#include "engine/graph.h"

namespace locdet {

// Returns the flag tensor (zero in a fresh executor: the arena starts zeroed).
Value add_nonfinite_flag(Graph& g, const std::vector<Value>& watched,
                         const std::string& name = "nonfinite.flag");

// Bit i set = watched[i] was non-finite in some step since the last clear.
uint32_t read_nonfinite_flag(const Executor& ex, Value flag);
void clear_nonfinite_flag(Executor& ex, Value flag);

// "loss, gradients" for the set bits of `mask`, given the watched tensors' labels.
std::string describe_nonfinite(uint32_t mask, const std::vector<std::string>& labels);

}  // namespace locdet
