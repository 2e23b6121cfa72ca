// The host side of the emulated CUDA runtime (runtime_api.h): device memory is host memory,
// every stream runs in order at once (a launch returns when its blocks are done), events
// read the clock, and a capturing stream records its launches, copies and fills into a graph
// that cudaGraphLaunch re-issues. A synchronizing call or an allocation while a stream
// captures fails and invalidates the capture, as on the GPU: a step that would not capture
// there does not capture here.
#include "kernels/cuda/emu/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kernels/cuda/emu/emu_internal.h"

namespace locdet_emu {

struct Stream {
  bool capturing = false;
  bool invalidated = false;
  std::vector<std::function<cudaError_t()>> recorded;
};
struct Event {
  std::chrono::steady_clock::time_point at;
};
struct Graph {
  std::vector<std::function<cudaError_t()>> ops;
};
struct GraphExec {
  std::vector<std::function<cudaError_t()>> ops;
};

namespace {

constexpr size_t kDeviceMemory = size_t{16} << 30;  // what the emulated device reports

// The runtime's state lives as long as the process: device memory may be freed by static
// destructors that run after this file's would have.
std::mutex& g_mutex = *new std::mutex;  // allocations, streams
std::map<void*, size_t>& allocations() {
  static auto* a = new std::map<void*, size_t>;
  return *a;
}
size_t g_allocated = 0;
std::set<Stream*>& capturing_streams() {
  static auto* s = new std::set<Stream*>;
  return *s;
}

thread_local cudaError_t t_last_error = cudaSuccess;
thread_local std::string t_last_detail;

cudaError_t record_error(cudaError_t code, const std::string& detail) {
  if (code != cudaSuccess) {
    t_last_error = code;
    t_last_detail = detail;
  }
  return code;
}

// A call that would synchronize or allocate while a capture is in progress: on the GPU it
// fails and invalidates the capture (cudaStreamCaptureModeGlobal / ThreadLocal).
cudaError_t refuse_during_capture(const char* call) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (capturing_streams().empty()) return cudaSuccess;
  for (Stream* s : capturing_streams()) s->invalidated = true;
  return record_error(cudaErrorStreamCaptureUnsupported,
                      std::string(call) + " while a stream is being captured into a CUDA Graph");
}

bool is_device_pointer(const void* p) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& a = allocations();
  auto it = a.upper_bound(const_cast<void*>(p));
  if (it == a.begin()) return false;
  --it;
  return static_cast<const char*>(p) < static_cast<char*>(it->first) + it->second;
}

// Runs `op` now, or records it when `stream` captures.
cudaError_t enqueue(cudaStream_t stream, std::function<cudaError_t()> op) {
  if (stream && stream->capturing) {
    stream->recorded.push_back(std::move(op));
    return cudaSuccess;
  }
  return op();
}

}  // namespace

cudaError_t enqueue_task(cudaStream_t stream, std::function<void()> task) {
  return enqueue(stream, [task = std::move(task)] {
    task();
    return cudaSuccess;
  });
}

void launch(const char* kernel, const char* file, const void* key, dim3 grid, dim3 block, size_t shared,
            cudaStream_t stream, ThreadBody body) {
  auto op = [kernel, file, key, grid, block, shared, body = std::move(body)]() {
    std::string error;
    const cudaError_t code = run_launch(kernel, file, grid, block, shared, key, body, &error);
    return record_error(code, error);
  };
  // A bad configuration is refused at launch time, also inside a capture (where the GPU
  // refuses it too: the launch is never recorded).
  if (stream && stream->capturing) {
    const std::string error = launch_limits_error(kernel, grid, block, shared, key);
    if (!error.empty()) {
      record_error(cudaErrorInvalidConfiguration, error);
      return;
    }
  }
  enqueue(stream, std::move(op));
}

}  // namespace locdet_emu

