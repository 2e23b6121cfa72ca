// Reliability on the GPU: the non-finite flag accumulates across eager and captured
// (CUDA Graph) steps exactly as on the CPU, and a plan larger than the free device memory
// fails at plan time with the needed and free sizes and a batch that fits.
#include <gtest/gtest.h>

#include <limits>

#include "engine/executor.h"
#include "engine/nonfinite.h"
#include "kernels/base/error.h"
#include "tests/cuda/cuda_test_util.h"

namespace locdet {
namespace {

TEST(NonfiniteFlagCuda, AccumulatesAcrossEagerAndCapturedSteps) {
  LOCDET_REQUIRE_GPU();
  for (bool graph : {false, true}) {
    Graph g(false);
    Value a = g.input("a", {1 << 20});  // several blocks: the flag must see the last one too
    Value b = g.input("b", {3});
    Value flag = add_nonfinite_flag(g, {a, b});
    ExecutorOptions options;
    options.device = Device::kCuda;
    options.cuda_graph = graph;
    Executor ex(std::move(g), options);
    std::vector<float> values(1 << 20, 1.0f);
    ex.write(a, values);
    ex.write(b, {1, 2, 3});
    for (int i = 0; i < 3; ++i) ex.step();  // eager warm-up, then capture, then replay
    EXPECT_EQ(read_nonfinite_flag(ex, flag), 0u) << ex.mode();
    values.back() = std::numeric_limits<float>::quiet_NaN();
    ex.write(a, values);
    ex.step();
    EXPECT_EQ(read_nonfinite_flag(ex, flag), 1u) << ex.mode();
    values.back() = 1.0f;
    ex.write(a, values);
    ex.write(b, {1, std::numeric_limits<float>::infinity(), 3});
    ex.step();
    EXPECT_EQ(read_nonfinite_flag(ex, flag), 3u) << "accumulates; " << ex.mode();
    clear_nonfinite_flag(ex, flag);
    ex.write(b, {1, 2, 3});
    ex.step();
    EXPECT_EQ(read_nonfinite_flag(ex, flag), 0u) << ex.mode();
  }
}

TEST(DeviceMemoryCuda, APlanLargerThanTheGpuFailsWithABatchThatFits) {
  LOCDET_REQUIRE_GPU();
  size_t free_bytes = 0, total_bytes = 0;
  CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  // One activation of ~2x the free memory, spread over a batch of 64.
  const int64_t per_sample = static_cast<int64_t>(2 * free_bytes / 64 / sizeof(float));
  Graph g(false);
  Value x = g.input("x", {64, per_sample});
  g.mark_output(g.scale(x, 2.0f));
  ExecutorOptions options;
  options.device = Device::kCuda;
  try {
    Executor ex(std::move(g), options);
    FAIL() << "expected an out-of-memory error at plan time";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out of GPU memory at plan time"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--batch"), std::string::npos) << msg;
    EXPECT_NE(msg.find("batch now 64"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace locdet
