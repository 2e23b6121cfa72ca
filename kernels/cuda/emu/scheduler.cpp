// Runs a kernel launch on the CPU (kernels/cuda/emu/runtime.h): blocks in parallel over a pool
// of worker threads, the threads of a block as fibers (Boost.Context) on one worker, switching
// only where CUDA threads meet (__syncthreads, warp exchanges). A thread that never meets
// another runs start to finish without a switch.
//
// Sanitizers: ThreadSanitizer is told about every fiber and about the only orderings CUDA
// promises inside a block (a barrier, a warp exchange; atomics it sees itself), so a missing
// __syncthreads is a reported race. AddressSanitizer is told about every stack switch.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/context/fiber.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cuda/emu/emu_internal.h"
#include "kernels/cuda/emu/runtime.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LOCDET_EMU_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define LOCDET_EMU_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define LOCDET_EMU_TSAN 1
#endif
#if defined(__SANITIZE_ADDRESS__)
#define LOCDET_EMU_ASAN 1
#endif
#ifdef LOCDET_EMU_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#ifdef LOCDET_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace locdet_emu {
namespace {

namespace ctx = boost::context;

constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr unsigned kMaxBlockDim[3] = {1024, 1024, 64};
constexpr unsigned kMaxGridDim[3] = {2147483647u, 65535u, 65535u};
constexpr size_t kDefaultDynamicShared = 48 * 1024;
constexpr size_t kMaxDynamicSharedOptIn = 227 * 1024;
constexpr unsigned kFullMask = 0xffffffffu;

// ---- fiber stacks ---------------------------------------------------------------------------

size_t stack_bytes() {
  static const size_t bytes = [] {
    const char* kb = std::getenv("LOCDET_EMU_STACK_KB");
#if defined(LOCDET_EMU_TSAN) || defined(LOCDET_EMU_ASAN)
    size_t value = 512;
#else
    size_t value = 128;
#endif
    if (kb && std::atol(kb) > 0) value = static_cast<size_t>(std::atol(kb));
    return value * 1024;
  }();
  return bytes;
}

// One mmap'd stack with a guard page below it (an overflow faults instead of corrupting).
struct Stack {
  void* base = nullptr;  // the guard page
  size_t size = 0;       // usable bytes above the guard page
  Stack() {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size = stack_bytes();
    base = mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                0);
    if (base == MAP_FAILED) {
      std::fprintf(stderr, "CUDA emulation: cannot map a %zu KiB fiber stack\n", size / 1024);
      std::abort();
    }
    mprotect(base, page, PROT_NONE);
    bottom = static_cast<char*>(base) + page;
  }
  ~Stack() { munmap(base, size + static_cast<size_t>(sysconf(_SC_PAGESIZE))); }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  char* bottom = nullptr;
};

// Hands Boost.Context a stack we own and reuse.
struct BorrowedStack {
  Stack* stack;
  ctx::stack_context allocate() {
    ctx::stack_context sc;
    sc.size = stack->size;
    sc.sp = stack->bottom + stack->size;
    return sc;
  }
  void deallocate(ctx::stack_context&) noexcept {}
};

// ---- the block being run ----------------------------------------------------------------------

enum class State { kReady, kBlockBarrier, kWarpOp, kDone };

// What the block loop and a thread's fiber both touch is atomic (relaxed): ThreadSanitizer
// must see no ordering between fibers but the ones CUDA promises, and no race on the
// emulator's own bookkeeping either.
template <class T>
struct Shared {
  std::atomic<T> v;
  Shared(T x = T{}) : v(x) {}
  Shared(const Shared& o) : v(o.v.load(std::memory_order_relaxed)) {}
  Shared& operator=(T x) {
    v.store(x, std::memory_order_relaxed);
    return *this;
  }
  operator T() const { return v.load(std::memory_order_relaxed); }
};

struct EmuThread {
  uint3 idx{};
  int linear = 0, warp = 0, lane = 0;
  Shared<State> state{State::kReady};
  bool started = false;
  ctx::fiber fiber;
  // A barrier or warp operation in flight.
  Shared<int> predicate, result;
  Shared<unsigned> mask{kFullMask};
  Shared<int> mode, operand, width{32};
  Shared<bool> ballot;
  Shared<uint64_t> in, out;
#ifdef LOCDET_EMU_TSAN
  void* tsan_fiber = nullptr;
#endif
};

struct Launch {
  const char* kernel = "";
  dim3 grid, block;
  size_t shared = 0;
  const ThreadBody* body = nullptr;
};

