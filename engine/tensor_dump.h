// Rows of named tensors gathered batch by batch, then written as one safetensors file
// (engine/checkpoint.h: atomic). `evaluate --dump` uses it to hand the exact inputs and raw
// outputs of our models to another runtime (tools/check_onnx.py compares onnxruntime's).
// Each name keeps the row shape and dtype of its first append; the first dimension grows.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/checkpoint.h"

namespace locdet {

class TensorDump {
 public:
  // Appends `rows` rows of `row_shape` (empty: one scalar per row) from `data`.
  void append(const std::string& name, const std::vector<int64_t>& row_shape, const float* data,
              int64_t rows);
  void append(const std::string& name, const std::vector<int64_t>& row_shape, const int32_t* data,
              int64_t rows);
  int64_t rows(const std::string& name) const;  // 0 for a name never appended
  // Writes every tensor and `metadata` to `path` (atomic; throws naming the path on failure).
  void write(const std::string& path, const std::map<std::string, std::string>& metadata);

 private:
  void append_bytes(const std::string& name, DType dtype, const std::vector<int64_t>& row_shape,
                    const void* data, int64_t rows);
  SafeTensorsFile file_;
};

}  // namespace locdet
