// bench ops [--device cpu|cuda|all] [--batch B] [--reps R]: per-op timings of the layer kernels
// at the small-CNN training sizes (48x60 input, channels 1->16->32->64, 3x3 convs, 2x2 pools).
// Prints "op: ms" lines (median of R runs after one warm-up). CUDA timings use events on the
// context's stream, without an L2 flush (these tensors are the size a training step touches).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "apps/bench/registry.h"
#include "kernels/base/device.h"
#include "kernels/base/error.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/pool.h"
#ifdef LOCDET_WITH_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/pool.h"
#endif

namespace locdet {
namespace {

struct ConvLayer {
  const char* name;
  Conv2dDims dims;
};

std::vector<ConvLayer> conv_layers(int batch) {
  return {{"conv1_1to16_48x60", {batch, 1, 48, 60, 16, 3, 3, 1, 1}},
          {"conv2_16to32_24x30", {batch, 16, 24, 30, 32, 3, 3, 1, 1}},
          {"conv3_32to64_12x15", {batch, 32, 12, 15, 64, 3, 3, 1, 1}},
          {"conv_16to32_48x60", {batch, 16, 48, 60, 32, 3, 3, 1, 1}}};
}

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

double median_ms(int reps, const std::function<void()>& fn) {
  fn();  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void report(const char* device, const std::string& op, double ms) {
  std::printf("%s %s: %.3f ms\n", device, op.c_str(), ms);
  std::fflush(stdout);
}

void bench_cpu(int batch, int reps) {
  for (const auto& layer : conv_layers(batch)) {
    const Conv2dDims& d = layer.dims;
    const size_t xs = size_t(d.n) * d.c * d.h * d.w, ys = size_t(d.n) * d.k * d.out_h() * d.out_w();
    auto x = random_floats(xs, 1), w = random_floats(size_t(d.k) * d.c * d.r * d.s, 2),
         b = random_floats(d.k, 3), dy = random_floats(ys, 4);
    std::vector<float> y(ys), dx(xs), dw(w.size()), db(d.k), work(cpu::conv2d_workspace_elems(d));
    const std::string name = layer.name;
    report("cpu", name + " fwd", median_ms(reps, [&] {
             cpu::conv2d_forward(d, x.data(), w.data(), b.data(), y.data(), work.data());
           }));
    report("cpu", name + " bwd_data", median_ms(reps, [&] {
             cpu::conv2d_backward_data(d, dy.data(), w.data(), dx.data(), work.data());
           }));
    report("cpu", name + " bwd_filter", median_ms(reps, [&] {
             cpu::conv2d_backward_filter(d, x.data(), dy.data(), dw.data(), db.data(), work.data());
           }));
  }
  {
    BatchNormDims d{batch, 16, 48 * 60};
    const size_t size = size_t(d.n) * d.c * d.hw;
    auto x = random_floats(size, 5), dy = random_floats(size, 6);
    std::vector<float> y(size), dx(size), g(d.c, 1.0f), bt(d.c, 0.0f), mean(d.c), inv(d.c), rm(d.c, 0.0f),
        rv(d.c, 1.0f), dg(d.c), dbt(d.c);
    report("cpu", "bn_16x48x60 fwd_train", median_ms(reps, [&] {
             cpu::batchnorm_forward_train(d, x.data(), g.data(), bt.data(), y.data(), mean.data(), inv.data(),
                                          rm.data(), rv.data(), 0.1f, 1e-5f);
           }));
    report("cpu", "bn_16x48x60 bwd", median_ms(reps, [&] {
             cpu::batchnorm_backward(d, x.data(), dy.data(), g.data(), mean.data(), inv.data(), dx.data(),
                                     dg.data(), dbt.data());
           }));
  }
  {
    Pool2dDims d{batch, 16, 48, 60, 2, 2, 0};
    const size_t xs = size_t(d.n) * d.c * d.h * d.w, ys = size_t(d.n) * d.c * d.out_h() * d.out_w();
    auto x = random_floats(xs, 7), dy = random_floats(ys, 8);
    std::vector<float> y(ys), dx(xs);
    std::vector<int32_t> arg(ys);
    report("cpu", "maxpool2x2_16x48x60 fwd",
           median_ms(reps, [&] { cpu::maxpool2d_forward(d, x.data(), y.data(), arg.data()); }));
    report("cpu", "maxpool2x2_16x48x60 bwd",
           median_ms(reps, [&] { cpu::maxpool2d_backward(d, dy.data(), arg.data(), dx.data()); }));
  }
  {
    const int m = batch, k = 64 * 12 * 15, n = 64;
    auto x = random_floats(size_t(m) * k, 9), w = random_floats(size_t(n) * k, 10), b = random_floats(n, 11),
         dy = random_floats(size_t(m) * n, 12);
    std::vector<float> y(size_t(m) * n), dx(x.size()), dw(w.size()), db(n);
    report("cpu", "linear_11520to64 fwd",
           median_ms(reps, [&] { cpu::linear_forward(m, k, n, x.data(), w.data(), b.data(), y.data()); }));
    report("cpu", "linear_11520to64 bwd", median_ms(reps, [&] {
             cpu::linear_backward(m, k, n, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
           }));
  }
}

#ifdef LOCDET_WITH_CUDA
template <class T>
T* device_copy(const std::vector<T>& host) {
  T* p = nullptr;
  CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(host.size(), 1) * sizeof(T)));
  CUDA_CHECK(cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return p;
}
template <class T>
T* device_alloc(size_t n) {
  T* p = nullptr;
  CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T)));
  return p;
}

