// CPU float kernels against PyTorch (tests/golden/*.json, made by tools/make_golden.py from
// float64 PyTorch, AdamW in float32). Tolerance: 1e-5 * |ref| + 1e-6 * max(1, max|ref|) --
// relative 1e-5 is float accumulation over <= 60 terms; the absolute floor covers entries that
// cancel to ~0 (BN dx, centred outputs), where a relative bound means nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/loss.h"
#include "kernels/cpu/optim.h"
#include "tests/test_paths.h"

namespace locdet {
namespace {

using nlohmann::json;

json load(const std::string& name) {
  const std::string path = test::source_path("tests/golden/" + name + ".json");
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("missing golden file " + path + " (regenerate with tools/make_golden.py)");
  return json::parse(in);
}

std::vector<float> floats(const json& j) {
  return j.get<std::vector<float>>();
}

void expect_matches(const std::vector<float>& got, const json& ref_json, const std::string& what) {
  const auto ref = ref_json.get<std::vector<double>>();
  ASSERT_EQ(got.size(), ref.size()) << what;
  double scale = 1.0;
  for (double r : ref) scale = std::max(scale, std::fabs(r));
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(got[i], ref[i], 1e-5 * std::fabs(ref[i]) + 1e-6 * scale) << what << " index " << i;
}

TEST(Golden, Conv2dMatchesPyTorch) {
  const json golden = load("conv2d");  // named: a temporary would die before the loop body
  for (const auto& c : golden["cases"]) {
    Conv2dDims d{c["n"], c["c"], c["h"], c["w"], c["k"], c["r"], c["s"], c["stride"], c["pad"]};
    const std::string what = "conv stride " + std::to_string(d.stride) + " pad " + std::to_string(d.pad);
    auto x = floats(c["x"]), w = floats(c["w_"]), dy = floats(c["dy"]);
    const bool has_bias = c.contains("b");
    std::vector<float> b = has_bias ? floats(c["b"]) : std::vector<float>{};
    std::vector<float> y(dy.size()), dx(x.size()), dw(w.size()), db(d.k),
        work(cpu::conv2d_workspace_elems(d));
    cpu::conv2d_forward(d, x.data(), w.data(), has_bias ? b.data() : nullptr, y.data(), work.data());
    cpu::conv2d_backward_data(d, dy.data(), w.data(), dx.data(), work.data());
    cpu::conv2d_backward_filter(d, x.data(), dy.data(), dw.data(), has_bias ? db.data() : nullptr,
                                work.data());
    expect_matches(y, c["y"], what + " y");
    expect_matches(dx, c["dx"], what + " dx");
    expect_matches(dw, c["dw"], what + " dw");
    if (has_bias) expect_matches(db, c["db"], what + " db");
  }
}

TEST(Golden, BatchNormTrainMatchesPyTorch) {
  const json g = load("batchnorm_train");
  BatchNormDims d{g["n"], g["c"], g["hw"]};
  auto x = floats(g["x"]), gamma = floats(g["gamma"]), beta = floats(g["beta"]), dy = floats(g["dy"]);
  auto rm = floats(g["running_mean_in"]), rv = floats(g["running_var_in"]);
  std::vector<float> y(x.size()), mean(d.c), invstd(d.c), dx(x.size()), dgamma(d.c), dbeta(d.c);
  cpu::batchnorm_forward_train(d, x.data(), gamma.data(), beta.data(), y.data(), mean.data(), invstd.data(),
                               rm.data(), rv.data(), g["momentum"].get<float>(), g["eps"].get<float>());
  cpu::batchnorm_backward(d, x.data(), dy.data(), gamma.data(), mean.data(), invstd.data(), dx.data(),
                          dgamma.data(), dbeta.data());
  expect_matches(y, g["y"], "bn y");
  expect_matches(rm, g["running_mean"], "bn running_mean");
  expect_matches(rv, g["running_var"], "bn running_var");
  expect_matches(dx, g["dx"], "bn dx");
  expect_matches(dgamma, g["dgamma"], "bn dgamma");
  expect_matches(dbeta, g["dbeta"], "bn dbeta");
}

TEST(Golden, CrossEntropyWithSmoothingAndIgnoreMatchesPyTorch) {
  const json g = load("cross_entropy");
  const int n = g["n"], classes = g["classes"];
  auto logits = floats(g["logits"]), dloss = floats(g["dloss"]);
  auto labels = g["labels"].get<std::vector<int32_t>>();
  const float smoothing = g["smoothing"];
  std::vector<float> loss(n), dlogits(logits.size());
  cpu::softmax_cross_entropy_forward(n, classes, logits.data(), labels.data(), smoothing, loss.data());
  cpu::softmax_cross_entropy_backward(n, classes, logits.data(), labels.data(), smoothing, dloss.data(),
                                      dlogits.data());
  expect_matches(loss, g["loss"], "ce loss");
  expect_matches(dlogits, g["dlogits"], "ce dlogits");
}

TEST(Golden, BceAndFocalMatchPyTorch) {
  const json g = load("bce_with_logits");
  auto x = floats(g["logits"]), t = floats(g["targets"]), dl = floats(g["dloss"]);
  std::vector<float> loss(x.size()), dx(x.size());
  cpu::bce_with_logits_forward<float>(x.size(), x.data(), t.data(), loss.data());
  cpu::bce_with_logits_backward<float>(x.size(), x.data(), t.data(), dl.data(), dx.data());
  expect_matches(loss, g["loss"], "bce loss");
  expect_matches(dx, g["dlogits"], "bce dlogits");
  const json golden = load("sigmoid_focal");  // named: a temporary would die before the loop body
  for (const auto& c : golden["cases"]) {
    auto fx = floats(c["logits"]), ft = floats(c["targets"]), fdl = floats(c["dloss"]);
    const float alpha = c["alpha"], gamma = c["gamma"];
    std::vector<float> fl(fx.size()), fdx(fx.size());
    cpu::sigmoid_focal_forward<float>(fx.size(), fx.data(), ft.data(), alpha, gamma, fl.data());
    cpu::sigmoid_focal_backward<float>(fx.size(), fx.data(), ft.data(), alpha, gamma, fdl.data(), fdx.data());
    expect_matches(fl, c["loss"], "focal loss alpha " + std::to_string(alpha));
    expect_matches(fdx, c["dlogits"], "focal dlogits alpha " + std::to_string(alpha));
  }
}

TEST(Golden, SmoothL1MatchesPyTorch) {
  const json golden = load("smooth_l1");  // named: a temporary would die before the loop body
  for (const auto& c : golden["cases"]) {
    auto p = floats(c["pred"]), t = floats(c["target"]), dl = floats(c["dloss"]);
    const float beta = c["beta"];
    std::vector<float> loss(p.size()), dp(p.size());
    cpu::smooth_l1_forward<float>(p.size(), p.data(), t.data(), beta, loss.data());
    cpu::smooth_l1_backward<float>(p.size(), p.data(), t.data(), beta, dl.data(), dp.data());
    expect_matches(loss, c["loss"], "smooth_l1 loss");
    expect_matches(dp, c["dpred"], "smooth_l1 dpred");
  }
}

TEST(Golden, AdamWTwoStepsMatchPyTorch) {
  const json g = load("adamw");
  auto param = floats(g["param_in"]);
  const int64_t n = static_cast<int64_t>(param.size());
  std::vector<float> m(n, 0.0f), v(n, 0.0f);
  AdamWParams p{g["beta1"], g["beta2"], g["eps"], g["weight_decay"]};
  const float lr = g["lr"];
  int64_t step = 0;
  for (const auto& grad_json : g["grads"]) {
    auto grad = floats(grad_json);
    ++step;
    cpu::adamw_step(n, param.data(), grad.data(), m.data(), v.data(), nullptr, p, &lr, &step);
  }
  expect_matches(param, g["param"], "adamw param");
  expect_matches(m, g["m"], "adamw exp_avg");
  // exp_avg_sq differs by float(1 - 0.999f) vs PyTorch's float(1 - 0.999) = 1.3e-5 relative.
  const auto ref_v = g["v"].get<std::vector<double>>();
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(v[i], ref_v[i], 2e-5 * ref_v[i] + 1e-12) << "adamw exp_avg_sq " << i;
}

}  // namespace
}  // namespace locdet
