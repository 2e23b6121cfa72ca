// Box math shared by both backends: conversions, IoU / GIoU / DIoU / CIoU and their analytic
// gradients w.r.t. the predicted box, and the detector head's box parametrization (decode,
// its gradient, and the inverse encode).
//
// Layout: a box is 4 consecutive values, xyxy = (x1, y1, x2, y2) with x1 <= x2, y1 <= y2, or
// cxcywh = (centre x, centre y, width, height). Units are whatever the caller uses
// (pixels or [0,1]-normalized); the formulas are unit free except for kBoxEps.
//
// IoU-family definitions follow torchvision.ops (generalized_box_iou_loss,
// distance_box_iou_loss, complete_box_iou_loss) with eps = 1e-7:
//   iou  = I / (U + eps), I = intersection (0 unless both overlaps are > 0), U = Ap + Ag - I
//   giou = iou - (C - U) / (C + eps), C = area of the smallest enclosing box
//   diou loss = 1 - iou + rho^2 / (c^2 + eps), rho = centre distance, c = enclosing diagonal
//   ciou loss = diou loss + alpha * v, v = 4/pi^2 (atan(wg/hg) - atan(wp/hp))^2,
//               alpha = v / (1 - iou + v + eps), held constant in the gradient (torchvision
//               computes alpha under no_grad; the CIoU paper does the same).
// The only deviation: atan's ratio divides by max(h, eps) so a zero-height box gives a finite
// value (torchvision would divide by zero). Predicted boxes are expected to have positive
// size (decode_box guarantees it); a flipped predicted box gives finite but meaningless loss.
//
// Gradients are exact derivatives of the forward formulas; at the kinks (an edge of the
// prediction exactly on an edge of the target) the one-sided derivative with the prediction's
// edge treated as "inside" is used. Finite-difference tests stay away from kinks.
//
// Exactness across backends: products that feed comparisons (IoU thresholds in matching and
// NMS) go through mul_rn so nvcc cannot contract them into FMAs; the CPU (x86-64 without
// -mfma, -ffp-contract=off under -std=c++17) computes the same roundings, so matching and NMS
// decisions are bit-identical on CPU and GPU.
#pragma once

#include <cmath>

#include "kernels/common/hostdevice.h"

namespace locdet {

enum class IouKind : int { kIou = 0, kGiou = 1, kDiou = 2, kCiou = 3 };

constexpr double kBoxEps = 1e-7;
constexpr double kFourOverPiSquared = 0.40528473456935108578;  // 4 / pi^2, CIoU's v
// Largest log-size offset decode_box allows: exp(4.135) = 62.5x the anchor (torchvision's
// bbox_xform_clip = log(1000/16)). Keeps exp finite for wild early-training outputs.
constexpr double kMaxLogScale = 4.135166556742356;

// Rounded multiply that the CUDA compiler may not fuse with a neighbouring add.
template <typename T>
LOCDET_HD T mul_rn(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) {
    return __fmul_rn(a, b);
  } else {
    return __dmul_rn(a, b);
  }
#else
  return a * b;
#endif
}

template <typename T>
LOCDET_HD T box_min(T a, T b) {
  return a < b ? a : b;
}
template <typename T>
LOCDET_HD T box_max(T a, T b) {
  return a > b ? a : b;
}

// ---- conversions ---------------------------------------------------------------------------

template <typename T>
LOCDET_HD void xyxy_to_cxcywh(const T* in, T* out) {
  T x1 = in[0], y1 = in[1], x2 = in[2], y2 = in[3];
  out[0] = (x1 + x2) * T(0.5);
  out[1] = (y1 + y2) * T(0.5);
  out[2] = x2 - x1;
  out[3] = y2 - y1;
}

template <typename T>
LOCDET_HD void cxcywh_to_xyxy(const T* in, T* out) {
  T cx = in[0], cy = in[1], hw = in[2] * T(0.5), hh = in[3] * T(0.5);
  out[0] = cx - hw;
  out[1] = cy - hh;
  out[2] = cx + hw;
  out[3] = cy + hh;
}