struct Worker {
  std::vector<std::unique_ptr<Stack>> stacks;
  std::vector<EmuThread> threads;
  std::vector<unsigned char> shared;  // dynamic shared memory of the running block
  ctx::fiber scheduler;               // resumes the worker's block loop from a thread
  Shared<EmuThread*> current{nullptr};
  const Launch* launch = nullptr;
  uint3 block_idx{};
  std::mutex error_mutex;
  std::string error;  // the first error of the running block (under error_mutex)
  bool failed() {
    std::lock_guard<std::mutex> lock(error_mutex);
    return !error.empty();
  }
  // Objects ThreadSanitizer orders on (their addresses only).
  char block_start = 0, block_end = 0, barrier = 0;
  std::vector<char> warp_sync;
#ifdef LOCDET_EMU_TSAN
  void* tsan_scheduler = nullptr;
#endif
#ifdef LOCDET_EMU_ASAN
  const void* asan_bottom = nullptr;  // the worker's own stack, for switches back to it
  size_t asan_size = 0;
#endif
  ~Worker() {
#ifdef LOCDET_EMU_TSAN
    for (EmuThread& t : threads)
      if (t.tsan_fiber) __tsan_destroy_fiber(t.tsan_fiber);
#endif
  }
};

thread_local Worker* g_worker = nullptr;

Worker& worker() {
  thread_local Worker w;
  if (!g_worker) {
    g_worker = &w;
#ifdef LOCDET_EMU_TSAN
    w.tsan_scheduler = __tsan_get_current_fiber();
#endif
  }
  return w;
}

EmuThread& self() {
  if (!g_worker || !static_cast<EmuThread*>(g_worker->current)) {
    std::fprintf(stderr, "CUDA emulation: a device built-in was called outside a kernel\n");
    std::abort();
  }
  return *static_cast<EmuThread*>(g_worker->current);
}

// ---- switching --------------------------------------------------------------------------------

// Leaves the running thread for the block loop; returns when the loop resumes it.
void yield_to_scheduler() {
  Worker& w = *g_worker;
  EmuThread* t = w.current;
#ifdef LOCDET_EMU_TSAN
  __tsan_switch_to_fiber(w.tsan_scheduler, __tsan_switch_to_fiber_no_sync);
#endif
#ifdef LOCDET_EMU_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, w.asan_bottom, w.asan_size);
#endif
  w.scheduler = std::move(w.scheduler).resume();
#ifdef LOCDET_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
  w.current = t;
}

void fail_block(const std::string& message) {
  Worker& w = *g_worker;
  std::lock_guard<std::mutex> lock(w.error_mutex);
  if (w.error.empty()) w.error = message;
}

std::string where(const Worker& w) {
  std::ostringstream out;
  out << "kernel '" << w.launch->kernel << "' block (" << w.block_idx.x << "," << w.block_idx.y << ","
      << w.block_idx.z << ")";
  return out.str();
}

void start_thread(Worker& w, EmuThread& t, Stack& stack) {
  t.started = true;
  const ThreadBody& body = *w.launch->body;
  t.fiber = ctx::fiber(std::allocator_arg, BorrowedStack{&stack}, [&w, &t, &body](ctx::fiber&& scheduler) {
#ifdef LOCDET_EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &w.asan_bottom, &w.asan_size);
#endif
    w.scheduler = std::move(scheduler);
    w.current = &t;
#ifdef LOCDET_EMU_TSAN
    __tsan_acquire(&w.block_start);
#endif
    try {
      body();
    } catch (const ctx::detail::forced_unwind&) {
      throw;  // the block is being torn down after an error: let Boost unwind the stack
    } catch (const std::exception& e) {
      fail_block(where(w) + " thread (" + std::to_string(t.idx.x) + "," + std::to_string(t.idx.y) + "," +
                 std::to_string(t.idx.z) + ") threw: " + e.what());
    }
    t.state = State::kDone;
#ifdef LOCDET_EMU_TSAN
    __tsan_release(&w.block_end);
    __tsan_switch_to_fiber(w.tsan_scheduler, __tsan_switch_to_fiber_no_sync);
#endif
#ifdef LOCDET_EMU_ASAN
    __sanitizer_start_switch_fiber(nullptr, w.asan_bottom, w.asan_size);  // this stack is done
#endif
    return std::move(w.scheduler);
  });
}

