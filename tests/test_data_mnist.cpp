// MNIST loader: good files load (plain and gzip); truncated, wrong-magic, wrong-dimension
// and wrong-count files are refused with a message naming the file and the fix.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kernels/base/error.h"
#include "models/digits/mnist.h"

namespace locdet::data {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims, uint8_t fill) {
  std::vector<uint8_t> bytes;
  auto put32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(v >> shift));
  };
  put32(magic);
  size_t payload = 1;
  for (uint32_t d : dims) {
    put32(d);
    payload *= d;
  }
  for (size_t i = 0; i < payload; ++i) bytes.push_back(static_cast<uint8_t>((fill + i) % 10));
  return bytes;
}

class MnistFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("locdet_mnist_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return path;
  }
  std::string write_gz(const std::string& name, const std::vector<uint8_t>& bytes) {
    std::string path = (dir_ / name).string();
    gzFile file = gzopen(path.c_str(), "wb");
    gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(file);
    return path;
  }
  // Expects load_idx_pair to throw an Error whose message contains every fragment.
  void expect_refused(const std::string& images, const std::string& labels,
                      const std::vector<std::string>& fragments) {
    try {
      load_idx_pair(images, labels);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      const std::string message = e.what();
      for (const auto& fragment : fragments) EXPECT_NE(message.find(fragment), std::string::npos) << message;
      EXPECT_NE(message.find("tools/bootstrap.sh"), std::string::npos)
          << "the message must say how to fix it";
    }
  }

  fs::path dir_;
};

TEST_F(MnistFiles, GoodFilesLoadPlainAndGzip) {
  auto images = idx_bytes(0x803, {5, 28, 28}, 0);
  auto labels = idx_bytes(0x801, {5}, 3);
  MnistSplit plain = load_idx_pair(write("img", images), write("lbl", labels));
  EXPECT_EQ(plain.count, 5);
  EXPECT_EQ(plain.rows, 28);
  EXPECT_EQ(plain.cols, 28);
  EXPECT_EQ(plain.labels, (std::vector<uint8_t>{3, 4, 5, 6, 7}));
  EXPECT_EQ(plain.image(1)[0], images[16 + 784]);

  MnistSplit gz = load_idx_pair(write_gz("img.gz", images), write_gz("lbl.gz", labels));
  EXPECT_EQ(gz.images, plain.images);
  EXPECT_EQ(gz.labels, plain.labels);
}

TEST_F(MnistFiles, TruncatedFileIsRefused) {
  auto images = idx_bytes(0x803, {5, 28, 28}, 0);
  images.resize(images.size() - 100);
  auto img = write("img", images);
  expect_refused(img, write("lbl", idx_bytes(0x801, {5}, 0)), {img, "truncated"});
}

TEST_F(MnistFiles, TruncatedGzipIsRefused) {
  auto img = write_gz("img.gz", idx_bytes(0x803, {5, 28, 28}, 0));
  auto size = fs::file_size(img);
  fs::resize_file(img, size / 2);
  expect_refused(img, write("lbl", idx_bytes(0x801, {5}, 0)), {img});
}

TEST_F(MnistFiles, WrongMagicIsRefused) {
  auto images = idx_bytes(0x803, {5, 28, 28}, 0);
  images[3] = 0x01;  // one corrupted header byte: now it claims to be a label file
  auto img = write("img", images);
  expect_refused(img, write("lbl", idx_bytes(0x801, {5}, 0)), {img, "magic"});
}

TEST_F(MnistFiles, SwappedFilesAreRefused) {
  auto lbl = write("lbl", idx_bytes(0x801, {5}, 0));
  expect_refused(lbl, write("img", idx_bytes(0x803, {5, 28, 28}, 0)), {lbl, "magic"});
}

TEST_F(MnistFiles, MismatchedCountsAreRefused) {
  auto img = write("img", idx_bytes(0x803, {5, 28, 28}, 0));
  auto lbl = write("lbl", idx_bytes(0x801, {4}, 0));
  expect_refused(img, lbl, {"5 images", "4 labels"});
}

TEST_F(MnistFiles, WrongDimensionsAreRefusedByLoadMnist) {
  // Structurally valid IDX files, but not 60000 x 28 x 28: load_mnist must refuse them.
  write("train-images-idx3-ubyte", idx_bytes(0x803, {10, 20, 20}, 0));
  write("train-labels-idx1-ubyte", idx_bytes(0x801, {10}, 0));
  write("t10k-images-idx3-ubyte", idx_bytes(0x803, {10, 28, 28}, 0));
  write("t10k-labels-idx1-ubyte", idx_bytes(0x801, {10}, 0));
  try {
    load_mnist(dir_.string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("10 images of 20x20"), std::string::npos) << e.what();
  }
}

TEST_F(MnistFiles, MissingFolderAndFilesAreNamed) {
  try {
    load_mnist((dir_ / "nope").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
  }
  try {
    load_mnist(dir_.string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train-images-idx3-ubyte"), std::string::npos) << e.what();
  }
}

// Without --mnist: $LOCDET_MNIST_DIR alone when set; else data/mnist of the tree the program
// was built in (from the executable's path), then under the current folder.
TEST_F(MnistFiles, DefaultFolderIsFoundFromTheExecutableAndTheErrorSaysWhereItLooked) {
  const char* saved = std::getenv("LOCDET_MNIST_DIR");
  const std::string restore = saved ? saved : "";
  ::unsetenv("LOCDET_MNIST_DIR");
  const fs::path exe = fs::read_symlink("/proc/self/exe");
  const std::vector<std::string> dirs = default_mnist_dirs();
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0], (exe.parent_path() / "../../data/mnist").lexically_normal().string());
  EXPECT_EQ(dirs[1], (fs::current_path() / "data/mnist").string());
  EXPECT_EQ(find_mnist_dir("my/mnist"), "my/mnist") << "--mnist wins";

  ::setenv("LOCDET_MNIST_DIR", (dir_ / "nope").c_str(), 1);
  EXPECT_EQ(default_mnist_dirs(), std::vector<std::string>{(dir_ / "nope").string()});
  try {
    find_mnist_dir("");
    FAIL() << "a missing folder must be reported";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("looked in '" + (dir_ / "nope").string() + "', from $LOCDET_MNIST_DIR"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("tools/bootstrap.sh"), std::string::npos) << what;
  }
  ::setenv("LOCDET_MNIST_DIR", dir_.c_str(), 1);
  EXPECT_EQ(find_mnist_dir(""), dir_.string());
  if (saved) {
    ::setenv("LOCDET_MNIST_DIR", restore.c_str(), 1);
  } else {
    ::unsetenv("LOCDET_MNIST_DIR");
  }
}

// The real data, when bootstrap has fetched it (ctest sets LOCDET_MNIST_DIR).
TEST(MnistReal, OfficialCountsAndLabelHistogram) {
  const std::string dir = default_mnist_dir();
  if (!fs::exists(dir)) GTEST_SKIP() << "no MNIST in " << dir << " (run tools/bootstrap.sh)";
  Mnist mnist = load_mnist(dir);  // checks the per-digit counts itself
  EXPECT_EQ(mnist.train.count, 60000);
  EXPECT_EQ(mnist.test.count, 10000);
  int ink_pixels = 0;
  for (int i = 0; i < 28 * 28; ++i) ink_pixels += mnist.train.image(0)[i] > 128;
  EXPECT_GT(ink_pixels, 50);  // the first training image is a real handwritten 5
  EXPECT_EQ(mnist.train.labels[0], 5);
}

}  // namespace
}  // namespace locdet::data
