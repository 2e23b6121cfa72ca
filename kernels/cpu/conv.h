// 2-D convolution (cross-correlation, as in PyTorch), NCHW activations, filters [k, c, r, s].
// CPU reference: per-sample im2col + OpenBLAS gemm, the batch split into a fixed number of
// chunks run by OpenMP (see conv.cpp for the threading choice). The workspace holds one im2col
// matrix and one dW partial per chunk; results do not depend on the thread count.
// Note: the first conv call switches a pthreads OpenBLAS to one thread for the whole process.
// The CPU backend runs float convolutions through oneDNN (conv_onednn.h) by default; these
// kernels are its specification, the double path of the gradient checks and its fallback.
#pragma once

#include <cstddef>

#include "kernels/common/op_params.h"

namespace locdet {

namespace cpu {

// Elements of T the three conv2d_* calls below need as workspace (max over them).
size_t conv2d_workspace_elems(const Conv2dDims& d);

// y[n,k,oh,ow] = sum_{c,r,s} x[n,c,oh*stride-pad+r,ow*stride-pad+s] * w[k,c,r,s] + bias[k]
template <class T>
void conv2d_forward(const Conv2dDims& d, const T* x, const T* w, const T* bias /*[k] or null*/, T* y,
                    T* workspace);

template <class T>
void conv2d_backward_data(const Conv2dDims& d, const T* dy, const T* w, T* dx, T* workspace);

// dbias may be null (conv without bias).
template <class T>
void conv2d_backward_filter(const Conv2dDims& d, const T* x, const T* dy, T* dw, T* dbias, T* workspace);

}  // namespace cpu
}  // namespace locdet