void resume(Worker& w, EmuThread& t) {
  w.current = &t;
#ifdef LOCDET_EMU_TSAN
  __tsan_switch_to_fiber(t.tsan_fiber, __tsan_switch_to_fiber_no_sync);
#endif
#ifdef LOCDET_EMU_ASAN
  void* fake = nullptr;
  Stack& stack = *w.stacks[static_cast<size_t>(t.linear)];
  __sanitizer_start_switch_fiber(&fake, stack.bottom, stack.size);
#endif
  t.fiber = std::move(t.fiber).resume();
#ifdef LOCDET_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
  w.current = nullptr;
}

// ---- releasing threads that wait for each other ------------------------------------------------

std::string thread_ranges(const std::vector<EmuThread>& threads, State state) {
  std::ostringstream out;
  int first = -1, count = 0;
  for (size_t i = 0; i <= threads.size(); ++i) {
    const bool in = i < threads.size() && threads[i].state == state;
    if (in && first < 0) first = static_cast<int>(i);
    if (!in && first >= 0) {
      out << (count++ ? ", " : "") << first;
      if (static_cast<int>(i) - 1 > first) out << "-" << i - 1;
      first = -1;
    }
  }
  return count ? out.str() : "none";
}

// All live threads at __syncthreads: release them (OR of their predicates). A thread that
// returned while others wait at the barrier is undefined behaviour on the GPU: an error here.
bool release_block_barrier(Worker& w) {
  bool any_waiting = false, any_done = false;
  int predicate = 0;
  for (EmuThread& t : w.threads) {
    if (t.state == State::kReady || t.state == State::kWarpOp) return false;
    any_waiting |= t.state == State::kBlockBarrier;
    any_done |= t.state == State::kDone;
    if (t.state == State::kBlockBarrier) predicate |= t.predicate != 0;
  }
  if (!any_waiting) return false;
  if (any_done) {
    fail_block(where(w) + ": threads " + thread_ranges(w.threads, State::kBlockBarrier) +
               " wait at __syncthreads while threads " + thread_ranges(w.threads, State::kDone) +
               " have returned (undefined behaviour on the GPU: every thread of the block must reach it)");
    return false;
  }
  for (EmuThread& t : w.threads) {
    t.result = predicate;
    t.state = State::kReady;
  }
  return true;
}

int source_lane(const EmuThread& t) {
  const int lane = t.lane, width = t.width, base = lane & ~(width - 1), operand = t.operand;
  switch (static_cast<int>(t.mode)) {
    case kShflIndex:
      return base + (operand & (width - 1));
    case kShflUp:
      return (lane - base) >= operand ? lane - operand : lane;
    case kShflDown:
      return (lane - base) + operand < width ? lane + operand : lane;
    default: {
      const int src = lane ^ operand;
      return (src & ~(width - 1)) == base ? src : lane;
    }
  }
}

// All live lanes of warp `warp` at a warp operation: compute every lane's result and release
// them. Returns whether it released.
bool release_warp(Worker& w, int warp) {
  const size_t first = static_cast<size_t>(warp) * 32, last = std::min(first + 32, w.threads.size());
  EmuThread* lane_of[32] = {};
  bool any = false;
  for (size_t i = first; i < last; ++i) {
    EmuThread& t = w.threads[i];
    if (t.state == State::kReady || t.state == State::kBlockBarrier) return false;
    if (t.state == State::kWarpOp) {
      lane_of[t.lane] = &t;
      any = true;
    }
  }
  if (!any) return false;
  const EmuThread* lead = nullptr;
  for (EmuThread* t : lane_of)
    if (t) {
      lead = t;
      break;
    }
  for (EmuThread* t : lane_of) {
    if (!t) continue;
    if (t->mask != kFullMask) {
      fail_block(where(w) + ": warp " + std::to_string(warp) +
                 " uses a partial lane mask; the emulation implements full-mask warp operations only");
      return false;
    }
    if (t->ballot != lead->ballot || (!t->ballot && (static_cast<int>(t->mode) != lead->mode ||
                                                     static_cast<int>(t->width) != lead->width))) {
      fail_block(where(w) + ": the lanes of warp " + std::to_string(warp) +
                 " wait at different warp operations (divergent warp-synchronous code)");
      return false;
    }
  }
  if (lead->ballot) {
    uint32_t bits = 0;
    for (EmuThread* t : lane_of)
      if (t && t->predicate) bits |= 1u << t->lane;
    for (EmuThread* t : lane_of)
      if (t) t->out = bits;
  } else if (static_cast<int>(lead->mode) >= 0) {
    for (EmuThread* t : lane_of) {
      if (!t) continue;
      const int src = source_lane(*t);
      if (src < 0 || src >= 32 || !lane_of[src]) {
        fail_block(where(w) + ": lane " + std::to_string(t->lane) + " of warp " + std::to_string(warp) +
                   " reads lane " + std::to_string(src) +
                   ", which does not take part in the shuffle (it returned or does not exist): undefined on "
                   "the GPU");
        return false;
      }
      t->out = static_cast<uint64_t>(lane_of[src]->in);
    }
  }
  for (EmuThread* t : lane_of)
    if (t) t->state = State::kReady;
  return true;
}