using locdet_emu::record_error;

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return record_error(cudaErrorInvalidValue, "the emulation has one device, 0");
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof(prop->name), "CUDA emulation on the CPU (sm_90 limits, %d threads)",
                locdet_emu::worker_threads());
  prop->totalGlobalMem = locdet_emu::kDeviceMemory;
  prop->sharedMemPerBlock = 48 * 1024;
  prop->sharedMemPerBlockOptin = 227 * 1024;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024, prop->maxThreadsDim[1] = 1024, prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647, prop->maxGridSize[1] = 65535, prop->maxGridSize[2] = 65535;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = locdet_emu::worker_threads();
  prop->l2CacheSize = 0;
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  std::lock_guard<std::mutex> lock(locdet_emu::g_mutex);
  *total_bytes = locdet_emu::kDeviceMemory;
  *free_bytes = locdet_emu::kDeviceMemory - std::min(locdet_emu::g_allocated, locdet_emu::kDeviceMemory);
  return cudaSuccess;
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = locdet_emu::t_last_error;
  locdet_emu::t_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() {
  return locdet_emu::t_last_error;
}

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer:
      return "cudaErrorInvalidDevicePointer";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
    case cudaErrorLaunchTimeout:
      return "cudaErrorLaunchTimeout";
    case cudaErrorInsufficientDriver:
      return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorStreamCaptureUnsupported:
      return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated:
      return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureImplicit:
      return "cudaErrorStreamCaptureImplicit";
    default:
      return "cudaErrorUnknown";
  }
}

// The detail of the last error of this code on this thread (naming the kernel), else its name.
const char* cudaGetErrorString(cudaError_t error) {
  if (error == locdet_emu::t_last_error || (!locdet_emu::t_last_detail.empty() && error != cudaSuccess))
    if (!locdet_emu::t_last_detail.empty()) return locdet_emu::t_last_detail.c_str();
  return error == cudaSuccess ? "no error" : cudaGetErrorName(error);
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  if (cudaError_t e = locdet_emu::refuse_during_capture("cudaMalloc")) return e;
  const size_t rounded = (std::max<size_t>(bytes, 1) + 255) / 256 * 256;
  std::lock_guard<std::mutex> lock(locdet_emu::g_mutex);
  if (locdet_emu::g_allocated + rounded > locdet_emu::kDeviceMemory) {
    *ptr = nullptr;
    return record_error(cudaErrorMemoryAllocation, "out of emulated device memory");
  }
  // Exactly `bytes` (256-byte aligned, as cudaMalloc's): AddressSanitizer then reports an access
  // one element past the end of a device array.
  if (posix_memalign(ptr, 256, std::max<size_t>(bytes, 1)) != 0) {
    *ptr = nullptr;
    return record_error(cudaErrorMemoryAllocation, "host allocation for emulated device memory failed");
  }
  locdet_emu::allocations()[*ptr] =
      bytes;  // the requested size: AddressSanitizer-style bounds for our checks
  locdet_emu::g_allocated += rounded;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  std::lock_guard<std::mutex> lock(locdet_emu::g_mutex);
  auto it = locdet_emu::allocations().find(ptr);
  if (it == locdet_emu::allocations().end())
    return record_error(cudaErrorInvalidDevicePointer, "cudaFree of a pointer cudaMalloc did not return");
  locdet_emu::g_allocated -= (std::max<size_t>(it->second, 1) + 255) / 256 * 256;
  locdet_emu::allocations().erase(it);
  std::free(ptr);
  return cudaSuccess;
}

