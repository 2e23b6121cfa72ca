// NVTX ranges for Nsight Systems: NvtxRange r("forward"); marks a scope. Compiles to
// nothing without CUDA (or without the nvtx3 headers), so it costs nothing on the CPU path.
#pragma once

#if defined(LOCDET_WITH_CUDA) && __has_include(<nvtx3/nvToolsExt.h>)
#include <nvtx3/nvToolsExt.h>
#define LOCDET_HAVE_NVTX 1
#endif

namespace locdet {

class NvtxRange {
 public:
#ifdef LOCDET_HAVE_NVTX
  explicit NvtxRange(const char* name) {
    nvtxRangePushA(name);
  }
  ~NvtxRange() {
    nvtxRangePop();
  }
#else
  explicit NvtxRange(const char*) {}
#endif
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace locdet
