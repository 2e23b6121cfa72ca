// MNIST in IDX format (plain or .gz), with the integrity checks that make a bad
// download fail loudly: magic numbers, dimensions, counts, per-digit label counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace locdet::data {

// One MNIST split: `count` images of rows x cols bytes (0 = background, 255 = ink), row major.
struct MnistSplit {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> images;  // count * rows * cols
  std::vector<uint8_t> labels;  // count, each 0..9

  const uint8_t* image(int index) const { return images.data() + static_cast<size_t>(index) * rows * cols; }
};

struct Mnist {
  MnistSplit train;  // 60000
  MnistSplit test;   // 10000
};

// Reads an IDX image file and its label file (either may be gzip-compressed).
// Throws locdet::Error naming the file and what was wrong.
MnistSplit load_idx_pair(const std::string& images_path, const std::string& labels_path);
// The same checks on (already decompressed) bytes in memory; load_idx_pair reads the
// files and calls this. The names label the error messages (fuzzing, tests).
MnistSplit parse_idx_pair(const std::vector<uint8_t>& image_bytes, const std::string& images_name,
                          const std::vector<uint8_t>& label_bytes, const std::string& labels_name);

// Loads train + test from `dir` (train-images-idx3-ubyte[.gz], ...; the t10k-/train-
// names with '-' or '.' before "idx" are accepted) and checks the official counts and
// per-digit label counts. Throws with the fix ("run tools/bootstrap.sh") on any problem.
Mnist load_mnist(const std::string& dir);

// Where the programs look for MNIST without --mnist, in order: $LOCDET_MNIST_DIR when it is
// set (then only there); data/mnist of the source tree the program was built in, found from
// the executable's own path (build/bin/NAME -> build/bin/../../data/mnist), so a command works
// from any folder; data/mnist under the current folder.
std::vector<std::string> default_mnist_dirs();
// The first of default_mnist_dirs() that is a folder, else the first of them.
std::string default_mnist_dir();
// `flag` (the --mnist value) when given, else the first default folder that exists; throws,
// naming every folder it looked in and how to get MNIST, when none does.
std::string find_mnist_dir(const std::string& flag);

// Official per-digit label counts; a file that disagrees is not the real MNIST.
extern const int kMnistTrainLabelCounts[10];
extern const int kMnistTestLabelCounts[10];

}  // namespace locdet::data
