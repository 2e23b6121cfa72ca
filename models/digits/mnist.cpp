// IDX reader. Every check names the file and says how to get a good copy, because a
// truncated download is the most common way this goes wrong.
#include "models/digits/mnist.h"

#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "kernels/base/error.h"

namespace locdet::data {

const int kMnistTrainLabelCounts[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
const int kMnistTestLabelCounts[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};

namespace {

constexpr const char* kFix =
    "run tools/bootstrap.sh to fetch and verify MNIST (a damaged file: .venv/bin/python tools/fetch_mnist.py "
    "--replace-bad), or set LOCDET_MNIST_DIR to a folder holding the four official IDX files";
constexpr uint32_t kImageMagic = 0x00000803;
constexpr uint32_t kLabelMagic = 0x00000801;

// Reads a whole file, transparently gunzipping (zlib detects the gzip header; plain files
// pass through unchanged).
std::vector<uint8_t> read_file(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) fail("cannot open '", path, "': ", std::strerror(errno), "; ", kFix);
  std::vector<uint8_t> bytes;
  std::array<uint8_t, 1 << 16> chunk;
  for (;;) {
    int got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int code = 0;
      std::string message = gzerror(file, &code);
      gzclose(file);
      fail("cannot read '", path, "': ", message, " (corrupt gzip?); ", kFix);
    }
    if (got == 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
  }
  // gzread stops silently at a truncated gzip stream; gzclose reports it.
  if (gzclose(file) != Z_OK) fail("'", path, "' is a truncated or corrupt gzip file; ", kFix);
  return bytes;
}

uint32_t read_be32(const std::vector<uint8_t>& bytes, size_t offset) {
  return (uint32_t{bytes[offset]} << 24) | (uint32_t{bytes[offset + 1]} << 16) |
         (uint32_t{bytes[offset + 2]} << 8) | uint32_t{bytes[offset + 3]};
}

// Checks the header of an IDX file of `ndims` dimensions and returns its dimensions.
std::vector<uint32_t> parse_header(const std::vector<uint8_t>& bytes, const std::string& path, uint32_t magic,
                                   int ndims) {
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < 4)
    fail("'", path, "' is too short for an IDX header (", bytes.size(), " bytes); ", kFix);
  const uint32_t got = read_be32(bytes, 0);
  if (got != magic) {
    fail("'", path, "' has IDX magic 0x", std::hex, got, " but ", ndims == 1 ? "a label" : "an image",
         " file must have 0x", magic, std::dec, "; is it the right file? ", kFix);
  }
  if (bytes.size() < header)
    fail("'", path, "' is too short for an IDX header (", bytes.size(), " bytes); ", kFix);
  std::vector<uint32_t> dims(ndims);
  size_t expected = header;
  for (int i = 0; i < ndims; ++i) {
    dims[i] = read_be32(bytes, 4 + 4 * i);
    if (dims[i] == 0 || dims[i] > 10'000'000)
      fail("'", path, "' has an implausible dimension ", dims[i], "; ", kFix);
  }
  // Each dim is <= 1e7, so three of them can overflow size_t; stop once past the file size.
  size_t payload = 1;
  for (uint32_t d : dims) {
    payload *= d;
    if (payload > bytes.size()) break;
  }
  expected += payload;
  if (bytes.size() != expected) {
    fail("'", path, "' holds ", bytes.size(), " bytes but its header promises ", expected,
         bytes.size() < expected ? " (truncated download?)" : " (trailing garbage)", "; ", kFix);
  }
  return dims;
}

std::string find_file(const std::string& dir, const std::string& prefix, const std::string& kind) {
  // Official names use '-' ("train-images-idx3-ubyte"); some mirrors use '.'.
  for (const char* sep : {"-", "."}) {
    for (const char* ext : {"", ".gz"}) {
      std::string path = dir + "/" + prefix + sep + kind + ext;
      if (std::filesystem::exists(path)) return path;
    }
  }
  fail("MNIST file '", prefix, "-", kind, "' (or .gz) not found in '", dir, "'; ", kFix);
}

void check_label_counts(const MnistSplit& split, const int (&expected)[10], const std::string& path) {
  int counts[10] = {};
  for (uint8_t label : split.labels) ++counts[label];
  for (int digit = 0; digit < 10; ++digit) {
    if (counts[digit] != expected[digit]) {
      fail("'", path, "' has ", counts[digit], " labels of digit ", digit, " but the official MNIST has ",
           expected[digit], ": this is not the real MNIST (or it is damaged); ", kFix);
    }
  }
}

}  // namespace

