#include "engine/tensor_dump.h"

#include <cstring>

#include "kernels/base/error.h"

namespace locdet {

void TensorDump::append(const std::string& name, const std::vector<int64_t>& row_shape, const float* data,
                        int64_t rows) {
  append_bytes(name, DType::kF32, row_shape, data, rows);
}

void TensorDump::append(const std::string& name, const std::vector<int64_t>& row_shape, const int32_t* data,
                        int64_t rows) {
  append_bytes(name, DType::kI32, row_shape, data, rows);
}

int64_t TensorDump::rows(const std::string& name) const {
  auto it = file_.tensors.find(name);
  return it == file_.tensors.end() ? 0 : it->second.shape[0];
}

void TensorDump::append_bytes(const std::string& name, DType dtype, const std::vector<int64_t>& row_shape,
                              const void* data, int64_t rows) {
  LOCDET_CHECK(rows >= 0, "TensorDump: ", rows, " rows for '", name, "'");
  int64_t row_elements = 1;
  for (int64_t d : row_shape) row_elements *= d;
  auto [it, fresh] = file_.tensors.try_emplace(name);
  SafeTensor& t = it->second;
  if (fresh) {
    t.dtype = dtype;
    t.shape.assign(1, 0);
    t.shape.insert(t.shape.end(), row_shape.begin(), row_shape.end());
  } else {
    LOCDET_CHECK(t.dtype == dtype && std::vector<int64_t>(t.shape.begin() + 1, t.shape.end()) == row_shape,
                 "TensorDump: '", name, "' changed its row shape or dtype between appends");
  }
  const size_t bytes = static_cast<size_t>(rows * row_elements) * dtype_size(dtype);
  const size_t at = t.data.size();
  t.data.resize(at + bytes);
  if (bytes) std::memcpy(t.data.data() + at, data, bytes);
  t.shape[0] += rows;
}

void TensorDump::write(const std::string& path, const std::map<std::string, std::string>& metadata) {
  file_.metadata = metadata;  // not a copy of the file: a whole split's dump is hundreds of MB
  write_safetensors(path, file_);
}

}  // namespace locdet
