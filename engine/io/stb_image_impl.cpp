// The one translation unit that compiles stb_image and stb_image_write (third-party code,
// Debian's libstb 2.27), kept apart so the sanitizer builds can treat it differently:
// stb calls memcpy(NULL, src, 0) on an empty PNG IDAT chunk, harmless but flagged by UBSan's
// nonnull-attribute check, which cmake/Warnings.cmake turns off for this file only.
// Malformed input that stb itself mishandles is screened in engine/io/image.cpp, which also
// decodes binary PGM/PPM itself (stb 2.27's PNM reader has several bugs), so PNM is left out.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
// Only the formats we document; the rest of stb_image (PSD, HDR, PIC) is attack surface
// we do not need; PGM/PPM are decoded in engine/io/image.cpp. STBI_MAX_DIMENSIONS caps each side before any
// allocation.
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_ONLY_GIF
#define STBI_MAX_DIMENSIONS (1 << 15)

#include <stb_image.h>
#include <stb_image_write.h>
