// 2-D convolution through oneDNN for the CPU backend, float only: the same op as the reference
// in kernels/cpu/conv.h (NCHW activations, [k, c, r, s] filters, outputs overwritten), which
// stays the specification, the double path of the gradient checks and the fallback.
//
// One object per graph node, built at plan time for that node's pass (as the cuDNN algorithm
// choice is): it creates the oneDNN primitive and the reorders around it once.
// workspace_bytes() covers oneDNN's scratchpad plus the blocked copies of the operands; the
// caller (the planner) provides that memory, so a pass allocates no buffers. oneDNN chooses
// the layouts (format "any"): blocked ones (nChw8c on AVX2) where its direct kernels want
// them, which even with the reorders to and from our plain layouts ran about 2x faster here
// than its plain-layout im2col + gemm path (docs/BENCHMARKS.md).
// Numerics: float sums in oneDNN's order, which depends on the instruction set it dispatches
// to (DNNL_MAX_CPU_ISA lowers it) and, for the filter gradient, on the thread count; the
// reference's results depend on neither. Tests compare the two at a relative tolerance.
//
// Selection (cpu_conv_engine()): oneDNN by default when the build has it (cmake
// -DLOCDET_ONEDNN=ON, the default; Debian's libdnnl-dev); LOCDET_CPU_CONV=reference selects the
// reference at run time. A conv that oneDNN cannot run makes the constructor throw; the
// backend then runs the reference for that node and says so once on stderr.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "kernels/cpu/conv.h"

namespace locdet::cpu {

enum class ConvPass { kForward, kBackwardData, kBackwardFilter };

enum class CpuConvEngine { kReference, kOnednn };

// Whether this build has oneDNN (cmake -DLOCDET_ONEDNN=ON).
bool onednn_built();

// The engine the CPU backend uses for float convolutions: LOCDET_CPU_CONV=reference|onednn,
// default onednn when built with it. Throws Error on another value, or on onednn in a build
// without oneDNN.
CpuConvEngine cpu_conv_engine();

class OnednnConv2d {
 public:
  // `with_bias`: the forward pass adds a bias / the filter pass also writes the bias gradient.
  // Throws Error when this build has no oneDNN or oneDNN has no implementation for the conv.
  OnednnConv2d(const Conv2dDims& dims, ConvPass pass, bool with_bias);
  ~OnednnConv2d();
  OnednnConv2d(OnednnConv2d&& other) noexcept;
  OnednnConv2d& operator=(OnednnConv2d&& other) noexcept;
  OnednnConv2d(const OnednnConv2d&) = delete;
  OnednnConv2d& operator=(const OnednnConv2d&) = delete;

  const Conv2dDims& dims() const { return dims_; }
  ConvPass pass() const { return pass_; }
  size_t workspace_bytes() const;
  // oneDNN's name for the implementation it chose, e.g. "jit:avx2" (logs, benchmarks).
  std::string implementation() const;

  // Each call must match the pass the object was built for. bias [k] (forward) and dbias [k]
  // (filter) are used exactly when the object was built `with_bias`.
  void forward(const float* x, const float* w, const float* bias, float* y, void* workspace);
  void backward_data(const float* dy, const float* w, float* dx, void* workspace);
  void backward_filter(const float* x, const float* dy, float* dw, float* dbias, void* workspace);

 private:
  struct Impl;
  Conv2dDims dims_;
  ConvPass pass_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace locdet::cpu