// Runs one block to completion (or to its first error).
void run_block(Worker& w, uint3 block_idx) {
  const Launch& l = *w.launch;
  const unsigned n = l.block.x * l.block.y * l.block.z;
  w.block_idx = block_idx;
  {
    std::lock_guard<std::mutex> lock(w.error_mutex);
    w.error.clear();
  }
  while (w.stacks.size() < n) w.stacks.push_back(std::make_unique<Stack>());
  if (w.threads.size() != n) {
#ifdef LOCDET_EMU_TSAN
    for (EmuThread& t : w.threads)
      if (t.tsan_fiber) __tsan_destroy_fiber(t.tsan_fiber);
#endif
    w.threads = std::vector<EmuThread>(n);
#ifdef LOCDET_EMU_TSAN
    for (EmuThread& t : w.threads) t.tsan_fiber = __tsan_create_fiber(0);
#endif
    w.warp_sync.assign((n + 31) / 32, 0);
  }
  for (unsigned i = 0; i < n; ++i) {
    EmuThread& t = w.threads[i];
    t.idx = {i % l.block.x, (i / l.block.x) % l.block.y, i / (l.block.x * l.block.y)};
    t.linear = static_cast<int>(i);
    t.warp = static_cast<int>(i / 32);
    t.lane = static_cast<int>(i % 32);
    t.state = State::kReady;
    t.started = false;
  }
  // Shared memory starts as garbage on the GPU: a fixed pattern here, not zeros.
  w.shared.assign(l.shared, 0xA5);
#ifdef LOCDET_EMU_TSAN
  __tsan_release(&w.block_start);
#endif
  for (;;) {
    bool ran = false;
    for (unsigned i = 0; i < n && !w.failed(); ++i) {
      EmuThread& t = w.threads[i];
      if (t.state != State::kReady) continue;
      if (!t.started) start_thread(w, t, *w.stacks[i]);
      resume(w, t);
      ran = true;
    }
    if (w.failed()) break;
    bool all_done = true;
    for (const EmuThread& t : w.threads) all_done &= t.state == State::kDone;
    if (all_done) break;
    bool released = false;
    for (int warp = 0; warp < static_cast<int>((n + 31) / 32) && !w.failed(); ++warp)
      released |= release_warp(w, warp);
    if (!w.failed() && !released) released = release_block_barrier(w);
    if (w.failed()) break;
    if (!released && !ran) {
      fail_block(where(w) + ": deadlock: threads " + thread_ranges(w.threads, State::kBlockBarrier) +
                 " wait at __syncthreads, threads " + thread_ranges(w.threads, State::kWarpOp) +
                 " at a warp operation, threads " + thread_ranges(w.threads, State::kDone) +
                 " have returned");
      break;
    }
  }
  // After an error, unwind the threads still suspended on their stacks.
  for (EmuThread& t : w.threads) {
    if (t.fiber) {
      w.current = &t;
      t.fiber = ctx::fiber();
    }
  }
  w.current = nullptr;
#ifdef LOCDET_EMU_TSAN
  __tsan_acquire(&w.block_end);
#endif
}

// ---- the worker pool --------------------------------------------------------------------------

class Pool {
 public:
  // Lives as long as the process (kernels may run from static destructors); its threads
  // are detached and wait for work.
  static Pool& get() {
    static Pool* pool = new Pool;
    return *pool;
  }

