// Fuzzes the image reader (engine/io/image.h decode_image_gray, stb_image underneath) and
// the letterbox that predict applies next: any bytes must decode or throw locdet::Error.
#include <cstddef>
#include <cstdint>

#include "engine/io/image.h"
#include "kernels/base/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const locdet::io::GrayImage image = locdet::io::decode_image_gray(data, size, "fuzz input");
    if (image.pixels.size() != static_cast<size_t>(image.width) * image.height) __builtin_trap();
    const locdet::io::Letterbox boxed = locdet::io::letterbox(image, 48, 60);
    if (boxed.image.pixels.size() != 48u * 60u) __builtin_trap();
  } catch (const locdet::Error&) {
  }
  return 0;
}
