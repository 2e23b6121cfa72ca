// CUDA's execution model on the CPU, for tests: enough of the CUDA runtime API and of the
// device built-ins for our own kernels (kernels/cuda/*.cu) to compile with the host compiler
// and run here, from the very source nvcc compiles (LOCDET_CUDA_EMULATION builds; the shim
// headers in kernels/cuda/emu/include/ forward <cuda_runtime.h> and friends to this file).
//
// What it honours (docs/GPU_VALIDATION.md lists what it cannot show):
//   - a launch runs every block; blocks run in parallel over a pool of CPU threads, the
//     threads of a block as fibers on one of them, switching only at __syncthreads and warp
//     operations, so a barrier is a real barrier and a kernel without one runs straight;
//   - __shared__ memory per block (static: per worker thread, which runs one block at a time;
//     dynamic: LOCDET_DYNAMIC_SHARED, sized by the launch);
//   - 32-thread warps: full-mask shuffles, votes and __syncwarp exchange values between lanes;
//   - the launch limits of sm_90 (threads per block, block and grid dimensions, dynamic shared
//     memory); a launch over a limit fails with the kernel's name, as it would on the GPU;
//   - __syncthreads reached by some threads of a block while others returned, and warp
//     exchanges that read a lane that did not take part, are reported as errors (undefined
//     behaviour on the GPU), as is a deadlock; a watchdog fails a kernel that runs for too long;
//   - device memory is host memory (AddressSanitizer sees out-of-bounds accesses), streams
//     run in order, a copy or synchronization inside a capture fails like on the GPU, and CUDA
//     Graph capture records launches that a graph launch re-issues;
//   - under ThreadSanitizer the fibers are announced, and only barriers, warp exchanges and
//     atomics order the threads of a block, so a missing __syncthreads is reported as a race.
#pragma once

#include <math.h>  // device code calls the C math functions unqualified, as CUDA provides them

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/cuda/emu/runtime_api.h"

// ---- launches ---------------------------------------------------------------------------------

namespace locdet_emu {

// The work of one thread of a launch: the kernel called with the launch's arguments.
using ThreadBody = std::function<void()>;

// Checks the launch against sm_90's limits, then runs it (or, while `stream` captures,
// records it). Errors surface through cudaGetLastError(), as launch errors do.
// `key` identifies the kernel function (its dynamic shared memory limit); `file` is where it
// is launched from (the launch log).
void launch(const char* kernel, const char* file, const void* key, dim3 grid, dim3 block,
            size_t dynamic_shared_bytes, cudaStream_t stream, ThreadBody body);

// Raises a kernel's dynamic shared memory limit (cudaFuncSetAttribute's opt-in).
void set_max_dynamic_shared(const void* kernel, int bytes);

template <class... Params>
class Launcher {
 public:
  Launcher(const char* name, const char* file, void (*kernel)(Params...), dim3 grid, dim3 block,
           size_t shared, cudaStream_t stream)
      : name_(name),
        file_(file),
        kernel_(kernel),
        grid_(grid),
        block_(block),
        shared_(shared),
        stream_(stream) {}
  // Arguments are converted to the parameter types and copied once, as a launch does.
  template <class... Args>
  void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params), "wrong number of kernel arguments");
    auto params = std::make_shared<std::tuple<std::decay_t<Params>...>>(std::forward<Args>(args)...);
    void (*kernel)(Params...) = kernel_;
    launch(name_, file_, reinterpret_cast<const void*>(kernel), grid_, block_, shared_, stream_,
           [kernel, params] { std::apply(kernel, *params); });
  }

 private:
  const char* name_;
  const char* file_;
  void (*kernel_)(Params...);
  dim3 grid_, block_;
  size_t shared_;
  cudaStream_t stream_;
};

// ---- what a running thread sees ---------------------------------------------------------------

const uint3& thread_index();
const uint3& block_index();
const dim3& block_dim();
const dim3& grid_dim();
void* dynamic_shared_memory();

void sync_threads();
int sync_threads_or(int predicate);
void sync_warp(unsigned mask);
// Full-mask warp exchange: every lane of the warp puts `value` in, gets lane `source(lane)`'s out.
uint64_t warp_exchange(unsigned mask, uint64_t value, int mode, int operand, int width);
uint32_t warp_ballot(unsigned mask, int predicate);

enum ShuffleMode { kShflIndex = 0, kShflUp = 1, kShflDown = 2, kShflXor = 3 };

template <class T>
T shuffle(unsigned mask, T value, int mode, int operand, int width) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move values of up to 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  bits = warp_exchange(mask, bits, mode, operand, width);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

}  // namespace locdet_emu

