// bench: `bench` lists the benchmarks; `bench NAME [options]` runs one; `bench NAME --help`
// prints its options. Each benchmark lives in apps/bench/ and registers itself (registry.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "apps/bench/registry.h"
#include "kernels/base/device.h"
#include "kernels/base/error.h"
#include "kernels/base/openmp_defaults.h"

namespace locdet::bench {

void require_device(const std::string& bench, const std::string& device) {
  if (device != "cuda" && device != "all") return;
  if (!cuda_built())
    fail(
        "bench ", bench, " --device ", device,
        ": this build has no CUDA backend (configure with nvcc present, -DLOCDET_CUDA=ON); use --device cpu");
  if (!cuda_available())
    fail("bench ", bench, " --device ", device, ": ", cuda_device_summary(), "; use --device cpu");
}

}  // namespace locdet::bench

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  const auto& entries = locdet::bench::registry();
  std::string names;
  for (const auto& [name, entry] : entries) names += (names.empty() ? "" : ", ") + name;
  // A first word that is no option and no benchmark: say so before CLI11 calls it an extra argument.
  if (argc > 1 && argv[1][0] != '-' && entries.count(argv[1]) == 0) {
    std::fprintf(stderr,
                 "bench: unknown benchmark '%s'; the benchmarks are: %s (bench --help describes them)\n",
                 argv[1], names.c_str());
    return 2;
  }
  CLI::App app{
      "Benchmarks of locdet's kernels and training steps; `bench NAME --help` lists a benchmark's options"};
  app.require_subcommand(0, 1);
  std::map<std::string, std::function<int()>> runs;
  for (const auto& [name, entry] : entries) runs[name] = entry.define(*app.add_subcommand(name, entry.help));
  CLI11_PARSE(app, argc, argv);
  if (app.get_subcommands().empty()) {
    std::printf("%s", app.help().c_str());
    return 0;
  }
  const std::string name = app.get_subcommands().front()->get_name();
  try {
    return runs.at(name)();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench %s: error: %s\n", name.c_str(), e.what());
    return 1;
  }
}
