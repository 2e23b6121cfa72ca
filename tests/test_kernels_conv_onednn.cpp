// oneDNN convolution (kernels/cpu/conv_onednn.h) against the reference (kernels/cpu/conv.h) on
// the localizer's shapes at batch 64 and on odd ones (stride 2 with and without leftover rows,
// 1x1, pad 0, batch 1, 5x5, channels not a multiple of 8, bias), every pass.
//
// Tolerance: both float paths are compared with the reference computed in double, relative to
// M, the same pass computed on absolute values (M >= |every partial sum|, so a float sum in any
// order is within a small multiple of 2^-24 * M for the blocked and chunked orders used here,
// far below the n * 2^-24 * M worst case). Measured: at most 3.4e-7 * M for either path on every
// case and pass, at full, AVX2 and SSE4.1 instruction sets; we require 2e-6 * M. A wrong index,
// stride, padding or dropped tap costs a sizeable fraction of M.
// The CTest entries onednn_conv_isa_* rerun these tests with DNNL_MAX_CPU_ISA lowered.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "engine/autodiff.h"
#include "engine/executor.h"
#include "kernels/base/error.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/conv_onednn.h"
#include "tests/grad_check.h"

namespace locdet {
namespace {

using cpu::ConvPass;
using cpu::OnednnConv2d;
using test::random_uniform;

constexpr double kTolerance = 2e-6;  // times M, see the header comment

struct ConvCase {
  const char* name;
  Conv2dDims d;
  bool bias;
};
void PrintTo(const ConvCase& c, std::ostream* os) {
  *os << c.name;
}

// 64-byte aligned bytes, as the planner's 256-byte aligned workspaces are.
class AlignedBytes {
 public:
  // Filled with NaN bytes: a workspace the planner hands out holds other tensors' old values.
  explicit AlignedBytes(size_t bytes) : raw_(new std::byte[bytes + 64]) {
    std::memset(raw_.get(), 0xff, bytes + 64);
  }
  void* data() {
    auto p = reinterpret_cast<uintptr_t>(raw_.get());
    return raw_.get() + ((64 - p % 64) % 64);
  }