// Scales x by width and y by height (any layout whose entries alternate x, y, x, y: xyxy and
// cxcywh both do). normalized -> pixels: (width, height); pixels -> normalized: (1/width, 1/height).
template <typename T>
LOCDET_HD void scale_box(const T* in, T sx, T sy, T* out) {
  out[0] = in[0] * sx;
  out[1] = in[1] * sy;
  out[2] = in[2] * sx;
  out[3] = in[3] * sy;
}

template <typename T>
LOCDET_HD void normalized_to_pixels(const T* in, T width, T height, T* out) {
  scale_box(in, width, height, out);
}
template <typename T>
LOCDET_HD void pixels_to_normalized(const T* in, T width, T height, T* out) {
  scale_box(in, T(1) / width, T(1) / height, out);
}

template <typename T>
LOCDET_HD T box_area(const T* b) {
  return mul_rn(b[2] - b[0], b[3] - b[1]);
}

// Plain IoU of two xyxy boxes without eps: intersection / union, 0 when they do not overlap
// or the union is empty. This is the IoU used for matching and NMS (exactly reproducible).
template <typename T>
LOCDET_HD T box_iou(const T* a, const T* b) {
  T iw = box_min(a[2], b[2]) - box_max(a[0], b[0]);
  T ih = box_min(a[3], b[3]) - box_max(a[1], b[1]);
  if (!(iw > T(0)) || !(ih > T(0))) return T(0);
  T inter = mul_rn(iw, ih);
  T uni = box_area(a) + box_area(b) - inter;
  return uni > T(0) ? inter / uni : T(0);
}

// ---- IoU-family losses ---------------------------------------------------------------------

// Loss value 1 - variant (for DIoU/CIoU the distance/aspect penalties are added, as in
// torchvision). If iou_out is non-null it receives iou = I / (U + eps).
template <typename T>
LOCDET_HD T iou_loss_value(IouKind kind, const T* p, const T* g, T* iou_out = nullptr) {
  using std::atan;
  const T eps = T(kBoxEps);
  T iw = box_min(p[2], g[2]) - box_max(p[0], g[0]);
  T ih = box_min(p[3], g[3]) - box_max(p[1], g[1]);
  T inter = (iw > T(0) && ih > T(0)) ? iw * ih : T(0);
  T wp = p[2] - p[0], hp = p[3] - p[1], wg = g[2] - g[0], hg = g[3] - g[1];
  T uni = wp * hp + wg * hg - inter;
  T iou = inter / (uni + eps);
  if (iou_out) *iou_out = iou;
  if (kind == IouKind::kIou) return T(1) - iou;
  T cw = box_max(p[2], g[2]) - box_min(p[0], g[0]);
  T ch = box_max(p[3], g[3]) - box_min(p[1], g[1]);
  if (kind == IouKind::kGiou) {
    T area_c = cw * ch;
    return T(1) - (iou - (area_c - uni) / (area_c + eps));
  }
  T c2 = cw * cw + ch * ch + eps;
  T dx = (p[0] + p[2]) * T(0.5) - (g[0] + g[2]) * T(0.5);
  T dy = (p[1] + p[3]) * T(0.5) - (g[1] + g[3]) * T(0.5);
  T rho2 = dx * dx + dy * dy;
  T loss = T(1) - iou + rho2 / c2;
  if (kind == IouKind::kDiou) return loss;
  const T k = T(kFourOverPiSquared);
  T da = atan(wg / box_max(hg, eps)) - atan(wp / box_max(hp, eps));
  T v = k * da * da;
  T alpha = v / (T(1) - iou + v + eps);
  return loss + alpha * v;
}

