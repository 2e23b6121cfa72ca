// Per-element activation math shared by the CPU loops and the CUDA kernels.
// Derivatives are taken w.r.t. the forward input x. At x == 0, relu' = 0 and
// leaky_relu' = slope (PyTorch's convention: the gradient uses x > 0).
#pragma once

#include <cmath>

#include "kernels/common/hostdevice.h"

namespace locdet {

// Overloads so templated math picks the float functions on the device and on the host
// (plain exp(float) on the host would go through double).
namespace hd {
LOCDET_HD float exp(float x) {
  return ::expf(x);
}
LOCDET_HD double exp(double x) {
  return ::exp(x);
}
LOCDET_HD float log(float x) {
  return ::logf(x);
}
LOCDET_HD double log(double x) {
  return ::log(x);
}
LOCDET_HD float log1p(float x) {
  return ::log1pf(x);
}
LOCDET_HD double log1p(double x) {
  return ::log1p(x);
}
LOCDET_HD float pow(float x, float y) {
  return ::powf(x, y);
}
LOCDET_HD double pow(double x, double y) {
  return ::pow(x, y);
}
LOCDET_HD float sqrt(float x) {
  return ::sqrtf(x);
}
LOCDET_HD double sqrt(double x) {
  return ::sqrt(x);
}
LOCDET_HD float fabs(float x) {
  return ::fabsf(x);
}
LOCDET_HD double fabs(double x) {
  return ::fabs(x);
}
}  // namespace hd

template <class T>
LOCDET_HD T relu_fwd(T x) {
  return x > T(0) ? x : T(0);
}
template <class T>
LOCDET_HD T relu_bwd(T x, T dy) {
  return x > T(0) ? dy : T(0);
}

template <class T>
LOCDET_HD T leaky_relu_fwd(T x, T slope) {
  return x > T(0) ? x : x * slope;
}
template <class T>
LOCDET_HD T leaky_relu_bwd(T x, T dy, T slope) {
  return x > T(0) ? dy : dy * slope;
}

// sigmoid without overflow: exp of a non-positive argument only.
template <class T>
LOCDET_HD T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + hd::exp(-x));
  T e = hd::exp(x);
  return e / (T(1) + e);
}

template <class T>
LOCDET_HD T silu_fwd(T x) {
  return x * stable_sigmoid(x);
}
// d/dx x*sig(x) = sig(x) * (1 + x * (1 - sig(x)))
template <class T>
LOCDET_HD T silu_bwd(T x, T dy) {
  T s = stable_sigmoid(x);
  return dy * s * (T(1) + x * (T(1) - s));
}

}  // namespace locdet