double median_ms_cuda(int reps, cudaStream_t stream, const std::function<void()>& fn) {
  cudaEvent_t start, stop;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  fn();
  CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    CUDA_CHECK(cudaEventRecord(start, stream));
    fn();
    CUDA_CHECK(cudaEventRecord(stop, stream));
    CUDA_CHECK(cudaEventSynchronize(stop));
    float t = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
    ms.push_back(t);
  }
  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void bench_cuda(int batch, int reps) {
  cuda::CudaContextOwner owner;
  const cuda::CudaContext& ctx = owner.get();
  std::vector<void*> to_free;
  auto track = [&](auto* p) {
    to_free.push_back(p);
    return p;
  };
  for (const auto& layer : conv_layers(batch)) {
    const Conv2dDims& d = layer.dims;
    const size_t xs = size_t(d.n) * d.c * d.h * d.w, ys = size_t(d.n) * d.k * d.out_h() * d.out_w();
    cuda::CudnnConv2d conv(d, ctx);
    float* x = track(device_copy(random_floats(xs, 1)));
    float* w = track(device_copy(random_floats(size_t(d.k) * d.c * d.r * d.s, 2)));
    float* b = track(device_copy(random_floats(d.k, 3)));
    float* dy = track(device_copy(random_floats(ys, 4)));
    float* y = track(device_alloc<float>(ys));
    float* dx = track(device_alloc<float>(xs));
    float* dw = track(device_alloc<float>(size_t(d.k) * d.c * d.r * d.s));
    float* db = track(device_alloc<float>(d.k));
    char* work = track(device_alloc<char>(conv.workspace_bytes()));
    const std::string name = layer.name;
    std::printf("cuda %s algos: fwd %d bwd_data %d bwd_filter %d workspace %zu bytes\n", layer.name,
                conv.forward_algo(), conv.backward_data_algo(), conv.backward_filter_algo(),
                conv.workspace_bytes());
    report("cuda", name + " fwd",
           median_ms_cuda(reps, ctx.stream, [&] { conv.forward(ctx, x, w, b, y, work); }));
    report("cuda", name + " bwd_data",
           median_ms_cuda(reps, ctx.stream, [&] { conv.backward_data(ctx, dy, w, dx, work); }));
    report("cuda", name + " bwd_filter",
           median_ms_cuda(reps, ctx.stream, [&] { conv.backward_filter(ctx, x, dy, dw, db, work); }));
  }
  {
    BatchNormDims d{batch, 16, 48 * 60};
    const size_t size = size_t(d.n) * d.c * d.hw;
    float* x = track(device_copy(random_floats(size, 5)));
    float* dy = track(device_copy(random_floats(size, 6)));
    float* y = track(device_alloc<float>(size));
    float* dx = track(device_alloc<float>(size));
    float* g = track(device_copy(std::vector<float>(d.c, 1.0f)));
    float* bt = track(device_copy(std::vector<float>(d.c, 0.0f)));
    float* stats = track(device_copy(std::vector<float>(6 * d.c, 1.0f)));
    report("cuda", "bn_16x48x60 fwd_train", median_ms_cuda(reps, ctx.stream, [&] {
             cuda::batchnorm_forward_train(d, x, g, bt, y, stats, stats + d.c, stats + 2 * d.c,
                                           stats + 3 * d.c, 0.1f, 1e-5f, ctx.stream);
           }));
    report("cuda", "bn_16x48x60 bwd", median_ms_cuda(reps, ctx.stream, [&] {
             cuda::batchnorm_backward(d, x, dy, g, stats, stats + d.c, dx, stats + 4 * d.c, stats + 5 * d.c,
                                      ctx.stream);
           }));
  }
  {
    Pool2dDims d{batch, 16, 48, 60, 2, 2, 0};
    const size_t xs = size_t(d.n) * d.c * d.h * d.w, ys = size_t(d.n) * d.c * d.out_h() * d.out_w();
    float* x = track(device_copy(random_floats(xs, 7)));
    float* dy = track(device_copy(random_floats(ys, 8)));
    float* y = track(device_alloc<float>(ys));
    float* dx = track(device_alloc<float>(xs));
    int32_t* arg = track(device_alloc<int32_t>(ys));
    report("cuda", "maxpool2x2_16x48x60 fwd",
           median_ms_cuda(reps, ctx.stream, [&] { cuda::maxpool2d_forward(d, x, y, arg, ctx.stream); }));
    report("cuda", "maxpool2x2_16x48x60 bwd",
           median_ms_cuda(reps, ctx.stream, [&] { cuda::maxpool2d_backward(d, dy, arg, dx, ctx.stream); }));
  }
  {
    const int m = batch, k = 64 * 12 * 15, n = 64;
    float* x = track(device_copy(random_floats(size_t(m) * k, 9)));
    float* w = track(device_copy(random_floats(size_t(n) * k, 10)));
    float* b = track(device_copy(random_floats(n, 11)));
    float* dy = track(device_copy(random_floats(size_t(m) * n, 12)));
    float* y = track(device_alloc<float>(size_t(m) * n));
    float* dx = track(device_alloc<float>(size_t(m) * k));
    float* dw = track(device_alloc<float>(size_t(n) * k));
    float* db = track(device_alloc<float>(n));
    report("cuda", "linear_11520to64 fwd",
           median_ms_cuda(reps, ctx.stream, [&] { cuda::linear_forward(m, k, n, x, w, b, y, ctx); }));
    report("cuda", "linear_11520to64 bwd", median_ms_cuda(reps, ctx.stream, [&] {
             cuda::linear_backward(m, k, n, x, w, dy, dx, dw, db, ctx);
           }));
  }
  CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  for (void* p : to_free) cudaFree(p);
}
#endif