// d(loss)/d(pred) for iou_loss_value, pred in xyxy; writes 4 values into dp.
template <typename T>
LOCDET_HD void iou_loss_grad(IouKind kind, const T* p, const T* g, T* dp) {
  using std::atan;
  const T eps = T(kBoxEps);
  T ix1 = box_max(p[0], g[0]), iy1 = box_max(p[1], g[1]);
  T ix2 = box_min(p[2], g[2]), iy2 = box_min(p[3], g[3]);
  T iw = ix2 - ix1, ih = iy2 - iy1;
  bool overlap = iw > T(0) && ih > T(0);
  T inter = overlap ? iw * ih : T(0);
  // dI/dp: an edge of the intersection moves with the prediction only where the prediction
  // is the binding (inner) edge.
  T di[4] = {T(0), T(0), T(0), T(0)};
  if (overlap) {
    di[0] = p[0] >= g[0] ? -ih : T(0);
    di[1] = p[1] >= g[1] ? -iw : T(0);
    di[2] = p[2] <= g[2] ? ih : T(0);
    di[3] = p[3] <= g[3] ? iw : T(0);
  }
  T wp = p[2] - p[0], hp = p[3] - p[1], wg = g[2] - g[0], hg = g[3] - g[1];
  T dap[4] = {-hp, -wp, hp, wp};
  T uni = wp * hp + wg * hg - inter;
  T ue = uni + eps;
  T iou = inter / ue;
  T du[4], diou[4];
  for (int k = 0; k < 4; ++k) {
    du[k] = dap[k] - di[k];
    diou[k] = di[k] / ue - iou * du[k] / ue;
  }
  if (kind == IouKind::kIou) {
    for (int k = 0; k < 4; ++k) dp[k] = -diou[k];
    return;
  }
  T cw = box_max(p[2], g[2]) - box_min(p[0], g[0]);
  T ch = box_max(p[3], g[3]) - box_min(p[1], g[1]);
  // d(cw)/dp and d(ch)/dp: the enclosing box moves with the prediction where it is outermost.
  T dcw[4] = {p[0] <= g[0] ? T(-1) : T(0), T(0), p[2] >= g[2] ? T(1) : T(0), T(0)};
  T dch[4] = {T(0), p[1] <= g[1] ? T(-1) : T(0), T(0), p[3] >= g[3] ? T(1) : T(0)};
  if (kind == IouKind::kGiou) {
    T area_c = cw * ch;
    T ce = area_c + eps;
    for (int k = 0; k < 4; ++k) {
      T dc = dcw[k] * ch + dch[k] * cw;
      T dpen = (dc - du[k]) / ce - (area_c - uni) * dc / (ce * ce);
      dp[k] = -(diou[k] - dpen);
    }
    return;
  }
  T c2 = cw * cw + ch * ch + eps;
  T dx = (p[0] + p[2]) * T(0.5) - (g[0] + g[2]) * T(0.5);
  T dy = (p[1] + p[3]) * T(0.5) - (g[1] + g[3]) * T(0.5);
  T rho2 = dx * dx + dy * dy;
  T drho2[4] = {dx, dy, dx, dy};
  for (int k = 0; k < 4; ++k) {
    T dc2 = T(2) * (cw * dcw[k] + ch * dch[k]);
    dp[k] = -diou[k] + drho2[k] / c2 - rho2 * dc2 / (c2 * c2);
  }
  if (kind == IouKind::kDiou) return;
  const T kv = T(kFourOverPiSquared);
  T hps = box_max(hp, eps);
  T da = atan(wg / box_max(hg, eps)) - atan(wp / hps);
  T v = kv * da * da;
  T alpha = v / (T(1) - iou + v + eps);
  // d atan(w/h)/dw = h / (w^2 + h^2), d/dh = -w / (w^2 + h^2); the h clamp has zero gradient.
  T r2 = wp * wp + hps * hps;
  T datan_dw = hps / r2;
  T datan_dh = hp > eps ? -wp / r2 : T(0);
  T dv_dw = -T(2) * kv * da * datan_dw;
  T dv_dh = -T(2) * kv * da * datan_dh;
  dp[0] += alpha * -dv_dw;
  dp[2] += alpha * dv_dw;
  dp[1] += alpha * -dv_dh;
  dp[3] += alpha * dv_dh;
}

