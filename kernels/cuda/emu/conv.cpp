// cuDNN's convolution in the CUDA emulation: the CPU reference (kernels/cpu/conv, im2col +
// OpenBLAS) behind the same CudnnConv2d interface, its workspace from the planner as cuDNN's
// is, run in stream order. No descriptors: the members cuDNN needs stay null.
#include "kernels/cpu/conv.h"

#include <utility>

#include "kernels/base/error.h"
#include "kernels/cuda/conv.h"
#include "kernels/cuda/cuda_check.h"

namespace locdet::cuda {

CudnnConv2d::CudnnConv2d(const Conv2dDims& d, const CudaContext&) : dims_(d) {
  LOCDET_CHECK(d.n > 0 && d.c > 0 && d.h > 0 && d.w > 0 && d.k > 0 && d.r > 0 && d.s > 0 && d.stride > 0 &&
                   d.pad >= 0 && d.out_h() > 0 && d.out_w() > 0,
               "CudnnConv2d: invalid dims n=", d.n, " c=", d.c, " h=", d.h, " w=", d.w, " k=", d.k,
               " r=", d.r, " s=", d.s, " stride=", d.stride, " pad=", d.pad);
  workspace_bytes_ = cpu::conv2d_workspace_elems(d) * sizeof(float);
}

CudnnConv2d::~CudnnConv2d() {
  destroy();
}

void CudnnConv2d::destroy() noexcept {}

CudnnConv2d::CudnnConv2d(CudnnConv2d&& o) noexcept
    : dims_(o.dims_),
      fwd_algo_(o.fwd_algo_),
      bwd_data_algo_(o.bwd_data_algo_),
      bwd_filter_algo_(o.bwd_filter_algo_),
      workspace_bytes_(o.workspace_bytes_) {}

void CudnnConv2d::forward(const CudaContext& ctx, const float* x, const float* w, const float* bias, float* y,
                          void* workspace) const {
  const Conv2dDims d = dims_;
  CUDA_CHECK(locdet_emu::enqueue_task(
      ctx.stream, [=] { cpu::conv2d_forward<float>(d, x, w, bias, y, static_cast<float*>(workspace)); }));
}

void CudnnConv2d::backward_data(const CudaContext& ctx, const float* dy, const float* w, float* dx,
                                void* workspace) const {
  const Conv2dDims d = dims_;
  CUDA_CHECK(locdet_emu::enqueue_task(
      ctx.stream, [=] { cpu::conv2d_backward_data<float>(d, dy, w, dx, static_cast<float*>(workspace)); }));
}

void CudnnConv2d::backward_filter(const CudaContext& ctx, const float* x, const float* dy, float* dw,
                                  float* dbias, void* workspace) const {
  const Conv2dDims d = dims_;
  CUDA_CHECK(locdet_emu::enqueue_task(ctx.stream, [=] {
    cpu::conv2d_backward_filter<float>(d, x, dy, dw, dbias, static_cast<float*>(workspace));
  }));
}

}  // namespace locdet::cuda
