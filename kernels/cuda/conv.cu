// cuDNN convolution wrapper. Math mode is CUDNN_FMA_MATH: cuDNN's default allows TF32 tensor
// cores for float on Ampere and later, which costs ~1e-3 relative accuracy and would break the
// CPU-reference comparison; plain FP32 keeps conv within ~1e-5 of the CPU.
#include <algorithm>
#include <utility>

#include "kernels/cuda/conv.h"
#include "kernels/cuda/library_check.h"

namespace locdet::cuda {
namespace {

// Heuristics may rank an FFT algorithm first whose workspace is hundreds of MiB; the
// implicit-GEMM algorithms need none, so capping costs little speed and keeps the plan's
// memory (and the out-of-memory advice) about activations, not scratch space.
constexpr size_t kMaxWorkspaceBytes = size_t(256) << 20;

template <class Perf>
int pick_algo(const Perf* perf, int count, bool need_deterministic, const char* pass) {
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    if (perf[i].memory > kMaxWorkspaceBytes) continue;
    if (need_deterministic && perf[i].determinism != CUDNN_DETERMINISTIC) continue;
    // Tensor-core (TF32) variants would not honour the FMA math mode set on the descriptor.
    if (perf[i].mathType == CUDNN_TENSOR_OP_MATH || perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
      continue;
    return static_cast<int>(perf[i].algo);
  }
  fail("cuDNN has no ", need_deterministic ? "deterministic " : "",
       "FP32 algorithm with a workspace of at most ", kMaxWorkspaceBytes >> 20, " MiB for the convolution ",
       pass, " pass; try other sizes or a different cuDNN version");
}

}  // namespace

CudnnConv2d::CudnnConv2d(const Conv2dDims& d, const CudaContext& ctx) : dims_(d) {
  LOCDET_CHECK(d.n > 0 && d.c > 0 && d.h > 0 && d.w > 0 && d.k > 0 && d.r > 0 && d.s > 0 && d.stride > 0 &&
                   d.pad >= 0 && d.out_h() > 0 && d.out_w() > 0,
               "CudnnConv2d: invalid dims n=", d.n, " c=", d.c, " h=", d.h, " w=", d.w, " k=", d.k,
               " r=", d.r, " s=", d.s, " stride=", d.stride, " pad=", d.pad);
  try {
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&x_desc_));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&y_desc_));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&bias_desc_));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&w_desc_));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv_desc_));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(x_desc_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d.n, d.c, d.h, d.w));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(w_desc_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, d.k, d.c, d.r, d.s));
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv_desc_, d.pad, d.pad, d.stride, d.stride, 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionMathType(conv_desc_, CUDNN_FMA_MATH));
    int on = 0, oc = 0, oh = 0, ow = 0;
    CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv_desc_, x_desc_, w_desc_, &on, &oc, &oh, &ow));
    LOCDET_CHECK(on == d.n && oc == d.k && oh == d.out_h() && ow == d.out_w(),
                 "CudnnConv2d: cuDNN output shape ", on, "x", oc, "x", oh, "x", ow, " differs from ", d.n,
                 "x", d.k, "x", d.out_h(), "x", d.out_w());
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(y_desc_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d.n, d.k, oh, ow));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(bias_desc_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, d.k, 1, 1));

    constexpr int kMaxAlgos = 16;
    int returned = 0;
    cudnnConvolutionFwdAlgoPerf_t fwd[kMaxAlgos];
    CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(ctx.dnn, x_desc_, w_desc_, conv_desc_, y_desc_,
                                                       kMaxAlgos, &returned, fwd));
    fwd_algo_ = pick_algo(fwd, returned, false, "forward");
    cudnnConvolutionBwdDataAlgoPerf_t bwd_data[kMaxAlgos];
    CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx.dnn, w_desc_, y_desc_, conv_desc_, x_desc_,
                                                            kMaxAlgos, &returned, bwd_data));
    bwd_data_algo_ = pick_algo(bwd_data, returned, true, "backward-data");
    cudnnConvolutionBwdFilterAlgoPerf_t bwd_filter[kMaxAlgos];
    CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(ctx.dnn, x_desc_, y_desc_, conv_desc_, w_desc_,
                                                              kMaxAlgos, &returned, bwd_filter));
    bwd_filter_algo_ = pick_algo(bwd_filter, returned, true, "backward-filter");

    size_t bytes = 0;
    CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(ctx.dnn, x_desc_, w_desc_, conv_desc_, y_desc_,
                                                        static_cast<cudnnConvolutionFwdAlgo_t>(fwd_algo_),
                                                        &bytes));
    workspace_bytes_ = bytes;
    CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
        ctx.dnn, w_desc_, y_desc_, conv_desc_, x_desc_,
        static_cast<cudnnConvolutionBwdDataAlgo_t>(bwd_data_algo_), &bytes));
    workspace_bytes_ = std::max(workspace_bytes_, bytes);
    CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
        ctx.dnn, x_desc_, y_desc_, conv_desc_, w_desc_,
        static_cast<cudnnConvolutionBwdFilterAlgo_t>(bwd_filter_algo_), &bytes));
    workspace_bytes_ = std::max(workspace_bytes_, bytes);
  } catch (...) {
    destroy();
    throw;
  }
}