// ---- detector head box parametrization ------------------------------------------------------
//
// Raw head outputs t = (tx, ty, tw, th) relative to an anchor a = (acx, acy, aw, ah) (cxcywh)
// and a centre range r (the detector passes its feature stride):
//   cx = acx + r * (2 sigmoid(tx) - 1)       centre bounded to within one stride of the anchor
//   cy = acy + r * (2 sigmoid(ty) - 1)
//   w  = aw * exp(min(tw, kMaxLogScale))     size positive, relative to the anchor
//   h  = ah * exp(min(th, kMaxLogScale))
// and the output is xyxy. Bounded centres and positive sizes keep IoU losses well posed from
// the first step (no flipped boxes, no exploding offsets). The gradient of the clamp is zero
// above kMaxLogScale, as for any clamp.

template <typename T>
LOCDET_HD T box_sigmoid(T x) {
  using std::exp;
  return x >= T(0) ? T(1) / (T(1) + exp(-x)) : exp(x) / (T(1) + exp(x));
}

template <typename T>
LOCDET_HD void decode_box(const T* t, const T* anchor_cxcywh, T center_range, T* out_xyxy) {
  using std::exp;
  T cx = anchor_cxcywh[0] + center_range * (T(2) * box_sigmoid(t[0]) - T(1));
  T cy = anchor_cxcywh[1] + center_range * (T(2) * box_sigmoid(t[1]) - T(1));
  T w = anchor_cxcywh[2] * exp(box_min(t[2], T(kMaxLogScale)));
  T h = anchor_cxcywh[3] * exp(box_min(t[3], T(kMaxLogScale)));
  out_xyxy[0] = cx - T(0.5) * w;
  out_xyxy[1] = cy - T(0.5) * h;
  out_xyxy[2] = cx + T(0.5) * w;
  out_xyxy[3] = cy + T(0.5) * h;
}

// Given d(loss)/d(out_xyxy), writes d(loss)/d(t).
template <typename T>
LOCDET_HD void decode_box_grad(const T* t, const T* anchor_cxcywh, T center_range, const T* dout_xyxy,
                               T* dt) {
  using std::exp;
  T sx = box_sigmoid(t[0]), sy = box_sigmoid(t[1]);
  T dcx = dout_xyxy[0] + dout_xyxy[2], dcy = dout_xyxy[1] + dout_xyxy[3];
  T dw = T(0.5) * (dout_xyxy[2] - dout_xyxy[0]), dh = T(0.5) * (dout_xyxy[3] - dout_xyxy[1]);
  dt[0] = dcx * center_range * T(2) * sx * (T(1) - sx);
  dt[1] = dcy * center_range * T(2) * sy * (T(1) - sy);
  dt[2] = t[2] < T(kMaxLogScale) ? dw * anchor_cxcywh[2] * exp(t[2]) : T(0);
  dt[3] = t[3] < T(kMaxLogScale) ? dh * anchor_cxcywh[3] * exp(t[3]) : T(0);
}

// Inverse of decode_box (for regression targets or initializing a head): the centre offset is
// clamped to just inside the reachable range so the logit stays finite.
template <typename T>
LOCDET_HD void encode_box(const T* box_xyxy, const T* anchor_cxcywh, T center_range, T* t) {
  using std::log;
  T b[4];
  xyxy_to_cxcywh(box_xyxy, b);
  const T lim = T(1e-6);
  T ux = (b[0] - anchor_cxcywh[0]) / center_range * T(0.5) + T(0.5);
  T uy = (b[1] - anchor_cxcywh[1]) / center_range * T(0.5) + T(0.5);
  ux = box_min(box_max(ux, lim), T(1) - lim);
  uy = box_min(box_max(uy, lim), T(1) - lim);
  t[0] = log(ux / (T(1) - ux));
  t[1] = log(uy / (T(1) - uy));
  t[2] = log(box_max(b[2], T(kBoxEps)) / anchor_cxcywh[2]);
  t[3] = log(box_max(b[3], T(kBoxEps)) / anchor_cxcywh[3]);
}

}  // namespace locdet
