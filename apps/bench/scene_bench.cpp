// `bench scenes [--device cpu|cuda] [--preset P] [--batch B] [--seconds S]`: scene
// rendering throughput (endless train stream), printing `scenes_per_second: X`.
// CPU: OpenMP over samples (set OMP_NUM_THREADS). CUDA: digits uploaded once, the
// batch rendered into a preallocated device buffer, timed with CUDA events.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/bench/registry.h"
#include "kernels/base/device.h"
#include "kernels/base/error.h"
#include "models/digits/mnist.h"
#include "models/digits/scene.h"
#ifdef LOCDET_WITH_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/scene.h"
#endif

namespace {

using namespace locdet;
using namespace locdet::data;

struct SceneBenchOptions {
  std::string device = "cpu", preset = "inf265-loc";
  int batch = 4096;
  double seconds = 3.0;
};

void add_scene_options(CLI::App& command, SceneBenchOptions& o) {
  command.add_option("--preset", o.preset, "scene preset")->capture_default_str();
  command.add_option("--batch", o.batch, "scenes per rendered batch")
      ->check(::locdet::bench::positive())
      ->capture_default_str();
  command.add_option("--seconds", o.seconds, "how long to render")
      ->check(::locdet::bench::positive())
      ->capture_default_str();
}

int run_scene_bench(const SceneBenchOptions& o) {
  const std::string& device = o.device;
  const int batch = o.batch;
  const double seconds = o.seconds;
  Preset preset = find_preset(o.preset);
  DigitBank bank = DigitBank::from_mnist(load_mnist(default_mnist_dir()));
  SceneSource source(bank, preset, Split::kTrain);
  const Device dev = parse_device(device);
  uint64_t next = 0;
  double elapsed = 0.0;
  int64_t scenes = 0;
  if (dev == Device::kCpu) {
    SceneBatch out;
    render_scenes_cpu(preset, Split::kTrain, 1, source, next, batch, &out, SceneMode::kEndless);  // warm-up
    next += batch;
    auto start = std::chrono::steady_clock::now();
    while (elapsed < seconds) {
      render_scenes_cpu(preset, Split::kTrain, 1, source, next, batch, &out, SceneMode::kEndless);
      next += batch;
      scenes += batch;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  } else {
#ifdef LOCDET_WITH_CUDA
    cuda::DeviceDigits digits;
    digits.upload(bank.pixels.data(), bank.labels.data(), bank.ink_box.data(), bank.count());
    digits.set_pool(source.pool.data(), static_cast<int>(source.pool.size()));
    float* images = nullptr;
    SceneLabel* labels = nullptr;
    CUDA_CHECK(
        cudaMalloc(&images, static_cast<size_t>(batch) * preset.height * preset.width * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&labels, static_cast<size_t>(batch) * sizeof(SceneLabel)));
    const SceneParams params = preset.params(Split::kTrain);
    const SceneKey key = scene_key(1, static_cast<int>(Split::kTrain));
    cudaEvent_t start, stop;
    CUDA_CHECK(cudaEventCreate(&start));
    CUDA_CHECK(cudaEventCreate(&stop));
    cuda::render_scene_batch(params, digits.source(), key, next, nullptr, batch, images, labels, nullptr);
    CUDA_CHECK(cudaDeviceSynchronize());
    int reps = 1;
    for (;;) {  // grow the repetition count until one timed run lasts `seconds`
      CUDA_CHECK(cudaEventRecord(start));
      for (int r = 0; r < reps; ++r, next += batch)
        cuda::render_scene_batch(params, digits.source(), key, next, nullptr, batch, images, labels, nullptr);
      CUDA_CHECK(cudaEventRecord(stop));
      CUDA_CHECK(cudaEventSynchronize(stop));
      float ms = 0.0f;
      CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
      elapsed = ms / 1000.0;
      scenes = static_cast<int64_t>(reps) * batch;
      if (elapsed >= seconds || reps >= (1 << 20)) break;
      reps *= 2;
    }
    CUDA_CHECK(cudaEventDestroy(start));
    CUDA_CHECK(cudaEventDestroy(stop));
    CUDA_CHECK(cudaFree(images));
    CUDA_CHECK(cudaFree(labels));
#else
    fail("bench scenes --device cuda: this build has no CUDA backend (configure with nvcc present)");
#endif
  }
  std::printf("device: %s\npreset: %s\nbatch: %d\nscenes: %lld\nseconds: %.3f\nscenes_per_second: %.0f\n",
              device.c_str(), preset.name.c_str(), batch, static_cast<long long>(scenes), elapsed,
              scenes / elapsed);
  return 0;
}

LOCDET_BENCHMARK("scenes", "scene rendering throughput (endless train stream)", add_scene_options,
                 run_scene_bench);

}  // namespace
