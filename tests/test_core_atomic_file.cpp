// Atomic writes: the target is either the old file or the complete new one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kernels/base/atomic_file.h"
#include "kernels/base/error.h"

namespace locdet {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("locdet_atomic_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(dir_);
  }
  size_t file_count() const { return std::distance(fs::directory_iterator(dir_), fs::directory_iterator()); }
  fs::path dir_;
};

TEST_F(AtomicFile, WritesAndReplaces) {
  const std::string path = (dir_ / "a.txt").string();
  write_file_atomic(path, "first");
  EXPECT_EQ(slurp(path), "first");
  write_file_atomic(path, "second, longer");
  EXPECT_EQ(slurp(path), "second, longer");
  EXPECT_EQ(file_count(), 1u) << "no temporary file may be left behind";
}

TEST_F(AtomicFile, DiskFullLeavesTheOldFileIntact) {
  const std::string path = (dir_ / "ckpt.bin").string();
  write_file_atomic(path, "old contents");
  simulate_disk_full_after_bytes(3);
  try {
    write_file_atomic(path, std::string(1000, 'x'));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unchanged"), std::string::npos) << e.what();
  }
  EXPECT_EQ(slurp(path), "old contents");
  EXPECT_EQ(file_count(), 1u);
  write_file_atomic(path, "new");  // the hook fired once and is reset
  EXPECT_EQ(slurp(path), "new");
}

TEST_F(AtomicFile, UnwritableFolderIsReported) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores folder permissions";
  fs::permissions(dir_, fs::perms::owner_write, fs::perm_options::remove);
  EXPECT_THROW(write_file_atomic((dir_ / "x").string(), "data"), Error);
  EXPECT_THROW(ensure_writable_dir(dir_.string()), Error);
}

TEST_F(AtomicFile, MissingFolderIsReported) {
  try {
    write_file_atomic((dir_ / "no" / "such" / "file").string(), "data");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
}

TEST_F(AtomicFile, EnsureWritableDirCreatesParentsAndRefusesFiles) {
  ensure_writable_dir((dir_ / "a" / "b").string());
  EXPECT_TRUE(fs::is_directory(dir_ / "a" / "b"));
  write_file_atomic((dir_ / "plain").string(), "x");
  EXPECT_THROW(ensure_writable_dir((dir_ / "plain" / "sub").string()), Error);
}

}  // namespace
}  // namespace locdet
