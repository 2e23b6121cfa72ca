// Writing files so that a crash, a full disk or a kill never leaves a half-written file:
// write a temporary file in the same folder, fsync it, rename it over the target, fsync
// the folder. Either the old file or the complete new one exists, never a mix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace locdet {

// Writes `size` bytes to `path` atomically. Throws locdet::Error naming the path and the
// OS error (e.g. "No space left on device") and leaves any earlier file at `path` intact.
void write_file_atomic(const std::string& path, const void* data, size_t size);
inline void write_file_atomic(const std::string& path, std::string_view text) {
  write_file_atomic(path, text.data(), text.size());
}

// Creates `dir` (and parents) and checks it is writable, or throws with what to do.
void ensure_writable_dir(const std::string& dir);
// Checks, creating nothing, that ensure_writable_dir(dir) would succeed: `dir` is a writable
// folder, or its nearest existing ancestor is one (throws with ensure_writable_dir's messages).
void check_dir_creatable(const std::string& dir);

// Test hook: when > 0, the next write_file_atomic fails after writing this many bytes of
// the temporary file, as a full disk would (ENOSPC). Reset to 0 after it fires.
void simulate_disk_full_after_bytes(int64_t bytes);

}  // namespace locdet
