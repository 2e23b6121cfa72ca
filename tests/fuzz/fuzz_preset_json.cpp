// Fuzzes the scene preset parser (models/digits/scene.h parse_preset_file_text): any text
// must parse or throw locdet::Error, and every preset that parses must survive a round
// trip through preset_to_json.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/base/error.h"
#include "models/digits/scene.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<locdet::data::Preset> presets;
  try {
    presets = locdet::data::parse_preset_file_text(text, "fuzz input");
  } catch (const locdet::Error&) {
    return 0;
  }
  for (const auto& preset : presets) {
    // Throws (= a finding) if what we write cannot be read back.
    const locdet::data::Preset again = locdet::data::preset_from_json(locdet::data::preset_to_json(preset));
    if (again.name != preset.name || again.height != preset.height || again.width != preset.width)
      __builtin_trap();
  }
  return 0;
}
