// Finite-difference gradient checker (Caffe-style), in double.
//
// Usage: build a scalar objective L(x) = sum_i dy_i * f(x)_i with fixed random weights dy, so
// the analytic gradient of L w.r.t. x is exactly what the kernel's backward returns for dy.
// check_gradient perturbs each x_i by +-h (central differences, error O(h^2)) and compares
//   |analytic - numeric| <= abs_tol + rel_tol * max(|analytic|, |numeric|).
// Points where f is not differentiable within h (relu at 0, a max with a near-tie, |d| at 0,
// the smooth-L1 switch) are skipped through near_kink(i, x), which sees the unperturbed x.
// The result names the worst index so a failure says where to look.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace locdet::test {

struct GradCheckOptions {
  double h = 1e-5;
  double rel_tol = 1e-6;
  double abs_tol = 1e-8;
  // Return true to skip index i (x is the unperturbed input).
  std::function<bool(size_t i, const std::vector<double>& x)> near_kink;
};

struct GradCheckResult {
  bool ok = true;
  size_t checked = 0, skipped = 0;
  size_t worst_index = 0;
  double worst_ratio = 0.0;  // |a - n| / (abs_tol + rel_tol * max(|a|, |n|)); > 1 fails
  double worst_analytic = 0.0, worst_numeric = 0.0;

  std::string summary(const std::string& what) const {
    std::ostringstream out;
    out << what << ": checked " << checked << ", skipped " << skipped << ", worst index " << worst_index
        << " analytic " << worst_analytic << " numeric " << worst_numeric << " (error/tolerance "
        << worst_ratio << ")";
    return out.str();
  }
};

// objective() evaluates L at the current contents of x (the checker perturbs x in place and
// restores it). analytic[i] is dL/dx_i from the backward under test.
inline GradCheckResult check_gradient(std::vector<double>& x, const std::vector<double>& analytic,
                                      const std::function<double()>& objective,
                                      const GradCheckOptions& opt = {}) {
  GradCheckResult r;
  EXPECT_EQ(x.size(), analytic.size()) << "gradient size differs from input size";
  for (size_t i = 0; i < x.size() && i < analytic.size(); ++i) {
    if (opt.near_kink && opt.near_kink(i, x)) {
      ++r.skipped;
      continue;
    }
    const double saved = x[i];
    x[i] = saved + opt.h;
    const double plus = objective();
    x[i] = saved - opt.h;
    const double minus = objective();
    x[i] = saved;
    const double numeric = (plus - minus) / (2.0 * opt.h);
    const double a = analytic[i];
    const double ratio =
        std::fabs(a - numeric) / (opt.abs_tol + opt.rel_tol * std::max(std::fabs(a), std::fabs(numeric)));
    ++r.checked;
    if (!(ratio <= r.worst_ratio) || r.checked == 1) {  // NaN counts as worst
      r.worst_ratio = ratio;
      r.worst_index = i;
      r.worst_analytic = a;
      r.worst_numeric = numeric;
    }
    if (!(ratio <= 1.0)) r.ok = false;
  }
  return r;
}

// Asserts the check passed and that it actually checked something.
#define EXPECT_GRAD_OK(result, what)                                  \
  do {                                                                \
    const auto& grad_result_ = (result);                              \
    EXPECT_TRUE(grad_result_.ok) << grad_result_.summary(what);       \
    EXPECT_GT(grad_result_.checked, 0u) << (what) << ": all skipped"; \
  } while (0)

inline std::vector<double> random_uniform(size_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

// sum_i a_i * b_i: the objective L = <dy, f(x)>.
inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace locdet::test
