// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
// a counter-based RNG, so draw n of sample i is a pure function of (key, counter) and
// scene i is the same image whatever the batch size, order, thread count or device.
// Also: uniform floats built from the top 24 bits (exact on every backend) and a
// Box-Muller normal. The `hd_*` helpers are float ops that are never contracted into
// FMAs, so code written with them rounds identically on the host and the GPU.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common/hostdevice.h"

namespace locdet {

struct Philox4 {
  uint32_t v[4];
};

LOCDET_HD uint32_t philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t product = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(product >> 32);
  return static_cast<uint32_t>(product);
}

// One Philox4x32 block with 10 rounds: counter (4 words) and key (2 words) -> 4 random words.
LOCDET_HD Philox4 philox4x32_10(Philox4 ctr, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    uint32_t lo0 = philox_mulhilo(kM0, ctr.v[0], &hi0);
    uint32_t lo1 = philox_mulhilo(kM1, ctr.v[2], &hi1);
    Philox4 next;
    next.v[0] = hi1 ^ ctr.v[1] ^ key0;
    next.v[1] = lo1;
    next.v[2] = hi0 ^ ctr.v[3] ^ key1;
    next.v[3] = lo0;
    ctr = next;
    key0 += kW0;
    key1 += kW1;
  }
  return ctr;
}

// Uniform in [0, 1) with 24 random bits: every value is exactly representable, so the
// host and the device produce the same float.
LOCDET_HD float philox_uniform(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

// Uniform integer in [0, n) by multiply-high (bias < n / 2^32, irrelevant for n <= 60000).
LOCDET_HD uint32_t philox_below(uint32_t bits, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(bits) * n) >> 32);
}

// Float ops that are never fused into an FMA (nvcc contracts a*b+c by default; the host
// build targets x86-64 without FMA), so layouts and pixels round the same everywhere.
#if defined(__CUDA_ARCH__)
LOCDET_HD float hd_mul(float a, float b) {
  return __fmul_rn(a, b);
}
LOCDET_HD float hd_add(float a, float b) {
  return __fadd_rn(a, b);
}
LOCDET_HD float hd_sub(float a, float b) {
  return __fsub_rn(a, b);
}
LOCDET_HD float hd_div(float a, float b) {
  return __fdiv_rn(a, b);
}
#else
LOCDET_HD float hd_mul(float a, float b) {
  return a * b;
}
LOCDET_HD float hd_add(float a, float b) {
  return a + b;
}
LOCDET_HD float hd_sub(float a, float b) {
  return a - b;
}
LOCDET_HD float hd_div(float a, float b) {
  return a / b;
}
#endif

// lo + (hi - lo) * u, rounded identically on every backend.
LOCDET_HD float hd_lerp(float lo, float hi, float u) {
  return hd_add(lo, hd_mul(hd_sub(hi, lo), u));
}

// Sequential draws for one (key, sample, stream): block b of the stream is counter
// (sample_lo, sample_hi, b, stream); each block yields four words.
struct PhiloxStream {
  uint32_t key0, key1;
  uint32_t sample_lo, sample_hi, stream;
  uint32_t block;
  uint32_t buffer[4];
  int used;

  LOCDET_HD void init(uint32_t k0, uint32_t k1, uint64_t sample, uint32_t stream_id) {
    key0 = k0;
    key1 = k1;
    sample_lo = static_cast<uint32_t>(sample);
    sample_hi = static_cast<uint32_t>(sample >> 32);
    stream = stream_id;
    block = 0;
    used = 4;
  }
  LOCDET_HD uint32_t next_u32() {
    if (used == 4) {
      Philox4 out = philox4x32_10(Philox4{{sample_lo, sample_hi, block, stream}}, key0, key1);
      ++block;
      for (int i = 0; i < 4; ++i) buffer[i] = out.v[i];
      used = 0;
    }
    return buffer[used++];
  }
  LOCDET_HD float uniform() { return philox_uniform(next_u32()); }
  LOCDET_HD float uniform(float lo, float hi) { return hd_lerp(lo, hi, uniform()); }
  LOCDET_HD uint32_t below(uint32_t n) { return philox_below(next_u32(), n); }
};

// Box-Muller: two uniforms -> one standard normal (the cosine branch). Uses the
// backend's logf/sqrtf/cosf, so it may differ in the last ulps between host and device;
// the scene renderer does not use it for anything that must match bit for bit.
LOCDET_HD float philox_normal(uint32_t bits_a, uint32_t bits_b) {
  float u1 = (static_cast<float>(bits_a >> 8) + 1.0f) * (1.0f / 16777216.0f);  // (0, 1]
  float u2 = philox_uniform(bits_b);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647692f * u2);
}

}  // namespace locdet
