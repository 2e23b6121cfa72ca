// check_mnist: loads and verifies MNIST (counts, dimensions, per-digit label counts) and
// prints a summary. `check_mnist [--mnist DIR]`; exits non-zero with the fix on any problem.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "kernels/base/error.h"
#include "kernels/base/openmp_defaults.h"
#include "models/digits/mnist.h"

int main(int argc, char** argv) {
  locdet::apply_openmp_defaults(argv);  // may re-execute once: kernels/base/openmp_defaults.h
  CLI::App app{"Verify the MNIST IDX files and print a summary"};
  std::string dir = locdet::data::default_mnist_dir();
  app.add_option("--mnist", dir,
                 "folder holding the four IDX files (default: $LOCDET_MNIST_DIR or data/mnist)");
  CLI11_PARSE(app, argc, argv);
  try {
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