  // Runs every block of `l`; returns the first error ("" when none).
  std::string run(const Launch& l) {
    std::lock_guard<std::mutex> serial(launch_mutex_);
    const uint64_t blocks = uint64_t{l.grid.x} * l.grid.y * l.grid.z;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      launch_ = &l;
      blocks_ = blocks;
      next_.store(0);
      error_.clear();
      active_ = helpers_;
      ++generation_;
      started_ = std::chrono::steady_clock::now();
      running_ = true;
    }
    wake_.notify_all();
    work();  // the launching thread runs blocks too
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return active_ == 0; });
    running_ = false;
    return error_;
  }

  int threads() const { return helpers_ + 1; }

 private:
  Pool() {
    int n = static_cast<int>(std::thread::hardware_concurrency());
    if (const char* env = std::getenv("LOCDET_EMU_THREADS")) n = std::atoi(env);
    n = std::max(1, n);
    helpers_ = n - 1;
    for (int i = 1; i < n; ++i) std::thread([this] { helper_loop(); }).detach();
    if (const char* env = std::getenv("LOCDET_EMU_TIMEOUT_S")) timeout_s_ = std::max(1, std::atoi(env));
    std::thread([this] { watch(); }).detach();
  }

  void helper_loop() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
      }
      work();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0) done_.notify_all();
    }
  }

  void work() {
    const Launch* l = launch_;
    Worker& w = worker();
    w.launch = l;
    for (;;) {
      const uint64_t b = next_.fetch_add(1);
      if (b >= blocks_) break;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_.empty()) break;
      }
      const uint3 idx{static_cast<unsigned>(b % l->grid.x),
                      static_cast<unsigned>((b / l->grid.x) % l->grid.y),
                      static_cast<unsigned>(b / (uint64_t{l->grid.x} * l->grid.y))};
      run_block(w, idx);
      if (w.failed()) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (error_.empty()) error_ = w.error;
      }
    }
  }

  // A kernel that never finishes (an endless loop, a spin-wait on another block, which the
  // GPU does not promise either) must fail the test with its name, not hang CI.
  void watch() {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      std::lock_guard<std::mutex> lock(mutex_);
      if (running_ && std::chrono::steady_clock::now() - started_ > std::chrono::seconds(timeout_s_)) {
        std::fprintf(
            stderr,
            "CUDA emulation: kernel '%s' has run for over %d s (LOCDET_EMU_TIMEOUT_S): an endless loop, "
            "or a wait on another block that the GPU does not promise to schedule; aborting\n",
            launch_->kernel, timeout_s_);
        std::abort();
      }
    }
  }

  std::mutex launch_mutex_, mutex_;
  std::condition_variable wake_, done_;
  int helpers_ = 0;
  const Launch* launch_ = nullptr;
  uint64_t blocks_ = 0, generation_ = 0;
  std::atomic<uint64_t> next_{0};
  int active_ = 0, timeout_s_ = 600;
  bool running_ = false;
  std::chrono::steady_clock::time_point started_;
  std::string error_;
};

std::mutex& g_shared_limits_mutex = *new std::mutex;
std::map<const void*, size_t>& shared_limits() {
  static auto* limits = new std::map<const void*, size_t>;
  return *limits;
}

std::string check_limits(const char* kernel, dim3 grid, dim3 block, size_t shared, const void* key) {
  std::ostringstream out;
  out << "kernel '" << kernel << "': ";
  const unsigned b[3] = {block.x, block.y, block.z}, g[3] = {grid.x, grid.y, grid.z};
  const uint64_t threads = uint64_t{block.x} * block.y * block.z;
  if (threads == 0 || uint64_t{grid.x} * grid.y * grid.z == 0) {
    out << "a grid or block dimension is 0";
    return out.str();
  }
  if (threads > kMaxThreadsPerBlock) {
    out << threads << " threads per block exceed sm_90's limit of " << kMaxThreadsPerBlock;
    return out.str();
  }
  const char* axis = "xyz";
  for (int i = 0; i < 3; ++i) {
    if (b[i] > kMaxBlockDim[i]) {
      out << "block." << axis[i] << " = " << b[i] << " exceeds sm_90's limit of " << kMaxBlockDim[i];
      return out.str();
    }
    if (g[i] > kMaxGridDim[i]) {
      out << "grid." << axis[i] << " = " << g[i] << " exceeds sm_90's limit of " << kMaxGridDim[i];
      return out.str();
    }
  }
  size_t limit = kDefaultDynamicShared;
  {
    std::lock_guard<std::mutex> lock(g_shared_limits_mutex);
    auto it = shared_limits().find(key);
    if (it != shared_limits().end()) limit = it->second;
  }
  if (shared > limit) {
    out << shared << " bytes of dynamic shared memory exceed the limit of " << limit
        << (limit == kDefaultDynamicShared ? " (raise it with cudaFuncSetAttribute, up to 227 KiB)" : "");
    return out.str();
  }
  return "";
}

}  // namespace