struct OpsBenchOptions {
  std::string device = "cpu";
  int batch = 64, reps = 5;
};

void add_ops_options(CLI::App& command, OpsBenchOptions& o) {
  command.add_option("--batch", o.batch, "batch of the layer sizes")
      ->check(bench::positive())
      ->capture_default_str();
  command.add_option("--reps", o.reps, "timed runs per op (the median is printed)")
      ->check(bench::positive())
      ->capture_default_str();
}

int run_ops_bench(const OpsBenchOptions& o) {
  const std::string& device = o.device;
  const int batch = o.batch, reps = o.reps;
  std::printf("batch: %d\nreps: %d\n", batch, reps);
  if (device == "cpu" || device == "all") bench_cpu(batch, reps);
  if (device == "cuda" || device == "all") {
#ifdef LOCDET_WITH_CUDA
    bench_cuda(batch, reps);
#else
    fail("bench ops --device cuda: this build has no CUDA backend (configure with -DLOCDET_CUDA=ON)");
#endif
  }
  return 0;
}

}  // namespace

LOCDET_BENCHMARK("ops", "per-op layer kernel timings (conv, bn, pool, linear) on cpu, cuda or all",
                 add_ops_options, run_ops_bench, {"cpu", "cuda", "all"});

}  // namespace locdet
