// Checkpoints: round trip through a training executor (params, batchnorm stats, AdamW
// moments, step), exact mismatch reports, every kind of corruption refused, and a failed
// write leaving the previous checkpoint intact.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/autodiff.h"
#include "engine/checkpoint.h"
#include "engine/optim.h"
#include "kernels/base/atomic_file.h"
#include "kernels/base/error.h"

namespace locdet {
namespace {

namespace fs = std::filesystem;

struct Net {
  Graph g;
  Value x, loss;
};

Net build(int width, bool with_optimizer, float ema_decay = 0.0f) {
  Net n{Graph(true), {}, {}};
  n.x = n.g.input("x", {4, 2, 4, 4});
  Value h = n.g.conv2d(n.x, n.g.parameter("conv.weight", {width, 2, 3, 3}, Init::kKaimingUniform), {}, 1, 1);
  h = n.g.relu(n.g.batchnorm(h, "bn"));
  n.loss = n.g.mean(n.g.mul(h, h));
  n.g.mark_output(n.loss);
  OptimizerConfig optim;
  optim.ema_decay = ema_decay;
  if (with_optimizer) add_optimizer(n.g, build_backward(n.g, n.loss), optim);
  return n;
}

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("locdet_ckpt_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all);
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

std::vector<float> ramp(int n) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
  return v;
}

TEST_F(Checkpoint, RoundTripRestoresEverythingAndTrainingContinuesIdentically) {
  Net a = build(3, true);
  Executor ea(a.g);
  ea.write(a.x, ramp(128));
  for (int i = 0; i < 3; ++i) ea.step();
  save_checkpoint(path("c.safetensors"), ea, {{"preset", "toy"}});

  Net b = build(3, true);
  ExecutorOptions other_seed;
  other_seed.seed = 99;
  Executor eb(b.g, other_seed);
  auto meta = load_checkpoint(path("c.safetensors"), eb);
  EXPECT_EQ(meta.at("preset"), "toy");
  EXPECT_EQ(*eb.tensor("optim.step").as<int64_t>(), 3);
  eb.write(b.x, ramp(128));
  ea.step();
  eb.step();
  EXPECT_EQ(ea.read(a.loss), eb.read(b.loss));
  for (const char* name : {"conv.weight", "bn.running_var", "optim.m.conv.weight", "optim.v.bn.weight"})
    EXPECT_EQ(ea.read(ea.graph().find(name)), eb.read(eb.graph().find(name))) << name;
}

TEST_F(Checkpoint, NonStrictLoadIntoAnEvalGraphIgnoresOptimizerState) {
  Net a = build(3, true);
  Executor ea(a.g);
  save_checkpoint(path("c.safetensors"), ea, {});
  Net b = build(3, false);
  Executor eb(b.g);
  EXPECT_NE(error_of([&] { load_checkpoint(path("c.safetensors"), eb, true); }), "");
  load_checkpoint(path("c.safetensors"), eb, false);
  EXPECT_EQ(ea.read(ea.graph().find("conv.weight")), eb.read(eb.graph().find("conv.weight")));
}

// A run with a weight average: the average follows the weights (not equal to them, not zero),
// resumes exactly (strict), and is what an inference graph gets, from a checkpoint or from the
// training executor; batch-norm statistics come as they are.
TEST_F(Checkpoint, WeightAverageIsSavedResumedAndPreferredForInference) {
  Net a = build(3, true, 0.9f);
  Executor ea(a.g);
  ea.write(a.x, ramp(128));
  for (int i = 0; i < 20; ++i) ea.step();
  const std::vector<float> weight = ea.read(ea.graph().find("conv.weight"));
  const std::vector<float> average = ea.read(ea.graph().find(ema_name("conv.weight")));
  ASSERT_EQ(weight.size(), average.size());
  double moved = 0, size = 0;
  for (size_t i = 0; i < weight.size(); ++i) {
    moved += std::abs(weight[i] - average[i]);
    size += std::abs(average[i]);
  }
  EXPECT_GT(moved, 1e-4 * weight.size()) << "the average lags behind the weights";
  EXPECT_GT(size, 0.5 * moved) << "the average is not near zero";
  save_checkpoint(path("c.safetensors"), ea, {});

  Net resumed = build(3, true, 0.9f);
  Executor er(resumed.g);
  load_checkpoint(path("c.safetensors"), er, true);
  EXPECT_EQ(er.read(er.graph().find("conv.weight")), weight);
  EXPECT_EQ(er.read(er.graph().find(ema_name("conv.weight"))), average);

  Net eval = build(3, false);
  Executor ee(eval.g);
  load_checkpoint(path("c.safetensors"), ee, false);
  EXPECT_EQ(ee.read(ee.graph().find("conv.weight")), average);
  EXPECT_EQ(ee.read(ee.graph().find("bn.running_var")), ea.read(ea.graph().find("bn.running_var")));
  Executor copied(build(3, false).g);
  copied.copy_persistent_state_from(ea);
  EXPECT_EQ(copied.read(copied.graph().find("conv.weight")), average);
  // A training graph with its own average copies name for name.
  Executor twin(build(3, true, 0.9f).g);
  twin.copy_persistent_state_from(ea);
  EXPECT_EQ(twin.read(twin.graph().find("conv.weight")), weight);
}

TEST_F(Checkpoint, MismatchReportsEveryProblem) {
  Net a = build(3, false);
  Executor ea(a.g);
  save_checkpoint(path("c.safetensors"), ea, {});
  Net b = build(5, false);
  b.g.parameter("extra.weight", {2}, Init::kZeros);
  Executor eb(b.g);
  std::string msg = error_of([&] { load_checkpoint(path("c.safetensors"), eb); });
  EXPECT_NE(msg.find("shape of 'conv.weight': checkpoint [3, 2, 3, 3] vs model [5, 2, 3, 3]"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("missing 'extra.weight'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shape of 'bn.running_mean'"), std::string::npos) << msg;
}

TEST_F(Checkpoint, CorruptFilesAreRefusedClearly) {
  SafeTensorsFile f;
  f.tensors["w"] = {DType::kF32, {2, 2}, std::vector<std::byte>(16, std::byte{1})};
  write_safetensors(path("good.safetensors"), f);
  std::ifstream in(path("good.safetensors"), std::ios::binary);
  std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto write_raw = [&](const std::string& bytes) {
    std::ofstream(path("bad.safetensors"), std::ios::binary) << bytes;
    return error_of([&] { read_safetensors(path("bad.safetensors")); });
  };
  EXPECT_NE(write_raw(good.substr(0, 5)).find("truncated"), std::string::npos);
  EXPECT_NE(write_raw(good.substr(0, 20)).find("truncated"), std::string::npos);
  EXPECT_NE(write_raw(good.substr(0, good.size() - 4)).find("truncated"), std::string::npos);
  std::string garbled = good;
  garbled[9] = '#';
  EXPECT_NE(write_raw(garbled).find("garbled"), std::string::npos);
  std::string dtype = good;
  dtype.replace(dtype.find("F32"), 3, "Q99");
  EXPECT_NE(write_raw(dtype).find("dtype Q99"), std::string::npos);
  std::string shape = good;
  shape.replace(shape.find("[2,2]"), 5, "[2,3]");
  EXPECT_NE(write_raw(shape).find("bytes for F32 [2, 3]"), std::string::npos);
  EXPECT_NE(write_raw(good + "xx").find("trailing"), std::string::npos);
  EXPECT_NE(error_of([&] { read_safetensors(path("absent.safetensors")); }).find("cannot open"),
            std::string::npos);
  EXPECT_EQ(read_safetensors(path("good.safetensors")).tensors.at("w").shape, (std::vector<int64_t>{2, 2}));
}

TEST_F(Checkpoint, FailedWriteLeavesTheOldCheckpointIntact) {
  Net a = build(3, true);
  Executor ea(a.g);
  save_checkpoint(path("c.safetensors"), ea, {{"step", "0"}});
  ea.write(a.x, ramp(128));
  ea.step();
  simulate_disk_full_after_bytes(100);
  EXPECT_NE(error_of([&] { save_checkpoint(path("c.safetensors"), ea, {{"step", "1"}}); }), "");
  EXPECT_EQ(read_safetensors(path("c.safetensors")).metadata.at("step"), "0");
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);  // no temp file left behind
}

}  // namespace
}  // namespace locdet