MnistSplit load_idx_pair(const std::string& images_path, const std::string& labels_path) {
  const std::vector<uint8_t> image_bytes = read_file(images_path);
  const std::vector<uint8_t> label_bytes = read_file(labels_path);
  return parse_idx_pair(image_bytes, images_path, label_bytes, labels_path);
}

MnistSplit parse_idx_pair(const std::vector<uint8_t>& image_bytes, const std::string& images_path,
                          const std::vector<uint8_t>& label_bytes, const std::string& labels_path) {
  const std::vector<uint32_t> image_dims = parse_header(image_bytes, images_path, kImageMagic, 3);
  const std::vector<uint32_t> label_dims = parse_header(label_bytes, labels_path, kLabelMagic, 1);

  if (image_dims[0] != label_dims[0]) {
    fail("'", images_path, "' has ", image_dims[0], " images but '", labels_path, "' has ", label_dims[0],
         " labels; the two files must come from the same split; ", kFix);
  }
  MnistSplit split;
  split.count = static_cast<int>(image_dims[0]);
  split.rows = static_cast<int>(image_dims[1]);
  split.cols = static_cast<int>(image_dims[2]);
  split.images.assign(image_bytes.begin() + 16, image_bytes.end());
  split.labels.assign(label_bytes.begin() + 8, label_bytes.end());
  for (size_t i = 0; i < split.labels.size(); ++i) {
    if (split.labels[i] > 9)
      fail("'", labels_path, "' has label ", int{split.labels[i]}, " at index ", i, "; ", kFix);
  }
  return split;
}

Mnist load_mnist(const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) fail("MNIST folder '", dir, "' does not exist; ", kFix);
  Mnist mnist;
  struct Part {
    MnistSplit* split;
    const char* prefix;
    int count;
    const int (*label_counts)[10];
  };
  for (const Part& part : {Part{&mnist.train, "train", 60000, &kMnistTrainLabelCounts},
                           Part{&mnist.test, "t10k", 10000, &kMnistTestLabelCounts}}) {
    const std::string images = find_file(dir, part.prefix, "images-idx3-ubyte");
    const std::string labels = find_file(dir, part.prefix, "labels-idx1-ubyte");
    *part.split = load_idx_pair(images, labels);
    if (part.split->count != part.count || part.split->rows != 28 || part.split->cols != 28) {
      fail("'", images, "' holds ", part.split->count, " images of ", part.split->rows, "x", part.split->cols,
           " but MNIST ", part.prefix, " has ", part.count, " of 28x28; ", kFix);
    }
    check_label_counts(*part.split, *part.label_counts, labels);
  }
  return mnist;
}

std::vector<std::string> default_mnist_dirs() {
  const char* env = std::getenv("LOCDET_MNIST_DIR");
  if (env && *env) return {env};
  std::vector<std::string> dirs;
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) dirs.push_back((exe.parent_path() / "../../data/mnist").lexically_normal().string());
  dirs.push_back((std::filesystem::current_path(error) / "data/mnist").string());
  return dirs;
}

std::string default_mnist_dir() {
  const std::vector<std::string> dirs = default_mnist_dirs();
  for (const std::string& dir : dirs)
    if (std::filesystem::is_directory(dir)) return dir;
  return dirs.front();
}

std::string find_mnist_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  const std::vector<std::string> dirs = default_mnist_dirs();
  for (const std::string& dir : dirs)
    if (std::filesystem::is_directory(dir)) return dir;
  std::string looked;
  for (const std::string& dir : dirs) looked += (looked.empty() ? "'" : ", '") + dir + "'";
  const char* env = std::getenv("LOCDET_MNIST_DIR");
  fail("no MNIST folder found (looked in ", looked, env && *env ? ", from $LOCDET_MNIST_DIR" : "", "); ",
       kFix, ", or pass --mnist DIR");
}

}  // namespace locdet::data
