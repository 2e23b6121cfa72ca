// Errors a user can act on. Library code throws locdet::Error (never exit());
// apps catch it at main() and print the message with a non-zero exit.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace locdet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& out, const T& first, const Rest&... rest) {
  out << first;
  append(out, rest...);
}
}  // namespace detail

// Builds a message from any streamable parts: fail("expected ", n, " images, got ", m).
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream out;
  detail::append(out, parts...);
  throw Error(out.str());
}

}  // namespace locdet

// LOCDET_CHECK(cond, parts...): throws locdet::Error with the parts when cond is false.
#define LOCDET_CHECK(cond, ...)               \
  do {                                        \
    if (!(cond)) ::locdet::fail(__VA_ARGS__); \
  } while (0)
