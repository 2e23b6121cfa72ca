#include "kernels/base/openmp_defaults.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace locdet {

void apply_openmp_defaults(char** argv) {
#if defined(__linux__)
  const char* opt = std::getenv("LOCDET_OMP_DEFAULTS");
  if (!argv || !argv[0] || (opt && std::strcmp(opt, "0") == 0)) return;
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 0) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: run on with the default
#else
  (void)argv;
#endif
}

}  // namespace locdet
