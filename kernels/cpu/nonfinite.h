// Non-finite detection: ORs `bit` into *flag when any of x[0..n) is NaN or +-Inf.
// The flag is never cleared here, so it accumulates over steps until the caller resets
// it; reading it every N steps replaces a host sync every step (engine/nonfinite.h).
#pragma once

#include <cstdint>

namespace locdet::cpu {

template <class T>
void nonfinite_or(int64_t n, const T* x, int32_t bit, int32_t* flag);

}  // namespace locdet::cpu
