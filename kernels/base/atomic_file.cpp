#include "kernels/base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "kernels/base/error.h"

namespace locdet {

namespace {

std::atomic<int64_t> g_fail_after_bytes{0};

std::string parent_dir(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: some filesystems refuse to open directories
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void simulate_disk_full_after_bytes(int64_t bytes) {
  g_fail_after_bytes = bytes;
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  const std::string dir = parent_dir(path);
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    fail("cannot write '", path, "': cannot create a temporary file in '", dir, "': ", std::strerror(errno),
         "; check that the folder exists and is writable");
  }
  auto abandon = [&](const char* what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail("cannot write '", path, "': ", what, ": ", std::strerror(err),
         "; the previous file (if any) is unchanged");
  };
  const char* bytes = static_cast<const char*>(data);
  size_t written = 0;
  const int64_t fail_after = g_fail_after_bytes.exchange(0);
  while (written < size) {
    size_t chunk = size - written;
    if (fail_after > 0 && written + chunk > static_cast<size_t>(fail_after)) {
      chunk = static_cast<size_t>(fail_after) > written ? static_cast<size_t>(fail_after) - written : 0;
      if (chunk == 0) abandon("write failed", ENOSPC);
    }
    ssize_t n = ::write(fd, bytes + written, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      abandon("write failed", errno);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) abandon("fsync failed", errno);
  if (::fchmod(fd, 0644) != 0) abandon("chmod failed", errno);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot write '", path, "': close failed: ", std::strerror(err),
         "; the previous file (if any) is unchanged");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot write '", path, "': rename failed: ", std::strerror(err),
         "; the previous file (if any) is unchanged");
  }
  fsync_dir(dir);
}

void check_dir_creatable(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path existing = fs::absolute(dir).lexically_normal();
  std::error_code ec;
  while (!fs::exists(existing, ec) && existing.has_relative_path()) existing = existing.parent_path();
  if (!fs::is_directory(existing, ec))
    fail("cannot create output folder '", dir, "': ", std::strerror(ENOTDIR), " ('", existing.string(),
         "' is a file); choose another --out");
  if (::access(existing.c_str(), W_OK) != 0)
    fail("cannot write in output folder '", dir, "': '", existing.string(),
         "' is not writable: ", std::strerror(errno), "; choose another --out");
}

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("cannot create output folder '", dir, "': ", ec.message(), "; choose another --out");
  if (::access(dir.c_str(), W_OK) != 0)
    fail("output folder '", dir, "' is not writable: ", std::strerror(errno), "; choose another --out");
}

}  // namespace locdet
