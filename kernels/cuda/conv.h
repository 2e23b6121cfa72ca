// cuDNN 2-D convolution (legacy cudnnConvolution* API, still in cuDNN 9), float NCHW,
// filters [k, c, r, s]; same semantics as kernels/cpu/conv.h. Descriptors and algorithms
// are chosen ONCE in the constructor from cuDNN's heuristics (Get*_v7, no benchmarking, so
// construction needs no buffers and is repeatable); backward data/filter take only
// deterministic algorithms. workspace_bytes() is the max over the three passes: the caller
// (planner) provides it. Outputs are overwritten (beta = 0).
#pragma once

#include <cstddef>

#include "kernels/common/op_params.h"
#include "kernels/cuda/context.h"

struct cudnnTensorStruct;
struct cudnnFilterStruct;
struct cudnnConvolutionStruct;

namespace locdet::cuda {

class CudnnConv2d {
 public:
  CudnnConv2d(const Conv2dDims& dims, const CudaContext& ctx);
  ~CudnnConv2d();
  CudnnConv2d(const CudnnConv2d&) = delete;
  CudnnConv2d& operator=(const CudnnConv2d&) = delete;
  CudnnConv2d(CudnnConv2d&& other) noexcept;
  CudnnConv2d& operator=(CudnnConv2d&& other) = delete;

  const Conv2dDims& dims() const { return dims_; }
  size_t workspace_bytes() const { return workspace_bytes_; }

  // bias [k] or null
  void forward(const CudaContext& ctx, const float* x, const float* w, const float* bias, float* y,
               void* workspace) const;
  void backward_data(const CudaContext& ctx, const float* dy, const float* w, float* dx,
                     void* workspace) const;
  // dbias may be null
  void backward_filter(const CudaContext& ctx, const float* x, const float* dy, float* dw, float* dbias,
                       void* workspace) const;

  // Chosen algorithms (cudnnConvolution*Algo_t values), for logs and benchmarks.
  int forward_algo() const { return fwd_algo_; }
  int backward_data_algo() const { return bwd_data_algo_; }
  int backward_filter_algo() const { return bwd_filter_algo_; }

 private:
  void destroy() noexcept;
  Conv2dDims dims_;
#ifndef LOCDET_CUDA_EMULATION  // the emulation runs the CPU reference: no cuDNN descriptors
  cudnnTensorStruct* x_desc_ = nullptr;
  cudnnTensorStruct* y_desc_ = nullptr;
  cudnnTensorStruct* bias_desc_ = nullptr;
  cudnnFilterStruct* w_desc_ = nullptr;
  cudnnConvolutionStruct* conv_desc_ = nullptr;
#endif
  int fwd_algo_ = 0, bwd_data_algo_ = 0, bwd_filter_algo_ = 0;
  size_t workspace_bytes_ = 0;
};

}  // namespace locdet::cuda
