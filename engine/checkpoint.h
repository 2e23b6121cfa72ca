// Checkpoints in the safetensors format (loadable by Python's `safetensors`):
//   8-byte little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value"}}, then the raw little-endian data.
// Files are written atomically (kernels/base/atomic_file.h). Reading validates everything
// (length, JSON, dtypes, shapes vs byte ranges, ranges inside the file and tiling it) and
// refuses truncated or garbled files with a message naming the file and the problem.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "engine/executor.h"

namespace locdet {

struct SafeTensor {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::vector<std::byte> data;
};

struct SafeTensorsFile {
  std::map<std::string, SafeTensor> tensors;
  std::map<std::string, std::string> metadata;
};

void write_safetensors(const std::string& path, const SafeTensorsFile& file);
SafeTensorsFile read_safetensors(const std::string& path);
// The same validation on a file's bytes in memory; read_safetensors reads the file and
// calls this. `name` labels the error messages.
SafeTensorsFile parse_safetensors(const void* data, size_t size, const std::string& name);

// Saves every persistent tensor of the executor's graph: parameters, batchnorm running
// stats and, for a training graph, the optimizer moments, lr and step ("optim.*").
void save_checkpoint(const std::string& path, const Executor& ex,
                     const std::map<std::string, std::string>& metadata);

// Restores them and returns the metadata. Strict: the names must match exactly (resume).
// Not strict: "optim.*" tensors on either side are ignored (load a model to evaluate or
// fine-tune), except that a parameter's weight average ("optim.ema.<name>", runs trained with
// --ema) is loaded in place of the parameter. Any mismatch fails with the full list: missing,
// unexpected, shape, dtype.
std::map<std::string, std::string> load_checkpoint(const std::string& path, Executor& ex, bool strict = true);

}  // namespace locdet