template <class... Params>
cudaError_t cudaFuncSetAttribute(void (*kernel)(Params...), cudaFuncAttribute attribute, int value) {
  if (attribute == cudaFuncAttributeMaxDynamicSharedMemorySize)
    locdet_emu::set_max_dynamic_shared(reinterpret_cast<const void*>(kernel), value);
  return cudaSuccess;
}

// ---- device code ---------------------------------------------------------------------------------

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// One instance per block: a block runs on one worker thread at a time.
#define __shared__ static thread_local

#define threadIdx (::locdet_emu::thread_index())
#define blockIdx (::locdet_emu::block_index())
#define blockDim (::locdet_emu::block_dim())
#define gridDim (::locdet_emu::grid_dim())
constexpr int warpSize = 32;

inline void __syncthreads() {
  locdet_emu::sync_threads();
}
inline int __syncthreads_or(int predicate) {
  return locdet_emu::sync_threads_or(predicate);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  locdet_emu::sync_warp(mask);
}
template <class T>
T __shfl_sync(unsigned mask, T value, int src_lane, int width = 32) {
  return locdet_emu::shuffle(mask, value, locdet_emu::kShflIndex, src_lane, width);
}
template <class T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  return locdet_emu::shuffle(mask, value, locdet_emu::kShflUp, static_cast<int>(delta), width);
}
template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  return locdet_emu::shuffle(mask, value, locdet_emu::kShflDown, static_cast<int>(delta), width);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32) {
  return locdet_emu::shuffle(mask, value, locdet_emu::kShflXor, lane_mask, width);
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  return locdet_emu::warp_ballot(mask, predicate);
}
inline int __any_sync(unsigned mask, int predicate) {
  return locdet_emu::warp_ballot(mask, predicate) != 0;
}
inline int __all_sync(unsigned mask, int predicate) {
  return locdet_emu::warp_ballot(mask, !predicate) == 0;
}

// Atomics: the compiler's, which ThreadSanitizer understands. Float add by compare-and-swap.
template <class T>
T atomicAdd(T* address, T value) {
  if constexpr (std::is_floating_point_v<T>) {
    T old, desired;
    __atomic_load(address, &old, __ATOMIC_RELAXED);
    do {
      desired = old + value;
    } while (!__atomic_compare_exchange(address, &old, &desired, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return old;
  } else {
    return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
  }
}
template <class T>
T atomicSub(T* address, T value) {
  return __atomic_fetch_sub(address, value, __ATOMIC_RELAXED);
}
template <class T>
T atomicOr(T* address, T value) {
  return __atomic_fetch_or(address, value, __ATOMIC_RELAXED);
}
template <class T>
T atomicAnd(T* address, T value) {
  return __atomic_fetch_and(address, value, __ATOMIC_RELAXED);
}
template <class T>
T atomicExch(T* address, T value) {
  return __atomic_exchange_n(address, value, __ATOMIC_RELAXED);
}
template <class T>
T atomicCAS(T* address, T expected, T desired) {
  __atomic_compare_exchange_n(address, &expected, desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return expected;
}
template <class T>
T atomicMax(T* address, T value) {
  T old = __atomic_load_n(address, __ATOMIC_RELAXED);
  while (old < value &&
         !__atomic_compare_exchange_n(address, &old, value, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
template <class T>
T atomicMin(T* address, T value) {
  T old = __atomic_load_n(address, __ATOMIC_RELAXED);
  while (value < old &&
         !__atomic_compare_exchange_n(address, &old, value, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}

// Round-to-nearest arithmetic and bit casts (the host compiles with -ffp-contract=off, so plain
// operators round each operation as these do).
inline float __fadd_rn(float a, float b) {
  return a + b;
}
inline float __fsub_rn(float a, float b) {
  return a - b;
}
inline float __fmul_rn(float a, float b) {
  return a * b;
}
inline float __fdiv_rn(float a, float b) {
  return a / b;
}
inline double __dmul_rn(double a, double b) {
  return a * b;
}
inline unsigned __float_as_uint(float f) {
  unsigned u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}
inline float __uint_as_float(unsigned u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}
inline float rsqrtf(float x) {
  return 1.0f / __builtin_sqrtf(x);
}
// CUDA's min/max for device code (integers of one type, or mixed with a float).
template <class A, class B>
constexpr auto min(A a, B b) -> std::common_type_t<A, B> {
  return b < a ? b : a;
}
template <class A, class B>
constexpr auto max(A a, B b) -> std::common_type_t<A, B> {
  return a < b ? b : a;
}
