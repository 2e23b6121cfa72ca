// bench: `bench` lists the benchmarks; `bench NAME [args...]` runs one.
#include <cstdio>
#include <exception>

#include "apps/bench/registry.h"
#include "kernels/base/openmp_defaults.h"

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  auto& entries = locdet::bench::registry();
  if (argc < 2 || entries.find(argv[1]) == entries.end()) {
    std::fprintf(stderr, "usage: bench NAME [args...]\nbenchmarks:\n");
    for (const auto& [name, entry] : entries)
      std::fprintf(stderr, "  %-12s %s\n", name.c_str(), entry.help.c_str());
    return argc < 2 ? 0 : 2;
  }
  try {
    return entries[argv[1]].run(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench %s: error: %s\n", argv[1], e.what());
    return 1;
  }
}
