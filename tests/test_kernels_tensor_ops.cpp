// sum_to: the per-output sum the CUDA kernel runs (kernels/common/index4.h) against the CPU's
// sequential scatter, bit for bit, over the reductions autodiff emits for broadcasting.
#include <gtest/gtest.h>

#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "engine/ops/node_args.h"
#include "kernels/common/index4.h"
#include "kernels/cpu/tensor_ops.h"
#include "tests/grad_check.h"

namespace locdet {
namespace {

struct SumToCase {
  Shape in, out;
};
// Test names and failure messages show the shapes, not the struct's bytes.
void PrintTo(const SumToCase& c, std::ostream* os) {
  *os << c.in.str() << " -> " << c.out.str();
}
std::string case_name(const ::testing::TestParamInfo<SumToCase>& info) {
  std::string name;
  for (const Shape* s : {&info.param.in, &info.param.out}) {
    name += name.empty() ? "" : "_to_";
    for (int i = 0; i < s->rank; ++i) name += (i ? "x" : "") + std::to_string((*s)[i]);
  }
  return name;
}

class SumTo : public ::testing::TestWithParam<SumToCase> {};

TEST_P(SumTo, PerOutputSumIsBitEqualToTheCpuScatter) {
  const auto& [in, out] = GetParam();
  const Index4 d = broadcast_index(in, out, out);
  const std::vector<double> random = test::random_uniform(static_cast<size_t>(in.numel()), 7);
  const std::vector<float> x(random.begin(), random.end());
  std::vector<float> expected(out.numel(), -99.0f);
  cpu::sum_to<float>(d, 0.5f, x.data(), expected.data(), out.numel());
  for (int64_t o = 0; o < out.numel(); ++o) {
    const float got = sum_to_element(d, 0.5f, x.data(), o);
    EXPECT_EQ(std::memcmp(&got, &expected[o], sizeof(float)), 0)
        << "output " << o << " of " << in.str() << " -> " << out.str() << ": " << got << " vs "
        << expected[o];
  }
}

// The reductions autodiff emits for broadcasting.
INSTANTIATE_TEST_SUITE_P(Shapes, SumTo,
                         ::testing::Values(SumToCase{Shape{6, 5}, Shape{6, 1}},              // per row
                                           SumToCase{Shape{6, 5}, Shape{1, 5}},              // a bias
                                           SumToCase{Shape{4, 3, 5, 7}, Shape{1, 3, 1, 1}},  // per channel
                                           SumToCase{Shape{4, 3, 5, 7}, Shape{4, 1, 5, 1}},  // 2 of 4 kept
                                           SumToCase{Shape{2, 3, 4}, Shape{3, 1}},           // leading dim
                                           SumToCase{Shape{3, 1, 4}, Shape{3, 1, 1}},        // size-1 dim
                                           SumToCase{Shape{5, 4}, Shape{5, 4}}),             // no reduction
                         case_name);

}  // namespace
}  // namespace locdet
