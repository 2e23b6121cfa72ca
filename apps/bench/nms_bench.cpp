// `bench nms [--device cpu|cuda] [--images 256] [--candidates 1000] [--classes 1] [--iters 20]`:
// batched class-aware NMS throughput on random boxes (score threshold 0.05, IoU 0.5, top-k =
// candidates, max_det 100). Prints images_per_second, ms per batch, and kept_score_sum (the sum of
// the kept scores: tools/torch_twin.py bench-nms draws the same boxes and must print the same).
// CUDA timing uses events around iters back-to-back launches after a warm-up; CPU: wall clock.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "apps/bench/registry.h"
#include "kernels/base/error.h"
#include "kernels/cpu/nms.h"
#ifdef LOCDET_WITH_CUDA
#include <cuda_runtime_api.h>

#include "kernels/cuda/nms.h"
#endif

namespace {

struct NmsBenchOptions {
  std::string device = "cpu";
  int images = 256, candidates = 1000, classes = 1, iters = 20;
};

void add_nms_options(CLI::App& command, NmsBenchOptions& o) {
  command.add_option("--images", o.images, "images per batch")
      ->check(::locdet::bench::positive())
      ->capture_default_str();
  command.add_option("--candidates", o.candidates, "boxes per image (pre-NMS top-k = all of them)")
      ->check(::locdet::bench::positive())
      ->capture_default_str();
  command.add_option("--classes", o.classes, "score columns per box")
      ->check(::locdet::bench::positive())
      ->capture_default_str();
  command.add_option("--iters", o.iters, "timed batches")
      ->check(::locdet::bench::positive())
      ->capture_default_str();
}

int run_nms_bench(const NmsBenchOptions& o) {
  const std::string& device = o.device;
  const int images = o.images, candidates = o.candidates, classes = o.classes, iters = o.iters;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> boxes(static_cast<size_t>(images) * candidates * 4),
      scores(static_cast<size_t>(images) * candidates * classes);
  for (size_t i = 0; i < boxes.size() / 4; ++i) {
    float x = u(rng) * 50, y = u(rng) * 40, w = 4 + u(rng) * 12, h = 4 + u(rng) * 12;
    boxes[4 * i] = x, boxes[4 * i + 1] = y, boxes[4 * i + 2] = x + w, boxes[4 * i + 3] = y + h;
  }
  for (auto& s : scores) s = u(rng);
  locdet::NmsParams p;
  p.pre_nms_topk = candidates * classes;
  p.max_det = 100;
  std::vector<float> ob(static_cast<size_t>(images) * p.max_det * 4),
      os(static_cast<size_t>(images) * p.max_det);
  std::vector<int32_t> oc(os.size()), on(images);
  double ms = 0;
  if (device == "cpu") {
    std::vector<char> ws(locdet::cpu::nms_workspace_bytes(candidates, classes, p));
    auto once = [&]() {
      locdet::cpu::batched_nms<float>(images, candidates, classes, boxes.data(), scores.data(), p, ob.data(),
                                      os.data(), oc.data(), on.data(), ws.data());
    };
    once();
    auto t0 = std::chrono::steady_clock::now();
    for (int it = 0; it < iters; ++it) once();
    ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / iters;
  } else {
#ifdef LOCDET_WITH_CUDA
    auto check = [](cudaError_t e, const char* what) {
      if (e != cudaSuccess) locdet::fail("bench nms: ", what, ": ", cudaGetErrorString(e));
    };
    float *d_boxes, *d_scores, *d_ob, *d_os;
    int32_t *d_oc, *d_on;
    void* d_ws;
    const size_t ws_bytes = locdet::cuda::nms_workspace_bytes(images, candidates, classes, p);
    check(cudaMalloc(reinterpret_cast<void**>(&d_boxes), boxes.size() * 4), "cudaMalloc");
    check(cudaMalloc(reinterpret_cast<void**>(&d_scores), scores.size() * 4), "cudaMalloc");
    check(cudaMalloc(reinterpret_cast<void**>(&d_ob), ob.size() * 4), "cudaMalloc");
    check(cudaMalloc(reinterpret_cast<void**>(&d_os), os.size() * 4), "cudaMalloc");
    check(cudaMalloc(reinterpret_cast<void**>(&d_oc), oc.size() * 4), "cudaMalloc");
    check(cudaMalloc(reinterpret_cast<void**>(&d_on), on.size() * 4), "cudaMalloc");
    check(cudaMalloc(&d_ws, ws_bytes), "cudaMalloc");
    check(cudaMemcpy(d_boxes, boxes.data(), boxes.size() * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemcpy(d_scores, scores.data(), scores.size() * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
    auto once = [&]() {
      locdet::cuda::batched_nms(images, candidates, classes, d_boxes, d_scores, p, d_ob, d_os, d_oc, d_on,
                                d_ws, ws_bytes, nullptr);
    };
    once();
    check(cudaDeviceSynchronize(), "warm-up");
    cudaEvent_t start, stop;
    check(cudaEventCreate(&start), "event");
    check(cudaEventCreate(&stop), "event");
    check(cudaEventRecord(start, nullptr), "event");
    for (int it = 0; it < iters; ++it) once();
    check(cudaEventRecord(stop, nullptr), "event");
    check(cudaEventSynchronize(stop), "event");
    float total = 0;
    check(cudaEventElapsedTime(&total, start, stop), "event");
    ms = total / iters;
    check(cudaMemcpy(on.data(), d_on, on.size() * 4, cudaMemcpyDeviceToHost), "cudaMemcpy");
    check(cudaMemcpy(os.data(), d_os, os.size() * 4, cudaMemcpyDeviceToHost), "cudaMemcpy");
    for (void* q : {static_cast<void*>(d_boxes), static_cast<void*>(d_scores), static_cast<void*>(d_ob),
                    static_cast<void*>(d_os), static_cast<void*>(d_oc), static_cast<void*>(d_on), d_ws})
      cudaFree(q);
#else
    locdet::fail(
        "bench nms: this build has no CUDA backend; rebuild with -DLOCDET_CUDA=ON or use --device cpu");
#endif
  }
  // kept_score_sum identifies the kept set (tools/torch_twin.py bench-nms must print the same).
  long kept = 0;
  double kept_score_sum = 0;
  for (int b = 0; b < images; ++b) {
    kept += on[b];
    for (int k = 0; k < on[b]; ++k) kept_score_sum += os[static_cast<size_t>(b) * p.max_det + k];
  }
  std::printf(
      "device: %s\nimages: %d\ncandidates: %d\nclasses: %d\nmean_kept: %.2f\nkept_score_sum: %.4f\nms: %.4f\n"
      "images_per_second: %.1f\n",
      device.c_str(), images, candidates, classes, static_cast<double>(kept) / images, kept_score_sum, ms,
      images / (ms / 1000.0));
  return 0;
}

}  // namespace

LOCDET_BENCHMARK("nms", "batched class-aware NMS throughput on random boxes", add_nms_options, run_nms_bench);
