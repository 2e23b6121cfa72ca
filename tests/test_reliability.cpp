// Reliability (issue 7): device-side non-finite flag, the out-of-memory message, wrong
// checkpoints and unwritable places, and every input the fuzzers ever crashed on
// (tests/fuzz/regressions/<target>/), replayed through the public path-based loaders.
// The command-line rows of docs/RELIABILITY.md are in tests/cli/*.sh.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "engine/checkpoint.h"
#include "engine/executor.h"
#include "engine/io/image.h"
#include "engine/nonfinite.h"
#include "engine/train/run_dir.h"
#include "kernels/base/atomic_file.h"
#include "kernels/base/error.h"
#include "models/digits/mnist.h"
#include "models/digits/scene.h"
#include "models/localizer/predictor.h"
#include "models/localizer/report.h"
#include "models/localizer/run.h"
#include "models/localizer/trainer.h"
#include "test_paths.h"
#include "test_scene_helpers.h"

namespace locdet {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void expect_error_containing(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "expected a locdet::Error";
  } catch (const Error& e) {
    for (const auto& fragment : fragments)
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << e.what();
  }
}

class Reliability : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("locdet_reliability_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// ---- non-finite flag ---------------------------------------------------------------------

TEST(NonfiniteFlag, AccumulatesPerWatchedTensorUntilCleared) {
  for (bool use_double : {false, true}) {
    Graph g(false);
    Value a = g.input("a", {5});
    Value b = g.input("b", {2, 3});
    Value flag = add_nonfinite_flag(g, {a, b});
    ExecutorOptions options;
    options.cpu_double = use_double;
    Executor ex(std::move(g), options);
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();

    ex.write(a, {1, 2, 3, 4, 5});
    ex.write(b, {0, -1, 1e30f, -1e30f, 0, 0});
    ex.step();
    EXPECT_EQ(read_nonfinite_flag(ex, flag), 0u) << "finite values (even huge ones) must not raise the flag";

    ex.write(b, {0, 0, inf, 0, 0, 0});
    ex.step();
    EXPECT_EQ(read_nonfinite_flag(ex, flag), 2u) << "an Inf in b sets b's bit only";

    ex.write(b, {0, 0, 0, 0, 0, 0});
    ex.write(a, {1, 2, nan, 4, 5});
    ex.step();
    EXPECT_EQ(read_nonfinite_flag(ex, flag), 3u) << "the flag accumulates over steps";
    EXPECT_EQ(describe_nonfinite(3u, {"loss", "gradients"}), "loss, gradients");

    ex.write(a, {1, 2, 3, 4, 5});
    ex.step();
    EXPECT_EQ(read_nonfinite_flag(ex, flag), 3u) << "a good step does not clear it";
    clear_nonfinite_flag(ex, flag);
    ex.step();
    EXPECT_EQ(read_nonfinite_flag(ex, flag), 0u);

    ex.write(a, {-inf, 0, 0, 0, 0});
    ex.step();
    EXPECT_EQ(read_nonfinite_flag(ex, flag), 1u) << "-Inf counts";
  }
}

TEST(NonfiniteFlag, IsNotSavedInCheckpoints) {
  Graph g(false);
  Value x = g.input("x", {3});
  Value w = g.parameter("w", {3}, Init::kOnes);
  Value y = g.mul(x, w);
  g.mark_output(y);
  add_nonfinite_flag(g, {y});
  Executor ex(std::move(g));
  for (Value v : ex.graph().persistent_state())
    EXPECT_EQ(ex.graph().info(v).name.find("nonfinite"), std::string::npos);
}

TEST(NonfiniteFlag, LocalizerTrainerSeesABlownUpRun) {
  const data::DigitBank bank = test::synthetic_bank();
  models::LocalizerRun run;
  run.preset = data::find_preset("inf265-loc");
  run.model.backbone.width = 4;
  run.batch = 4;
  run.epochs = 1;
  run.steps_per_epoch = 4;
  run.warmup_steps = 0;
  models::LocalizerTrainer good(run, bank, Device::kCpu);
  for (int i = 0; i < 3; ++i) good.step();
  EXPECT_EQ(good.nonfinite_what(), "");

  run.lr = 1e30f;  // the first update makes the weights ~1e30; the next forward overflows
  models::LocalizerTrainer bad(run, bank, Device::kCpu);
  for (int i = 0; i < 4 && bad.nonfinite_what().empty(); ++i) bad.step();
  EXPECT_NE(bad.nonfinite_what(), "");
}

// ---- out of GPU memory at plan time (the message is a pure function: tested on the CPU) ----

TEST(DeviceMemory, ShortfallMessageNamesNeededFreeAndABatchThatFits) {
  const int64_t mib = int64_t{1} << 20;
  EXPECT_EQ(device_memory_shortfall(500 * mib, 600 * mib, 100 * mib, 64), "") << "fits: no message";
  // 100 MiB fixed + 900 MiB for 64 samples (14.06 MiB each); 500 MiB left after the fixed part -> 35.
  EXPECT_EQ(largest_batch_that_fits(1000 * mib, 600 * mib, 100 * mib, 64), 35);
  const std::string msg = device_memory_shortfall(1000 * mib, 600 * mib, 100 * mib, 64);
  for (const char* fragment :
       {"1000.0 MiB", "600.0 MiB", "100.0 MiB", "--batch 35", "batch now 64", "linearly"})
    EXPECT_NE(msg.find(fragment), std::string::npos) << fragment << " not in: " << msg;

  const std::string none = device_memory_shortfall(1000 * mib, 50 * mib, 100 * mib, 64);
  EXPECT_EQ(largest_batch_that_fits(1000 * mib, 50 * mib, 100 * mib, 64), 0);
  EXPECT_NE(none.find("Not even batch 1"), std::string::npos) << none;
  EXPECT_NE(none.find("--device cpu"), std::string::npos) << none;

  // The estimate never suggests the batch that just failed.
  const std::string tight = device_memory_shortfall(1001 * mib, 1000 * mib, 0, 8);
  EXPECT_NE(tight.find("--batch 7"), std::string::npos) << tight;
  EXPECT_NE(device_memory_shortfall(2 * mib, 1 * mib, 0, 1).find("Not even batch 1"), std::string::npos);
}

// ---- wrong checkpoints ------------------------------------------------------------------

TEST_F(Reliability, CheckpointOfAnotherModelIsRefusedByName) {
  // What a detector (or any other model's) checkpoint looks like to a localizer command.
  SafeTensorsFile other;
  other.metadata = {{kMetaTask, "detect"}, {kMetaRun, "{}"}};
  SafeTensor t;
  t.shape = {1};
  t.data.resize(4);
  other.tensors["head.weight"] = t;
  const std::string detector = (dir_ / "detector.safetensors").string();
  write_safetensors(detector, other);
  expect_error_containing([&] { models::read_localizer_run(detector); }, {"'detect' model", "localizer"});

  other.metadata.clear();
  const std::string plain = (dir_ / "plain.safetensors").string();
  write_safetensors(plain, other);
  expect_error_containing([&] { models::read_localizer_run(plain); }, {"without locdet's run metadata"});

  // A localizer of another width: strict and non-strict loads list the shape mismatches.
  const data::DigitBank bank = test::synthetic_bank();
  models::LocalizerRun run;
  run.preset = data::find_preset("inf265-loc");
  run.model.backbone.width = 4;
  run.batch = 2;
  run.steps_per_epoch = 1;
  models::LocalizerTrainer narrow(run, bank, Device::kCpu);
  const std::string path = (dir_ / "narrow.safetensors").string();
  save_checkpoint(path, narrow.executor(), {});
  const std::string before = slurp(path);
  models::LocalizerPredictor wide(
      [&] {
        models::LocalizerConfig c = run.model;
        c.backbone.width = 8;
        return c;
      }(),
      2, Device::kCpu);
  expect_error_containing([&] { wide.load_checkpoint(path); }, {"does not match the model", "shape of"});
  EXPECT_EQ(slurp(path), before) << "a failed load must not touch the file";
}

// ---- unwritable output: a path under a regular file (ENOTDIR works even as root) ---------

TEST_F(Reliability, OutputUnderARegularFileIsRefused) {
  const fs::path file = dir_ / "a_file";
  std::ofstream(file) << "keep me";
  expect_error_containing([&] { write_file_atomic((file / "x.json").string(), "data"); },
                          {"Not a directory"});
  EXPECT_THROW(ensure_writable_dir((file / "run").string()), Error);
  EXPECT_THROW(RunDir((file / "run").string(), false), Error);
  EXPECT_EQ(slurp(file), "keep me");
}

TEST_F(Reliability, DiskFullWhileSavingACheckpointKeepsTheOldOne) {
  Graph g(false);
  Value w = g.parameter("w", {1000}, Init::kKaimingUniform);
  g.mark_output(g.scale(w, 2.0f));
  Executor ex(std::move(g));
  const std::string path = (dir_ / "checkpoint.last.safetensors").string();
  save_checkpoint(path, ex, {{"locdet.epoch", "1"}});
  const std::string before = slurp(path);
  ex.init_parameters(7);
  simulate_disk_full_after_bytes(100);
  expect_error_containing(
      [&] {
        save_checkpoint(path, ex, {{"locdet.epoch", "2"}});
      },
      {"No space left on device"});
  EXPECT_EQ(slurp(path), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1) << "no temp file left";
  EXPECT_EQ(read_safetensors(path).metadata.at("locdet.epoch"), "1");
}

// ---- bad images -------------------------------------------------------------------------

TEST_F(Reliability, ImagesThatAreNotImagesOrHaveNoPixels) {
  const fs::path empty = dir_ / "empty.png";
  std::ofstream(empty).close();
  expect_error_containing([&] { io::read_image_gray(empty.string()); }, {"empty"});
  const fs::path text = dir_ / "notes.png";
  std::ofstream(text) << "this is not an image";
  expect_error_containing([&] { io::read_image_gray(text.string()); }, {"cannot read image", "supported"});
  // A valid PGM header with a zero width.
  const fs::path zero = dir_ / "zero.pgm";
  std::ofstream(zero) << "P5\n0 5\n255\n";
  expect_error_containing([&] { io::read_image_gray(zero.string()); }, {"cannot read image"});
  expect_error_containing([&] { io::read_image_gray(dir_.string()); }, {"not a regular file"});
  expect_error_containing([&] { io::read_image_gray((dir_ / "missing.png").string()); }, {"No such file"});
  // A forged header claiming a huge image is refused before any allocation.
  const fs::path huge = dir_ / "huge.pgm";
  std::ofstream(huge) << "P5\n30000 30000\n255\n";
  expect_error_containing([&] { io::read_image_gray(huge.string()); }, {"cannot read image"});
}

// ---- fuzz regressions -------------------------------------------------------------------

std::vector<fs::path> regression_inputs(const std::string& target) {
  std::vector<fs::path> out;
  const fs::path dir = test::source_path("tests/fuzz/regressions/" + target);
  if (fs::is_directory(dir))
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Loads must throw locdet::Error or succeed; anything else (a crash, another exception
// type) fails the test binary.
template <class F>
void replay(const std::string& target, F load) {
  for (const fs::path& input : regression_inputs(target)) {
    SCOPED_TRACE(input.string());
    try {
      load(input);
    } catch (const Error& e) {
      EXPECT_GT(std::string(e.what()).size(), 10u);
    }
  }
}

TEST_F(Reliability, FuzzRegressionsIdx) {
  replay("fuzz_idx", [&](const fs::path& input) {
    // Same split as tests/fuzz/fuzz_idx.cpp: 2-byte little-endian image length, images, labels.
    const std::string bytes = slurp(input);
    if (bytes.size() < 2) return;
    const size_t n = std::min<size_t>(
        bytes.size() - 2, static_cast<uint8_t>(bytes[0]) | (size_t{static_cast<uint8_t>(bytes[1])} << 8));
    std::ofstream(dir_ / "images", std::ios::binary) << bytes.substr(2, n);
    std::ofstream(dir_ / "labels", std::ios::binary) << bytes.substr(2 + n);
    data::load_idx_pair((dir_ / "images").string(), (dir_ / "labels").string());
  });
}
TEST_F(Reliability, FuzzRegressionsSafetensors) {
  replay("fuzz_safetensors", [](const fs::path& input) { read_safetensors(input.string()); });
}
TEST_F(Reliability, FuzzRegressionsPresetJson) {
  replay("fuzz_preset_json", [](const fs::path& input) {
    for (const auto& preset : data::load_preset_file(input.string()))
      data::preset_from_json(data::preset_to_json(preset));
  });
}
TEST_F(Reliability, FuzzRegressionsImage) {
  replay("fuzz_image", [](const fs::path& input) {
    if (fs::file_size(input) == 0) return;
    io::letterbox(io::read_image_gray(input.string()), 48, 60);
  });
}

}  // namespace
}  // namespace locdet
