// Where tests find committed fixtures (tests/golden, tests/fixtures, tests/fuzz): the
// source folder from $LOCDET_SOURCE_DIR (CTest sets it; tools/gpu_check.sh sets it for a
// build carried to a GPU host), else the first folder above the test executable that
// holds tests/golden. No path is compiled in, so a build's objects do not depend on where
// the checkout lives (ccache hits across clones).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "kernels/base/error.h"

namespace locdet::test {

inline std::string source_dir() {
  const char* env = std::getenv("LOCDET_SOURCE_DIR");
  if (env && *env) return env;
  std::error_code ec;
  for (std::filesystem::path dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
       !ec && !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    if (std::filesystem::is_directory(dir / "tests" / "golden")) return dir.string();
  }
  fail("cannot find the source folder (tests/golden) above the test executable; set LOCDET_SOURCE_DIR");
}

inline std::string source_path(const std::string& relative) {
  return source_dir() + "/" + relative;
}

}  // namespace locdet::test
