// Shape, DType, Buffer (one owned allocation: an arena) and Tensor (a typed view into a
// Buffer at a byte offset). Nothing here copies implicitly: moving data between host and
// device goes through the explicit helpers at the bottom.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "kernels/base/device.h"

namespace locdet {

// f64 exists only so the CPU executor can run a whole graph in double for gradient checks.
enum class DType { kF32, kF64, kI32, kI64 };
size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "F32", "F64", "I32", "I64" (the safetensors spelling)

constexpr int kMaxRank = 4;

struct Shape {
  std::array<int64_t, kMaxRank> dims{};
  int rank = 0;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d);
  explicit Shape(const std::vector<int64_t>& d);
  int64_t operator[](int i) const { return dims[i]; }
  int64_t& operator[](int i) { return dims[i]; }
  int64_t numel() const;
  std::vector<int64_t> to_vector() const { return {dims.begin(), dims.begin() + rank}; }
  std::string str() const;  // "[64, 1, 48, 60]"
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
};

// One allocation on one device, freed on destruction. Executors own one per arena.
class Buffer {
 public:
  Buffer(Device device, size_t bytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Device device() const { return device_; }
  size_t bytes() const { return bytes_; }
  std::byte* data() const { return data_; }

 private:
  Device device_;
  size_t bytes_;
  std::byte* data_ = nullptr;
};

struct Tensor {
  Device device = Device::kCpu;
  DType dtype = DType::kF32;
  Shape shape;
  std::byte* data = nullptr;  // buffer base + byte offset; the Buffer outlives the view

  int64_t numel() const { return shape.numel(); }
  size_t bytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
  template <typename T>
  T* as() const {
    return reinterpret_cast<T*>(data);
  }
};

// Calls fn(T{}) with T the real type a float tensor is held in: double in a cpu_double
// executor (gradient checks), else float. For CPU ops templated on T.
template <typename Fn>
void with_real(const Tensor& t, Fn&& fn) {
  if (t.dtype == DType::kF64) {
    fn(double{});
  } else {
    fn(float{});
  }
}

// Explicit copies between a tensor (host or device) and host vectors. Device copies
// synchronize the whole device around the copy, so they see every finished step on any
// stream: they are for setup and for reading results, not the step.
void copy_to_tensor(const void* host, size_t bytes, const Tensor& dst);
void copy_from_tensor(const Tensor& src, void* host, size_t bytes);
std::vector<float> to_host_f32(const Tensor& t);  // converts f64 to float
std::vector<int32_t> to_host_i32(const Tensor& t);
void from_host_f32(const std::vector<float>& values, const Tensor& dst);  // converts to f64 if needed
void from_host_i32(const std::vector<int32_t>& values, const Tensor& dst);

}  // namespace locdet
