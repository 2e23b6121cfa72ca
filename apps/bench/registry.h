// `bench NAME [options]`: each benchmark registers itself from its own file in apps/bench/,
// so adding one never touches the others. A benchmark is an options struct (with a `device`
// member), a function that declares its other options on the benchmark's CLI11 subcommand, and
// a function that runs it; the registry adds `--device` and refuses a device this machine cannot
// run before the benchmark starts. Benchmarks print "key: value" lines that docs/BENCHMARKS.md
// quotes, and ratios against a peer measured in the same run.
#pragma once

#include <CLI/CLI.hpp>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace locdet::bench {

struct BenchEntry {
  std::string help;
  // Declares the benchmark's options on `command` and returns what runs it once they are parsed.
  std::function<std::function<int()>(CLI::App& command)> define;
};

inline std::map<std::string, BenchEntry>& registry() {
  static std::map<std::string, BenchEntry> entries;
  return entries;
}

// Throws unless `device` ("cpu", "cuda" or "all") can run here, with what to do instead:
// "bench nms --device cuda: no usable GPU: ...; use --device cpu". Defined in apps/bench.cpp.
void require_device(const std::string& bench, const std::string& device);

// For counts and durations: "--images: must be a positive number, got 'x'".
inline CLI::Validator positive() {
  return CLI::Validator(
      [](std::string& text) {
        try {
          size_t used = 0;
          if (std::stod(text, &used) > 0 && used == text.size()) return std::string();
        } catch (const std::exception&) {
        }
        return "must be a positive number, got '" + text + "'";
      },
      "POSITIVE");
}

// Adds --device and the benchmark's own options to `command`; the returned function checks the
// device, then runs the benchmark.
template <typename Options>
std::function<int()> define_benchmark(CLI::App& command, const std::string& name,
                                      void (*add_options)(CLI::App&, Options&), int (*run)(const Options&),
                                      const std::vector<std::string>& devices) {
  auto options = std::make_shared<Options>();
  command.add_option("--device", options->device, "where to run it")
      ->check(CLI::IsMember(devices))
      ->capture_default_str();
  add_options(command, *options);
  return [=] {
    require_device(name, options->device);
    return run(*options);
  };
}

template <typename Options>
struct Register {
  Register(const std::string& name, const std::string& help, void (*add_options)(CLI::App&, Options&),
           int (*run)(const Options&), std::vector<std::string> devices = {"cpu", "cuda"}) {
    registry()[name] = BenchEntry{
        help, [=](CLI::App& command) { return define_benchmark(command, name, add_options, run, devices); }};
  }
};

}  // namespace locdet::bench

#define LOCDET_BENCH_CONCAT2(a, b) a##b
#define LOCDET_BENCH_CONCAT(a, b) LOCDET_BENCH_CONCAT2(a, b)
// LOCDET_BENCHMARK("scenes", "scene rendering throughput", add_scene_options, run_scene_bench);
// An optional fifth argument lists the accepted --device values (default cpu, cuda).
#define LOCDET_BENCHMARK(name, help, ...) \
  static ::locdet::bench::Register LOCDET_BENCH_CONCAT(locdet_bench_, __LINE__)(name, help, __VA_ARGS__)