CudnnConv2d::~CudnnConv2d() {
  destroy();
}

void CudnnConv2d::destroy() noexcept {
  if (x_desc_) cudnnDestroyTensorDescriptor(x_desc_);
  if (y_desc_) cudnnDestroyTensorDescriptor(y_desc_);
  if (bias_desc_) cudnnDestroyTensorDescriptor(bias_desc_);
  if (w_desc_) cudnnDestroyFilterDescriptor(w_desc_);
  if (conv_desc_) cudnnDestroyConvolutionDescriptor(conv_desc_);
  x_desc_ = y_desc_ = bias_desc_ = nullptr;
  w_desc_ = nullptr;
  conv_desc_ = nullptr;
}

CudnnConv2d::CudnnConv2d(CudnnConv2d&& o) noexcept
    : dims_(o.dims_),
      x_desc_(std::exchange(o.x_desc_, nullptr)),
      y_desc_(std::exchange(o.y_desc_, nullptr)),
      bias_desc_(std::exchange(o.bias_desc_, nullptr)),
      w_desc_(std::exchange(o.w_desc_, nullptr)),
      conv_desc_(std::exchange(o.conv_desc_, nullptr)),
      fwd_algo_(o.fwd_algo_),
      bwd_data_algo_(o.bwd_data_algo_),
      bwd_filter_algo_(o.bwd_filter_algo_),
      workspace_bytes_(o.workspace_bytes_) {}

void CudnnConv2d::forward(const CudaContext& ctx, const float* x, const float* w, const float* bias, float* y,
                          void* workspace) const {
  const float one = 1.0f, zero = 0.0f;
  CUDNN_CHECK(cudnnSetStream(ctx.dnn, ctx.stream));
  CUDNN_CHECK(cudnnConvolutionForward(ctx.dnn, &one, x_desc_, x, w_desc_, w, conv_desc_,
                                      static_cast<cudnnConvolutionFwdAlgo_t>(fwd_algo_), workspace,
                                      workspace_bytes_, &zero, y_desc_, y));
  if (bias) CUDNN_CHECK(cudnnAddTensor(ctx.dnn, &one, bias_desc_, bias, &one, y_desc_, y));
}

void CudnnConv2d::backward_data(const CudaContext& ctx, const float* dy, const float* w, float* dx,
                                void* workspace) const {
  const float one = 1.0f, zero = 0.0f;
  CUDNN_CHECK(cudnnSetStream(ctx.dnn, ctx.stream));
  CUDNN_CHECK(cudnnConvolutionBackwardData(ctx.dnn, &one, w_desc_, w, y_desc_, dy, conv_desc_,
                                           static_cast<cudnnConvolutionBwdDataAlgo_t>(bwd_data_algo_),
                                           workspace, workspace_bytes_, &zero, x_desc_, dx));
}

void CudnnConv2d::backward_filter(const CudaContext& ctx, const float* x, const float* dy, float* dw,
                                  float* dbias, void* workspace) const {
  const float one = 1.0f, zero = 0.0f;
  CUDNN_CHECK(cudnnSetStream(ctx.dnn, ctx.stream));
  CUDNN_CHECK(cudnnConvolutionBackwardFilter(ctx.dnn, &one, x_desc_, x, y_desc_, dy, conv_desc_,
                                             static_cast<cudnnConvolutionBwdFilterAlgo_t>(bwd_filter_algo_),
                                             workspace, workspace_bytes_, &zero, w_desc_, dw));
  if (dbias) CUDNN_CHECK(cudnnConvolutionBackwardBias(ctx.dnn, &one, y_desc_, dy, &zero, bias_desc_, dbias));
}

}  // namespace locdet::cuda
