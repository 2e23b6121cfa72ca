// Whole-graph gradient check: every parameter's gradient from autodiff against central
// finite differences of the loss, with the CPU executor computing in double (cpu_double).
// In double, h = 1e-6 gives ~1e-9 truncation + rounding error, so a relative tolerance of
// 1e-5 separates a right backward from a wrong one by orders of magnitude.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "engine/autodiff.h"
#include "engine/executor.h"

namespace locdet {

// Every parameter element (up to `per_param`) against (L(p+h) - L(p-h)) / 2h.
// Tolerance 1e-7 + 1e-5 |numeric|.
inline void check_gradients(Graph g, Value loss,
                            const std::vector<std::pair<Value, std::vector<float>>>& inputs,
                            const std::vector<std::pair<Value, std::vector<int32_t>>>& labels,
                            int per_param = 12, double h = 1e-6) {
  Gradients grads = build_backward(g, loss);
  g.mark_output(loss);
  std::vector<Value> params = g.parameters();
  for (Value p : params) {
    ASSERT_TRUE(grads[p]) << g.info(p).name;
    g.mark_output(grads[p]);
  }
  ExecutorOptions opt;
  opt.cpu_double = true;
  opt.seed = 7;
  Executor ex(g, opt);
  for (auto& [v, values] : inputs) ex.write(v, values);
  for (auto& [v, values] : labels) ex.write_i32(v, values);
  ex.step();
  auto loss_at = [&]() {
    ex.step();
    double out;
    std::memcpy(&out, ex.tensor(loss).data, sizeof(double));
    return out;
  };
  for (Value p : params) {
    Tensor pt = ex.tensor(p);
    Tensor gt = ex.tensor(grads[p]);
    std::vector<double> analytic(gt.as<double>(), gt.as<double>() + gt.numel());
    int64_t n = pt.numel(), stride = std::max<int64_t>(1, n / per_param);
    for (int64_t i = 0; i < n; i += stride) {
      const double saved = pt.as<double>()[i];
      pt.as<double>()[i] = saved + h;
      double up = loss_at();
      pt.as<double>()[i] = saved - h;
      double down = loss_at();
      pt.as<double>()[i] = saved;
      double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(analytic[i], numeric, 1e-7 + 1e-5 * std::fabs(numeric))
          << g.info(p).name << "[" << i << "]";
    }
  }
}

}  // namespace locdet
