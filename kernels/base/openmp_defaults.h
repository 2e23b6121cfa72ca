// OpenMP's waiting policy for the command-line tools.
//
// libgomp spins after every parallel region and at every barrier (up to GOMP_SPINCOUNT
// iterations). On a small machine shared with other processes a spinning worker burns the
// core its descheduled partner needs: the localizer step measured 2.2-2.8x slower than with
// OMP_WAIT_POLICY=passive (docs/BENCHMARKS.md). libgomp reads its settings once, when it is
// loaded, before main() runs, so the only way for a program to choose them is to set the
// variable and execute itself again.
//
// apply_openmp_defaults(argv), called first thing in main(): when the user set neither
// OMP_WAIT_POLICY nor GOMP_SPINCOUNT, it sets OMP_WAIT_POLICY=passive and re-executes the
// program once (/proc/self/exe, same arguments); the variable is then set, so it cannot
// loop. If exec fails the program runs on with libgomp's default. LOCDET_OMP_DEFAULTS=0
// turns it off (e.g. under valgrind, which does not follow an exec by default). The library
// itself never does this: only the apps opt in, explicitly.
#pragma once

namespace locdet {

void apply_openmp_defaults(char** argv);

}  // namespace locdet
