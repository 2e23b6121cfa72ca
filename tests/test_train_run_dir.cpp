// Run folders: a new run never overwrites an old one; --resume needs a checkpoint;
// metrics.jsonl only ever grows by whole lines.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/train/run_dir.h"
#include "kernels/base/error.h"

namespace locdet {
namespace {

namespace fs = std::filesystem;

class RunDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("locdet_run_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(RunDirTest, NewRunRefusesAnExistingOneAndResumeNeedsACheckpoint) {
  const std::string path = (root_ / "run").string();
  EXPECT_THROW(RunDir(path, /*resume=*/true), Error);
  {
    RunDir run(path, false);
    run.write_json("config.json", {{"task", "localize"}});
    run.log_metrics({{"kind", "train"}, {"step", 1}, {"loss", 0.5}});
    run.log_metrics({{"kind", "train"}, {"step", 2}, {"loss", 0.25}});
    EXPECT_TRUE(fs::is_directory(root_ / "run" / "overlays"));
  }
  try {
    RunDir again(path, false);
    FAIL() << "a second run must not reuse the folder";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RunDir(path, true), Error) << "no checkpoint yet";
  std::ofstream(root_ / "run" / "checkpoint.last.safetensors") << "x";
  RunDir resumed(path, true);
  resumed.log_metrics({{"kind", "train"}, {"step", 3}, {"loss", 0.125}});
  EXPECT_EQ(resumed.read_json("config.json")["task"], "localize");

  std::ifstream in(root_ / "run" / "metrics.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    auto record = nlohmann::json::parse(line);
    EXPECT_EQ(record["step"], ++lines);
  }
  EXPECT_EQ(lines, 3);
}

TEST_F(RunDirTest, ANewRunCreatesItsFolderOnlyWithItsFirstFile) {
  const fs::path run = root_ / "parent" / "run";
  {
    RunDir dir(run.string(), false);  // a run that then fails to start
  }
  EXPECT_FALSE(fs::exists(root_ / "parent")) << "nothing is created before the first write";
  RunDir dir(run.string(), false);
  dir.write_json("config.json", {{"task", "localize"}});
  EXPECT_TRUE(fs::is_regular_file(run / "config.json"));
  EXPECT_TRUE(fs::is_directory(run / "overlays"));
}

TEST_F(RunDirTest, AnOutputThatCannotBeCreatedIsRefusedAtOnce) {
  fs::create_directories(root_);
  std::ofstream(root_ / "a_file") << "keep me";
  try {
    RunDir dir((root_ / "a_file" / "run").string(), false);
    FAIL() << "a run under a regular file must be refused before training";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Not a directory"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_regular_file(root_ / "a_file"));
}

}  // namespace
}  // namespace locdet