// ---- the device built-ins ------------------------------------------------------------------------

const uint3& thread_index() {
  return self().idx;
}
const uint3& block_index() {
  self();
  return g_worker->block_idx;
}
const dim3& block_dim() {
  self();
  return g_worker->launch->block;
}
const dim3& grid_dim() {
  self();
  return g_worker->launch->grid;
}
void* dynamic_shared_memory() {
  self();
  return g_worker->shared.data();
}

int sync_threads_or(int predicate) {
  EmuThread& t = self();
  t.predicate = predicate;
  t.state = State::kBlockBarrier;
#ifdef LOCDET_EMU_TSAN
  __tsan_release(&g_worker->barrier);
#endif
  yield_to_scheduler();
#ifdef LOCDET_EMU_TSAN
  __tsan_acquire(&g_worker->barrier);
#endif
  return t.result;
}

void sync_threads() {
  sync_threads_or(0);
}

namespace {
uint64_t warp_op(EmuThread& t) {
  t.state = State::kWarpOp;
#ifdef LOCDET_EMU_TSAN
  char* sync = &g_worker->warp_sync[static_cast<size_t>(t.warp)];
  __tsan_release(sync);
#endif
  yield_to_scheduler();
#ifdef LOCDET_EMU_TSAN
  __tsan_acquire(sync);
#endif
  return t.out;
}
}  // namespace

void sync_warp(unsigned mask) {
  EmuThread& t = self();
  t.mask = mask;
  t.ballot = false;
  t.mode = -1;  // no data
  t.width = 32;
  warp_op(t);
}

uint64_t warp_exchange(unsigned mask, uint64_t value, int mode, int operand, int width) {
  EmuThread& t = self();
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0) {
    fail_block(where(*g_worker) + ": shuffle width " + std::to_string(width) +
               " is not a power of 2 up to 32");
    width = 32;
  }
  t.mask = mask;
  t.ballot = false;
  t.mode = mode;
  t.operand = operand;
  t.width = width;
  t.in = value;
  return warp_op(t);
}

uint32_t warp_ballot(unsigned mask, int predicate) {
  EmuThread& t = self();
  t.mask = mask;
  t.ballot = true;
  t.predicate = predicate;
  return static_cast<uint32_t>(warp_op(t));
}

void set_max_dynamic_shared(const void* kernel, int bytes) {
  std::lock_guard<std::mutex> lock(g_shared_limits_mutex);
  shared_limits()[kernel] = std::min<size_t>(static_cast<size_t>(std::max(bytes, 0)), kMaxDynamicSharedOptIn);
}

int worker_threads() {
  return Pool::get().threads();
}

std::string launch_limits_error(const char* kernel, dim3 grid, dim3 block, size_t shared, const void* key) {
  return check_limits(kernel, grid, block, shared, key);
}

namespace {

// LOCDET_EMU_LAUNCH_LOG=FILE: the kernels this process ran, one name a line, appended at exit
// (tests/emu/kernel_coverage.sh checks that every kernel of ours ran).
void note_launch(const char* kernel, const char* file) {
  static const char* path = std::getenv("LOCDET_EMU_LAUNCH_LOG");
  if (!path) return;
  static std::mutex& mutex = *new std::mutex;
  static std::set<std::string>& names = *new std::set<std::string>;
  std::lock_guard<std::mutex> lock(mutex);
  if (names.empty())
    std::atexit([] {
      std::lock_guard<std::mutex> lock(mutex);
      if (std::FILE* f = std::fopen(path, "a")) {
        for (const std::string& n : names) std::fprintf(f, "%s\n", n.c_str());  // "file kernel"
        std::fclose(f);
      }
    });
  const char* slash = std::strrchr(file, '/');
  names.insert(std::string(slash ? slash + 1 : file) + " " + kernel);
}

}  // namespace

cudaError_t run_launch(const char* kernel, const char* file, dim3 grid, dim3 block, size_t shared,
                       const void* key, const ThreadBody& body, std::string* error) {
  note_launch(kernel, file);
  *error = check_limits(kernel, grid, block, shared, key);
  if (!error->empty()) return cudaErrorInvalidConfiguration;
  Launch l;
  l.kernel = kernel;
  l.grid = grid;
  l.block = block;
  l.shared = shared;
  l.body = &body;
  *error = Pool::get().run(l);
  return error->empty() ? cudaSuccess : cudaErrorLaunchFailure;
}

}  // namespace locdet_emu
