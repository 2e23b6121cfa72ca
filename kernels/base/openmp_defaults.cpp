#include "kernels/base/openmp_defaults.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace locdet {

namespace {

constexpr double kIdleCores = 0.5;  // less than half a core busy: idle
constexpr const char* kSpinCount = "30000";
// Set by apply_openmp_defaults before it re-executes: what it chose and why.
constexpr const char* kChoiceVariable = "LOCDET_OMP_WAIT";

// CPU time spent busy (not idle, waiting for I/O or stolen by the hypervisor) on all CPUs, from /proc/stat's
// first line, in clock ticks; false when it cannot be read.
bool cpu_ticks(unsigned long long& busy, unsigned long long& total) {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return false;
  unsigned long long v[8] = {};  // user nice system idle iowait irq softirq steal
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                            &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n < 5) return false;
  total = 0;
  for (unsigned long long x : v) total += x;
  busy = total - v[3] - v[4] - v[7];  // steal: the hypervisor's, not this machine's processes
  return true;
}

// CPU time of this process (all its threads: OpenBLAS starts its own before main), in clock
// ticks; false when it cannot be read.
bool own_ticks(unsigned long long& ticks) {
  std::FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return false;
  char line[1024];
  const bool read = std::fgets(line, sizeof line, f) != nullptr;
  std::fclose(f);
  const char* p = read ? std::strrchr(line, ')') : nullptr;  // the name may hold spaces
  unsigned long long utime = 0, stime = 0;
  // After the name: state and 10 fields, then utime and stime (proc(5) fields 14 and 15).
  if (!p || std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
    return false;
  ticks = utime + stime;
  return true;
}

// How many cores other processes keep busy now: /proc/stat sampled 50 ms apart, less this
// process's own time; negative when it cannot tell.
double measure_busy_cores() {
  unsigned long long busy0 = 0, total0 = 0, own0 = 0, busy1 = 0, total1 = 0, own1 = 0;
  if (!cpu_ticks(busy0, total0) || !own_ticks(own0)) return -1.0;
  usleep(50000);
  if (!cpu_ticks(busy1, total1) || !own_ticks(own1) || total1 <= total0) return -1.0;
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  const double others = double(busy1 - busy0) - double(own1 - own0);
  return cpus > 0 ? std::max(0.0, others) / double(total1 - total0) * double(cpus) : -1.0;
}

// "spin 30000 (0.03 cores busy at start)", "passive (1.98 cores busy at start)", "passive (busy cores
// unknown)"
std::string describe(const OpenmpWait& wait, double busy_cores) {
  std::string text = wait.variable == "GOMP_SPINCOUNT" ? "spin " + wait.value : wait.value;
  char why[48];
  if (busy_cores >= 0.0)
    std::snprintf(why, sizeof why, " (%.2f cores busy at start)", busy_cores);
  else
    std::snprintf(why, sizeof why, " (busy cores unknown)");
  return text + why;
}

// True when the environment holds exactly what `choice` (a describe() string) set.
bool still_applies(const std::string& choice, const char* policy, const char* spin) {
  if (policy && spin) return false;
  const std::string set = policy ? std::string(policy) : spin ? "spin " + std::string(spin) : "";
  return !set.empty() && choice.rfind(set + " (", 0) == 0;
}

}  // namespace

OpenmpWait choose_openmp_wait(double busy_cores) {
  if (busy_cores >= 0.0 && busy_cores < kIdleCores) return {"GOMP_SPINCOUNT", kSpinCount};
  return {"OMP_WAIT_POLICY", "passive"};
}

void apply_openmp_defaults(char** argv) {
#if defined(__linux__)
  const char* opt = std::getenv("LOCDET_OMP_DEFAULTS");
  if (!argv || !argv[0] || (opt && std::strcmp(opt, "0") == 0)) return;
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  const double busy = measure_busy_cores();
  const OpenmpWait wait = choose_openmp_wait(busy);
  const std::string choice = describe(wait, busy);
  if (setenv(kChoiceVariable, choice.c_str(), 1) != 0 ||
      setenv(wait.variable.c_str(), wait.value.c_str(), 0) != 0)
    return;
  execv("/proc/self/exe", argv);  // returns only on failure: run on with libgomp's default
  unsetenv(kChoiceVariable);
  unsetenv(wait.variable.c_str());
#else
  (void)argv;
#endif
}

std::string openmp_wait_summary() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  const char* choice = std::getenv(kChoiceVariable);
  if (choice && still_applies(choice, policy, spin)) return choice;
  if (policy) return std::string("OMP_WAIT_POLICY=") + policy + " (yours)";
  if (spin) return std::string("GOMP_SPINCOUNT=") + spin + " (yours)";
  return "libgomp default";
}

}  // namespace locdet
