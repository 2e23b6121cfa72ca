// Fuzzes the MNIST IDX reader (models/digits/mnist.h parse_idx_pair). The input is split in
// two: the first 2 bytes (little endian) give the image file's length, the image file
// follows, the label file is the rest. Any input must load or throw locdet::Error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/base/error.h"
#include "models/digits/mnist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t image_length = std::min<size_t>(size - 2, data[0] | (size_t{data[1]} << 8));
  const std::vector<uint8_t> images(data + 2, data + 2 + image_length);
  const std::vector<uint8_t> labels(data + 2 + image_length, data + size);
  try {
    const locdet::data::MnistSplit split = locdet::data::parse_idx_pair(images, "images", labels, "labels");
    // What a successful load promises: every image and label is addressable.
    if (split.images.size() != static_cast<size_t>(split.count) * split.rows * split.cols) __builtin_trap();
    if (split.labels.size() != static_cast<size_t>(split.count)) __builtin_trap();
    for (uint8_t label : split.labels)
      if (label > 9) __builtin_trap();
  } catch (const locdet::Error&) {
  }
  return 0;
}
