// check_mnist: loads and verifies MNIST (counts, dimensions, per-digit label counts) and
// prints a summary. `check_mnist [--mnist DIR]`; exits non-zero with the fix on any problem.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "apps/cli.h"
#include "kernels/base/error.h"
#include "kernels/base/openmp_defaults.h"
#include "models/digits/mnist.h"

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  CLI::App app{"Verify the MNIST IDX files and print a summary", "check_mnist"};
  std::string flag;
  app.add_option(
      "--mnist", flag,
      "folder holding the four IDX files (default: $LOCDET_MNIST_DIR, else data/mnist of the source "
      "tree this program was built in, else ./data/mnist)");
  if (const int code = locdet::apps::parse_command_line(app, argc, argv); code >= 0) return code;
  try {
    const std::string dir = locdet::data::find_mnist_dir(flag);
    const locdet::data::Mnist mnist = locdet::data::load_mnist(dir);
    std::printf("MNIST verified in %s\n", dir.c_str());
    for (const auto* split : {&mnist.train, &mnist.test}) {
      int counts[10] = {};
      double ink = 0.0;
      for (uint8_t label : split->labels) ++counts[label];
      for (uint8_t pixel : split->images) ink += pixel;
      std::printf("  %-5s %6d images of %dx%d, mean pixel %.2f/255, per digit:",
                  split == &mnist.train ? "train" : "test", split->count, split->rows, split->cols,
                  ink / split->images.size());
      for (int d = 0; d < 10; ++d) std::printf(" %d:%d", d, counts[d]);
      std::printf("\n");
    }
    return 0;
  } catch (const locdet::Error& e) {
    std::fprintf(stderr, "check_mnist: error: %s\n", e.what());
    return 1;
  }
}
