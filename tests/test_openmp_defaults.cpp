// The apps' OpenMP waiting policy (kernels/base/openmp_defaults.h): a short spin on an idle
// machine, passive waiting on a busy one or when that is unknown, and the start-up line
// that tells which one a run got and why.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>

#include "kernels/base/openmp_defaults.h"

namespace locdet {
namespace {

TEST(OpenmpDefaults, SpinsOnAnIdleMachineAndSleepsOnABusyOne) {
  for (double busy : {0.0, 0.2, 0.49}) {
    const OpenmpWait wait = choose_openmp_wait(busy);
    EXPECT_EQ(wait.variable, "GOMP_SPINCOUNT") << busy << " cores busy";
    EXPECT_EQ(wait.value, "30000") << busy << " cores busy";
  }
  for (double busy : {0.5, 1.0, 2.1, 11.0, -1.0}) {
    const OpenmpWait wait = choose_openmp_wait(busy);
    EXPECT_EQ(wait.variable, "OMP_WAIT_POLICY") << busy << " cores busy";
    EXPECT_EQ(wait.value, "passive") << busy << " cores busy";
  }
}

// Sets (or, for nullptr, unsets) the three variables the summary reads, restoring them after.
class OpenmpSummary : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kNames) {
      const char* v = std::getenv(name);
      saved_[name] = v ? std::string(v) : std::string("\x01unset");
    }
  }
  void TearDown() override {
    for (const char* name : kNames) {
      const std::string& v = saved_[name];
      if (v == "\x01unset")
        unsetenv(name);
      else
        setenv(name, v.c_str(), 1);
    }
  }
  static void set(const char* policy, const char* spin, const char* choice) {
    const char* values[3] = {policy, spin, choice};
    for (int i = 0; i < 3; ++i) {
      if (values[i])
        setenv(kNames[i], values[i], 1);
      else
        unsetenv(kNames[i]);
    }
  }
  static constexpr const char* kNames[3] = {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "LOCDET_OMP_WAIT"};
  std::map<std::string, std::string> saved_;
};

TEST_F(OpenmpSummary, NamesTheChoiceAndItsReason) {
  set(nullptr, "30000", "spin 30000 (0.03 cores busy at start)");
  EXPECT_EQ(openmp_wait_summary(), "spin 30000 (0.03 cores busy at start)");
  set("passive", nullptr, "passive (1.98 cores busy at start)");
  EXPECT_EQ(openmp_wait_summary(), "passive (1.98 cores busy at start)");
}

TEST_F(OpenmpSummary, NamesTheUsersOwnSettingsOverAStaleChoice) {
  set(nullptr, "300", "spin 30000 (0.03 cores busy at start)");  // a child process changed it
  EXPECT_EQ(openmp_wait_summary(), "GOMP_SPINCOUNT=300 (yours)");
  set("active", nullptr, "passive (1.98 cores busy at start)");
  EXPECT_EQ(openmp_wait_summary(), "OMP_WAIT_POLICY=active (yours)");
  set("passive", "30000", "spin 30000 (0.03 cores busy at start)");
  EXPECT_EQ(openmp_wait_summary(), "OMP_WAIT_POLICY=passive (yours)");
  set("passive", "30000", "passive (1.98 cores busy at start)");  // the choice set only one of them
  EXPECT_EQ(openmp_wait_summary(), "OMP_WAIT_POLICY=passive (yours)");
  set(nullptr, nullptr, "spin 30000 (0.03 cores busy at start)");
  EXPECT_EQ(openmp_wait_summary(), "libgomp default");
  set(nullptr, nullptr, nullptr);
  EXPECT_EQ(openmp_wait_summary(), "libgomp default");
}

}  // namespace
}  // namespace locdet
