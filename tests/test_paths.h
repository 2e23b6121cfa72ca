// Where tests find committed fixtures: $LOCDET_SOURCE_DIR when set (a build carried to a
// GPU host runs from another path), else the source folder known at configure time.
#pragma once

#include <cstdlib>
#include <string>

namespace locdet::test {

inline std::string source_path(const std::string& relative) {
  const char* env = std::getenv("LOCDET_SOURCE_DIR");
  return std::string(env && *env ? env : LOCDET_SOURCE_DIR) + "/" + relative;
}

}  // namespace locdet::test
