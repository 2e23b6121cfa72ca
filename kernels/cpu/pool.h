// Pooling, NCHW. Max pooling pads with -inf (padding never wins) and records, per output, the
// flat index h*w_in + w of the winning input inside its (n, c) plane (first maximum in
// row-major window order wins ties). Global average pooling maps [n, c, hw] -> [n, c].
#pragma once

#include <cstdint>

#include "kernels/common/op_params.h"

namespace locdet {

namespace cpu {

template <class T>
void maxpool2d_forward(const Pool2dDims& d, const T* x, T* y, int32_t* argmax);
// dx is overwritten: zeroed, then every dy added at its argmax.
template <class T>
void maxpool2d_backward(const Pool2dDims& d, const T* dy, const int32_t* argmax, T* dx);

template <class T>
void global_avgpool_forward(int n, int c, int hw, const T* x, T* y);
template <class T>
void global_avgpool_backward(int n, int c, int hw, const T* dy, T* dx);

}  // namespace cpu
}  // namespace locdet
