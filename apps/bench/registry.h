// `bench NAME [args]`: each benchmark registers itself from its own file in apps/bench/,
// so adding one never touches the others. Benchmarks print "key: value" lines that
// docs/BENCHMARKS.md quotes, and ratios against a peer measured in the same run.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace locdet::bench {

using BenchFn = std::function<int(const std::vector<std::string>& args)>;

struct BenchEntry {
  std::string help;
  BenchFn run;
};

inline std::map<std::string, BenchEntry>& registry() {
  static std::map<std::string, BenchEntry> entries;
  return entries;
}

struct Register {
  Register(const std::string& name, const std::string& help, BenchFn fn) {
    registry()[name] = BenchEntry{help, std::move(fn)};
  }
};

}  // namespace locdet::bench

#define LOCDET_BENCH_CONCAT2(a, b) a##b
#define LOCDET_BENCH_CONCAT(a, b) LOCDET_BENCH_CONCAT2(a, b)
// LOCDET_BENCHMARK("scenes", "scene rendering throughput", run_scene_bench);
#define LOCDET_BENCHMARK(name, help, fn) \
  static ::locdet::bench::Register LOCDET_BENCH_CONCAT(locdet_bench_, __LINE__)(name, help, fn)