namespace {
cudaError_t check_copy(const void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  const bool dst_dev = locdet_emu::is_device_pointer(dst), src_dev = locdet_emu::is_device_pointer(src);
  const bool ok = (kind == cudaMemcpyHostToDevice && dst_dev && !src_dev) ||
                  (kind == cudaMemcpyDeviceToHost && src_dev && !dst_dev) ||
                  (kind == cudaMemcpyDeviceToDevice && src_dev && dst_dev) || kind == cudaMemcpyDefault ||
                  (kind == cudaMemcpyHostToHost && !src_dev && !dst_dev);
  return ok ? cudaSuccess
            : record_error(cudaErrorInvalidValue,
                           "cudaMemcpy: the pointers do not match the copy's direction");
}
}  // namespace

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (cudaError_t e = locdet_emu::refuse_during_capture("cudaMemcpy (synchronous)")) return e;
  if (cudaError_t e = check_copy(dst, src, bytes, kind)) return e;
  if (bytes > 0) std::memcpy(dst, src, bytes);  // CUDA allows a null pointer with 0 bytes; memcpy does not
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  if (cudaError_t e = check_copy(dst, src, bytes, kind)) return e;
  return locdet_emu::enqueue(stream, [=] {
    if (bytes > 0) std::memcpy(dst, src, bytes);
    return cudaSuccess;
  });
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width,
                              size_t height, cudaMemcpyKind kind, cudaStream_t stream) {
  if (width > dst_pitch || width > src_pitch)
    return record_error(cudaErrorInvalidValue, "cudaMemcpy2DAsync: width exceeds a pitch");
  if (height > 0) {
    if (cudaError_t e = check_copy(dst, src, width, kind)) return e;
    if (cudaError_t e = check_copy(static_cast<char*>(dst) + (height - 1) * dst_pitch,
                                   static_cast<const char*>(src) + (height - 1) * src_pitch, width, kind))
      return e;
  }
  return locdet_emu::enqueue(stream, [=] {
    for (size_t row = 0; width > 0 && row < height; ++row)
      std::memcpy(static_cast<char*>(dst) + row * dst_pitch, static_cast<const char*>(src) + row * src_pitch,
                  width);
    return cudaSuccess;
  });
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  if (cudaError_t e = locdet_emu::refuse_during_capture("cudaMemset (synchronous)")) return e;
  if (bytes > 0) std::memset(ptr, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream) {
  return locdet_emu::enqueue(stream, [=] {
    if (bytes > 0) std::memset(ptr, value, bytes);
    return cudaSuccess;
  });
}

cudaError_t cudaDeviceSynchronize() {
  return locdet_emu::refuse_during_capture("cudaDeviceSynchronize");
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  *stream = new locdet_emu::Stream();
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  return cudaStreamCreate(stream);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(locdet_emu::g_mutex);
  locdet_emu::capturing_streams().erase(stream);
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (stream && stream->capturing) {
    stream->invalidated = true;
    return record_error(cudaErrorStreamCaptureUnsupported,
                        "cudaStreamSynchronize on a stream that is being captured into a CUDA Graph");
  }
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new locdet_emu::Event();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  return locdet_emu::enqueue(stream, [event] {
    event->at = std::chrono::steady_clock::now();
    return cudaSuccess;
  });
}

cudaError_t cudaEventSynchronize(cudaEvent_t) {
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  *ms = std::chrono::duration<float, std::milli>(end->at - start->at).count();
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  if (!stream)
    return record_error(cudaErrorStreamCaptureUnsupported, "the legacy default stream cannot be captured");
  if (stream->capturing) return record_error(cudaErrorInvalidValue, "the stream is already capturing");
  std::lock_guard<std::mutex> lock(locdet_emu::g_mutex);
  stream->capturing = true;
  stream->invalidated = false;
  stream->recorded.clear();
  locdet_emu::capturing_streams().insert(stream);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  *graph = nullptr;
  if (!stream || !stream->capturing)
    return record_error(cudaErrorInvalidValue, "the stream is not capturing");
  std::lock_guard<std::mutex> lock(locdet_emu::g_mutex);
  stream->capturing = false;
  locdet_emu::capturing_streams().erase(stream);
  if (stream->invalidated) {
    stream->recorded.clear();
    return record_error(cudaErrorStreamCaptureInvalidated,
                        "the capture was invalidated by a synchronizing call or an allocation inside it");
  }
  *graph = new locdet_emu::Graph{std::move(stream->recorded)};
  stream->recorded.clear();
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (!graph) return record_error(cudaErrorInvalidValue, "cudaGraphInstantiate of a null graph");
  *exec = new locdet_emu::GraphExec{graph->ops};
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (stream && stream->capturing)
    return record_error(cudaErrorStreamCaptureUnsupported,
                        "graph launches inside a capture are not emulated");
  for (const auto& op : exec->ops)
    if (cudaError_t e = op()) return e;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaProfilerStart() {
  return cudaSuccess;
}

cudaError_t cudaProfilerStop() {
  return cudaSuccess;
}
