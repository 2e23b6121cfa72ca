#include "engine/tensor.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "kernels/base/error.h"
#ifdef LOCDET_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace locdet {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 4;
    case DType::kF64:
      return 8;
    case DType::kI32:
      return 4;
    case DType::kI64:
      return 8;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF64:
      return "F64";
    case DType::kI32:
      return "I32";
    case DType::kI64:
      return "I64";
  }
  return "?";
}

Shape::Shape(std::initializer_list<int64_t> d) : Shape(std::vector<int64_t>(d)) {}

Shape::Shape(const std::vector<int64_t>& d) {
  LOCDET_CHECK(d.size() >= 1 && d.size() <= kMaxRank, "a shape has 1 to ", kMaxRank, " dims, got ", d.size());
  rank = static_cast<int>(d.size());
  for (int i = 0; i < rank; ++i) {
    LOCDET_CHECK(d[i] > 0, "shape dims must be positive, got ", d[i], " at dim ", i);
    dims[i] = d[i];
  }
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= dims[i];
  return n;
}

std::string Shape::str() const {
  std::ostringstream out;
  out << "[";
  for (int i = 0; i < rank; ++i) out << (i ? ", " : "") << dims[i];
  out << "]";
  return out.str();
}

bool Shape::operator==(const Shape& o) const {
  if (rank != o.rank) return false;
  for (int i = 0; i < rank; ++i)
    if (dims[i] != o.dims[i]) return false;
  return true;
}

Buffer::Buffer(Device device, size_t bytes) : device_(device), bytes_(bytes) {
  size_t padded = (bytes + 255) / 256 * 256;
  if (padded == 0) padded = 256;
  if (device == Device::kCpu) {
    data_ = static_cast<std::byte*>(std::aligned_alloc(256, padded));
    LOCDET_CHECK(data_ != nullptr, "out of host memory allocating ", padded, " bytes");
    std::memset(data_, 0, padded);
    return;
  }
#ifdef LOCDET_WITH_CUDA
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, padded);
  if (err != cudaSuccess)
    fail("cudaMalloc of ", padded, " bytes failed: ", cudaGetErrorString(err),
         " (reduce the batch size or free GPU memory)");
  data_ = static_cast<std::byte*>(p);
  // cudaMemset runs on the legacy stream, which the executor's non-blocking stream does not
  // wait for: finish it here so no kernel can see the buffer before it is zeroed.
  err = cudaMemset(data_, 0, padded);
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  if (err != cudaSuccess) fail("zeroing a new device buffer failed: ", cudaGetErrorString(err));
#else
  fail("this build has no CUDA backend; rebuild with -DLOCDET_CUDA=ON or use --device cpu");
#endif
}

Buffer::~Buffer() {
  if (device_ == Device::kCpu) {
    std::free(data_);
    return;
  }
#ifdef LOCDET_WITH_CUDA
  cudaFree(data_);
#endif
}

void copy_to_tensor(const void* host, size_t bytes, const Tensor& dst) {
  LOCDET_CHECK(bytes == dst.bytes(), "copy of ", bytes, " bytes into a tensor of ", dst.bytes(),
               " bytes (shape ", dst.shape.str(), ")");
  if (dst.device == Device::kCpu) {
    std::memcpy(dst.data, host, bytes);
    return;
  }
#ifdef LOCDET_WITH_CUDA
  // The device is synchronized on both sides: before, so no kernel on the executor's
  // non-blocking stream still uses the tensor; after, because a copy from pageable memory may
  // return before its DMA has landed, and that stream would not wait for it.
  cudaError_t err = cudaDeviceSynchronize();
  if (err == cudaSuccess) err = cudaMemcpy(dst.data, host, bytes, cudaMemcpyHostToDevice);
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  LOCDET_CHECK(err == cudaSuccess, "host to device copy failed: ", cudaGetErrorString(err));
#endif
}

void copy_from_tensor(const Tensor& src, void* host, size_t bytes) {
  LOCDET_CHECK(bytes == src.bytes(), "copy of ", src.bytes(), " bytes into ", bytes, " host bytes");
  if (src.device == Device::kCpu) {
    std::memcpy(host, src.data, bytes);
    return;
  }
#ifdef LOCDET_WITH_CUDA
  // cudaMemcpy runs on the legacy stream, which does not wait for the executor's non-blocking
  // stream: synchronize the device first so the copy sees the finished step.
  cudaError_t err = cudaDeviceSynchronize();
  if (err == cudaSuccess) err = cudaMemcpy(host, src.data, bytes, cudaMemcpyDeviceToHost);
  LOCDET_CHECK(err == cudaSuccess, "device to host copy failed: ", cudaGetErrorString(err));
#endif
}

std::vector<float> to_host_f32(const Tensor& t) {
  std::vector<float> out(t.numel());
  if (t.dtype == DType::kF32) {
    copy_from_tensor(t, out.data(), t.bytes());
  } else if (t.dtype == DType::kF64) {
    std::vector<double> tmp(t.numel());
    copy_from_tensor(t, tmp.data(), t.bytes());
    for (size_t i = 0; i < tmp.size(); ++i) out[i] = static_cast<float>(tmp[i]);
  } else {
    fail("to_host_f32 on an ", dtype_name(t.dtype), " tensor; use to_host_i32");
  }
  return out;
}

std::vector<int32_t> to_host_i32(const Tensor& t) {
  LOCDET_CHECK(t.dtype == DType::kI32, "to_host_i32 on an ", dtype_name(t.dtype), " tensor");
  std::vector<int32_t> out(t.numel());
  copy_from_tensor(t, out.data(), t.bytes());
  return out;
}

void from_host_f32(const std::vector<float>& values, const Tensor& dst) {
  LOCDET_CHECK(static_cast<int64_t>(values.size()) == dst.numel(), "writing ", values.size(),
               " values into a tensor of shape ", dst.shape.str());
  if (dst.dtype == DType::kF32) {
    copy_to_tensor(values.data(), dst.bytes(), dst);
  } else if (dst.dtype == DType::kF64) {
    std::vector<double> tmp(values.begin(), values.end());
    copy_to_tensor(tmp.data(), dst.bytes(), dst);
  } else {
    fail("from_host_f32 into an ", dtype_name(dst.dtype), " tensor; use from_host_i32");
  }
}

void from_host_i32(const std::vector<int32_t>& values, const Tensor& dst) {
  LOCDET_CHECK(dst.dtype == DType::kI32, "from_host_i32 into an ", dtype_name(dst.dtype), " tensor");
  LOCDET_CHECK(static_cast<int64_t>(values.size()) == dst.numel(), "writing ", values.size(),
               " values into a tensor of shape ", dst.shape.str());
  copy_to_tensor(values.data(), dst.bytes(), dst);
}

}  // namespace locdet
