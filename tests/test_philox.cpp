// Philox4x32-10 against the Random123 known-answer vectors (kat_vectors), plus the
// properties the scene renderer relies on: uniform floats in [0, 1), multiply-high
// ranges, stream determinism, and sane Box-Muller moments.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/common/philox.h"

namespace {

using locdet::Philox4;
using locdet::philox4x32_10;

void expect_block(Philox4 ctr, uint32_t k0, uint32_t k1, const uint32_t (&want)[4]) {
  Philox4 got = philox4x32_10(ctr, k0, k1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got.v[i], want[i]) << "word " << i;
}

TEST(Philox, KnownAnswerVectors) {
  expect_block(Philox4{{0, 0, 0, 0}}, 0, 0, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  expect_block(Philox4{{~0u, ~0u, ~0u, ~0u}}, ~0u, ~0u, {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  expect_block(Philox4{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
               {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST(Philox, UniformAndBelowRanges) {
  EXPECT_EQ(locdet::philox_uniform(0u), 0.0f);
  EXPECT_LT(locdet::philox_uniform(0xffffffffu), 1.0f);
  EXPECT_EQ(locdet::philox_below(0xffffffffu, 10u), 9u);
  EXPECT_EQ(locdet::philox_below(0u, 10u), 0u);
  locdet::PhiloxStream s;
  s.init(1, 2, 3, 0);
  double sum = 0.0;
  int hist[10] = {};
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    float u = s.uniform();
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
    ++hist[s.below(10)];
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);                                     // sd of the mean ~ 0.0009
  for (int c = 0; c < 10; ++c) EXPECT_NEAR(hist[c], n / 10, 500) << c;  // sd ~ 95
}

TEST(Philox, StreamIsAPureFunctionOfKeyAndCounter) {
  locdet::PhiloxStream a, b, c;
  a.init(7, 8, 123456789012345ull, 0);
  b.init(7, 8, 123456789012345ull, 0);
  c.init(7, 8, 123456789012346ull, 0);
  int differ = 0;
  for (int i = 0; i < 37; ++i) {
    uint32_t x = a.next_u32();
    EXPECT_EQ(x, b.next_u32());
    differ += x != c.next_u32();
  }
  EXPECT_GT(differ, 30);
  // Block b of the stream is the raw Philox block with counter (lo, hi, b, stream).
  locdet::PhiloxStream d;
  d.init(7, 8, 0x100000002ull, 5);
  for (int i = 0; i < 4; ++i) d.next_u32();
  Philox4 raw = philox4x32_10(Philox4{{2u, 1u, 1u, 5u}}, 7, 8);
  EXPECT_EQ(d.next_u32(), raw.v[0]);
}

TEST(Philox, NormalMoments) {
  locdet::PhiloxStream s;
  s.init(3, 4, 5, 6);
  double sum = 0.0, sum2 = 0.0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    float z = locdet::philox_normal(s.next_u32(), s.next_u32());
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sum2 += static_cast<double>(z) * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.015);  // sd of the mean ~ 0.0022
  EXPECT_NEAR(sum2 / n, 1.0, 0.02);  // sd of the variance ~ 0.0032
}

}  // namespace
