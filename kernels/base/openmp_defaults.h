// OpenMP's waiting policy for the command-line tools.
//
// After every parallel region and at every barrier a libgomp worker waits for the next piece of
// work: it spins (up to GOMP_SPINCOUNT iterations), then sleeps on a futex. The right amount of
// spinning depends on the machine (docs/BENCHMARKS.md, "CPU optimizations"):
//   - on a small machine shared with other processes, a spinning worker burns the core its
//     descheduled partner needs: libgomp's default spin made the localizer step 2.2-2.8x
//     slower than OMP_WAIT_POLICY=passive;
//   - on an idle machine, sleeping costs a futex wake per parallel region (a few hundred a
//     step): a short spin (GOMP_SPINCOUNT=30000) made the localizer step 1.2x faster than
//     passive, and was no slower than passive with two busy processes started beside it.
// libgomp reads its settings once, when it is loaded, before main() runs, so the only way for
// a program to choose them is to set the variable and execute itself again.
//
// apply_openmp_defaults(argv), called first thing in main(): when the user set neither
// OMP_WAIT_POLICY nor GOMP_SPINCOUNT, it measures how busy the machine is (/proc/stat over
// 50 ms, less its own threads: the load right now, not the last minute's, which a build or a
// run just finished would still inflate), sets GOMP_SPINCOUNT=30000 on an idle machine or
// OMP_WAIT_POLICY=passive on a busy one (choose_openmp_wait), records why in LOCDET_OMP_WAIT,
// and re-executes the program once (/proc/self/exe, same arguments); a variable is then set,
// so it cannot loop. If exec fails the program runs on with libgomp's default.
// LOCDET_OMP_DEFAULTS=0 turns it off (e.g. under valgrind, which does not follow an exec by
// default). The library itself never does this: only the apps opt in, explicitly.
#pragma once

#include <string>

namespace locdet {

struct OpenmpWait {
  std::string variable;  // "GOMP_SPINCOUNT" or "OMP_WAIT_POLICY"
  std::string value;     // "30000" or "passive"
};

// The policy for a machine with `busy_cores` cores busy (negative: unknown). Idle (less than half a
// core busy) -> a short spin; busy or unknown -> passive.
OpenmpWait choose_openmp_wait(double busy_cores);

void apply_openmp_defaults(char** argv);

// How this process's OpenMP workers wait, for the programs' start-up lines: "spin 30000
// (0.03 cores busy at start)", "passive (1.98 cores busy at start)", "OMP_WAIT_POLICY=active (yours)",
// or "libgomp default" when nothing chose one.
std::string openmp_wait_summary();

}  // namespace locdet
