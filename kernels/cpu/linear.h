// Fully connected layer in PyTorch layout: y[m,n] = x[m,k] * w[n,k]^T + b[n]. OpenBLAS gemm.
#pragma once

namespace locdet::cpu {

template <class T>
void linear_forward(int m, int k, int n, const T* x, const T* w, const T* b /*[n] or null*/, T* y);

// dx [m,k] and db [n] may be null (not needed); dw [n,k] is always written.
template <class T>
void linear_backward(int m, int k, int n, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db);

}  // namespace locdet::cpu