 private:
  std::unique_ptr<std::byte[]> raw_;
};

std::vector<float> to_float(const std::vector<double>& v) {
  return {v.begin(), v.end()};
}
std::vector<double> absolute(std::vector<double> v) {
  for (double& x : v) x = std::fabs(x);
  return v;
}

struct Check {
  double worst = 0.0;  // max |got - want| / M
  size_t worst_index = 0;
};

// |got - want| <= kTolerance * m elementwise; returns the worst ratio |got - want| / m.
Check compare(const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& m) {
  Check c;
  for (size_t i = 0; i < want.size(); ++i) {
    const double ratio = std::fabs(got[i] - want[i]) / std::max(m[i], 1e-30);
    if (ratio > c.worst) c.worst = ratio, c.worst_index = i;
  }
  return c;
}

#define EXPECT_WITHIN_TOLERANCE(got, want, m, what)                                                          \
  do {                                                                                                       \
    const Check c_ = compare(got, want, m);                                                                  \
    EXPECT_LE(c_.worst, kTolerance) << what << ": worst |float - double| / M = " << c_.worst << " at index " \
                                    << c_.worst_index << " (" << (got)[c_.worst_index] << " vs "             \
                                    << (want)[c_.worst_index] << ")";                                        \
  } while (0)

class OnednnConv : public ::testing::TestWithParam<ConvCase> {
 protected:
  void SetUp() override {
    if (!cpu::onednn_built()) GTEST_SKIP() << "built with -DLOCDET_ONEDNN=OFF";
  }
};

TEST_P(OnednnConv, EveryPassMatchesTheReference) {
  const Conv2dDims d = GetParam().d;
  const bool bias = GetParam().bias;
  const size_t xs = size_t(d.n) * d.c * d.h * d.w, ws = size_t(d.k) * d.c * d.r * d.s,
               ys = size_t(d.n) * d.k * d.out_h() * d.out_w();
  const auto x = random_uniform(xs, 11), w = random_uniform(ws, 12), b = random_uniform(d.k, 13),
             dy = random_uniform(ys, 14);
  const auto xf = to_float(x), wf = to_float(w), bf = to_float(b), dyf = to_float(dy);

  // The specification in double, and the same passes on absolute values (M).
  const size_t ref_ws = cpu::conv2d_workspace_elems(d);
  std::vector<double> work(ref_ws), y(ys), dx(xs), dw(ws), db(d.k), my(ys), mdx(xs), mdw(ws), mdb(d.k);
  cpu::conv2d_forward<double>(d, x.data(), w.data(), bias ? b.data() : nullptr, y.data(), work.data());
  cpu::conv2d_backward_data<double>(d, dy.data(), w.data(), dx.data(), work.data());
  cpu::conv2d_backward_filter<double>(d, x.data(), dy.data(), dw.data(), db.data(), work.data());
  const auto ax = absolute(x), aw = absolute(w), ab = absolute(b), ady = absolute(dy);
  cpu::conv2d_forward<double>(d, ax.data(), aw.data(), bias ? ab.data() : nullptr, my.data(), work.data());
  cpu::conv2d_backward_data<double>(d, ady.data(), aw.data(), mdx.data(), work.data());
  cpu::conv2d_backward_filter<double>(d, ax.data(), ady.data(), mdw.data(), mdb.data(), work.data());

  // The float reference meets the bound (calibration), then oneDNN.
  std::vector<float> workf(ref_ws), yf(ys), dxf(xs), dwf(ws), dbf(d.k);
  cpu::conv2d_forward<float>(d, xf.data(), wf.data(), bias ? bf.data() : nullptr, yf.data(), workf.data());
  cpu::conv2d_backward_data<float>(d, dyf.data(), wf.data(), dxf.data(), workf.data());
  cpu::conv2d_backward_filter<float>(d, xf.data(), dyf.data(), dwf.data(), dbf.data(), workf.data());
  EXPECT_WITHIN_TOLERANCE(yf, y, my, "reference forward");
  EXPECT_WITHIN_TOLERANCE(dxf, dx, mdx, "reference backward data");
  EXPECT_WITHIN_TOLERANCE(dwf, dw, mdw, "reference backward filter");

  // Outputs start as NaN: every element must be written.
  std::vector<float> yo(ys, NAN), dxo(xs, NAN), dwo(ws, NAN), dbo(d.k, NAN);
  OnednnConv2d fwd(d, ConvPass::kForward, bias);
  AlignedBytes fwd_ws(fwd.workspace_bytes());
  fwd.forward(xf.data(), wf.data(), bias ? bf.data() : nullptr, yo.data(), fwd_ws.data());
  EXPECT_WITHIN_TOLERANCE(yo, y, my, "oneDNN forward (" << fwd.implementation() << ")");

  OnednnConv2d bwd_data(d, ConvPass::kBackwardData, false);
  AlignedBytes data_ws(bwd_data.workspace_bytes());
  bwd_data.backward_data(dyf.data(), wf.data(), dxo.data(), data_ws.data());
  EXPECT_WITHIN_TOLERANCE(dxo, dx, mdx, "oneDNN backward data (" << bwd_data.implementation() << ")");

  OnednnConv2d bwd_filter(d, ConvPass::kBackwardFilter, bias);
  AlignedBytes filter_ws(bwd_filter.workspace_bytes());
  bwd_filter.backward_filter(xf.data(), dyf.data(), dwo.data(), bias ? dbo.data() : nullptr,
                             filter_ws.data());
  EXPECT_WITHIN_TOLERANCE(dwo, dw, mdw, "oneDNN backward filter (" << bwd_filter.implementation() << ")");
  if (bias) EXPECT_WITHIN_TOLERANCE(dbo, db, mdb, "oneDNN bias gradient");

  // A second call through the same objects (new operands, same workspace) is as right.
  const auto x2 = random_uniform(xs, 15), ax2 = absolute(x2);
  const auto x2f = to_float(x2);
  std::vector<float> y2(ys, NAN);
  std::vector<double> y2_ref(ys), my2(ys);
  cpu::conv2d_forward<double>(d, x2.data(), w.data(), bias ? b.data() : nullptr, y2_ref.data(), work.data());
  cpu::conv2d_forward<double>(d, ax2.data(), aw.data(), bias ? ab.data() : nullptr, my2.data(), work.data());
  fwd.forward(x2f.data(), wf.data(), bias ? bf.data() : nullptr, y2.data(), fwd_ws.data());
  EXPECT_WITHIN_TOLERANCE(y2, y2_ref, my2, "oneDNN forward, second call");
}

// The localizer's convolutions at batch 64 (small backbone width 16 on 48x60, its head), then odd ones.
INSTANTIATE_TEST_SUITE_P(
    KernelsConv, OnednnConv,
    ::testing::Values(ConvCase{"conv1_1to16_48x60", {64, 1, 48, 60, 16, 3, 3, 1, 1}, false},
                      ConvCase{"conv2_16to16_48x60", {64, 16, 48, 60, 16, 3, 3, 1, 1}, false},
                      ConvCase{"conv3_16to32_24x30", {64, 16, 24, 30, 32, 3, 3, 1, 1}, false},
                      ConvCase{"conv4_32to32_24x30", {64, 32, 24, 30, 32, 3, 3, 1, 1}, false},
                      ConvCase{"conv5_32to64_12x15", {64, 32, 12, 15, 64, 3, 3, 1, 1}, false},
                      ConvCase{"conv6_64to64_12x15", {64, 64, 12, 15, 64, 3, 3, 1, 1}, false},
                      ConvCase{"head_1x1_64to15_bias", {64, 64, 12, 15, 15, 1, 1, 1, 0}, true},
                      ConvCase{"stride2_pad1_odd", {3, 5, 9, 11, 7, 3, 3, 2, 1}, false},
                      ConvCase{"stride2_pad0_leftover", {2, 3, 8, 10, 6, 3, 3, 2, 0}, true},
                      ConvCase{"stride2_1x1", {2, 9, 7, 8, 5, 1, 1, 2, 0}, false},
                      ConvCase{"pad0_3x3", {2, 6, 10, 9, 11, 3, 3, 1, 0}, false},
                      ConvCase{"pointwise_bias", {2, 12, 7, 5, 10, 1, 1, 1, 0}, true},
                      ConvCase{"batch1_bias", {1, 13, 17, 19, 9, 3, 3, 1, 1}, true},
                      ConvCase{"k5_pad2_bias", {2, 3, 12, 14, 6, 5, 5, 1, 2}, true},
                      ConvCase{"channels20to12", {2, 20, 9, 9, 12, 3, 3, 1, 1}, false},
                      ConvCase{"resnet_down_stride2", {4, 24, 12, 15, 48, 3, 3, 2, 1}, false}),
    [](const ::testing::TestParamInfo<ConvCase>& info) { return std::string(info.param.name); });

TEST(OnednnConvUse, WrongPassOrBiasIsAnError) {
  if (!cpu::onednn_built()) GTEST_SKIP() << "built with -DLOCDET_ONEDNN=OFF";
  const Conv2dDims d{1, 2, 5, 5, 3, 3, 3, 1, 1};
  OnednnConv2d fwd(d, ConvPass::kForward, false);
  std::vector<float> x(50), w(54), b(3), y(75);
  AlignedBytes ws(fwd.workspace_bytes());
  EXPECT_THROW(fwd.backward_data(y.data(), w.data(), x.data(), ws.data()), Error);
  EXPECT_THROW(fwd.forward(x.data(), w.data(), b.data(), y.data(), ws.data()), Error);
  EXPECT_THROW(OnednnConv2d(Conv2dDims{1, 1, 2, 2, 1, 3, 3, 1, 0}, ConvPass::kForward, false), Error);
}

// Under the CTest entries onednn_conv_isa_*: oneDNN really runs below its best instruction set.
TEST(OnednnConvUse, HonoursTheInstructionSetCap) {
  if (!cpu::onednn_built()) GTEST_SKIP() << "built with -DLOCDET_ONEDNN=OFF";
  const char* cap = std::getenv("DNNL_MAX_CPU_ISA");
  if (!cap) GTEST_SKIP() << "DNNL_MAX_CPU_ISA not set (the onednn_conv_isa_* CTest entries set it)";
  const std::string forbidden = std::string(cap) == "SSE41"  ? "avx"
                                : std::string(cap) == "AVX2" ? "avx512"
                                                             : "";
  if (forbidden.empty()) GTEST_SKIP() << "no check for DNNL_MAX_CPU_ISA=" << cap;
  for (const ConvPass pass : {ConvPass::kForward, ConvPass::kBackwardData, ConvPass::kBackwardFilter}) {
    const OnednnConv2d conv(Conv2dDims{64, 16, 48, 60, 16, 3, 3, 1, 1}, pass, false);
    EXPECT_EQ(conv.implementation().find(forbidden), std::string::npos)
        << "DNNL_MAX_CPU_ISA=" << cap << " but oneDNN chose " << conv.implementation();
  }
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

// The CPU backend's wiring: a conv (stride 2, bias) -> BN -> ReLU -> 1x1 conv (bias) graph gives the
// same loss and parameter gradients with LOCDET_CPU_CONV=onednn and =reference.
TEST(OnednnConvUse, ExecutorMatchesTheReferenceEngine) {
  if (!cpu::onednn_built()) GTEST_SKIP() << "built with -DLOCDET_ONEDNN=OFF";
  auto run = [](const char* engine, std::string* mode) {
    ScopedEnv env("LOCDET_CPU_CONV", engine);
    Graph g;
    Value x = g.input("x", {3, 5, 9, 11});
    Value h = g.conv2d(x, g.parameter("c1.weight", {12, 5, 3, 3}, Init::kKaimingUniform),
                       g.parameter("c1.bias", {12}, Init::kZeros), 2, 1);
    h = g.relu(g.batchnorm(h, "bn1"));
    h = g.conv2d(h, g.parameter("c2.weight", {7, 12, 1, 1}, Init::kKaimingUniform),
                 g.parameter("c2.bias", {7}, Init::kZeros), 1, 0);
    Value loss = g.mean(g.mul(h, h));
    Gradients grads = build_backward(g, loss);
    g.mark_output(loss);
    std::vector<Value> params = g.parameters();
    for (Value p : params) g.mark_output(grads[p]);
    Executor ex(g);
    *mode = ex.mode();
    ex.write(x, to_float(random_uniform(3 * 5 * 9 * 11, 21)));
    ex.step();
    std::vector<std::vector<float>> out{ex.read(loss)};
    for (Value p : params) out.push_back(ex.read(grads[p]));
    return out;
  };
  std::string onednn_mode, reference_mode;
  const auto a = run("onednn", &onednn_mode), b = run("reference", &reference_mode);
  EXPECT_NE(onednn_mode.find("oneDNN conv"), std::string::npos) << onednn_mode;
  EXPECT_EQ(onednn_mode.find("reference conv"), std::string::npos)
      << "every conv node on oneDNN, none fell back: " << onednn_mode;
  EXPECT_NE(reference_mode.find("reference conv"), std::string::npos) << reference_mode;
  EXPECT_EQ(reference_mode.find("oneDNN"), std::string::npos) << reference_mode;
  ASSERT_EQ(a.size(), b.size());
  for (size_t t = 0; t < a.size(); ++t)
    for (size_t i = 0; i < a[t].size(); ++i)
      EXPECT_NEAR(a[t][i], b[t][i], 1e-5 + 1e-4 * std::fabs(b[t][i])) << "output " << t << " [" << i << "]";
}

TEST(OnednnConvUse, UnknownEngineNameIsAClearError) {
  ScopedEnv env("LOCDET_CPU_CONV", "mkl");
  Graph g;
  Value x = g.input("x", {1, 1, 4, 4});
  g.mark_output(g.conv2d(x, g.parameter("w", {1, 1, 3, 3}, Init::kKaimingUniform), {}, 1, 1));
  try {
    Executor ex(g);
    FAIL() << "expected an error for LOCDET_CPU_CONV=mkl";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LOCDET_CPU_CONV"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("reference"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace locdet
