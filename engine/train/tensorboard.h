// TensorBoard event files written directly, so a run can be watched live with
// `tensorboard --logdir runs` and nothing but the C++ standard library at run time.
//
// File format (TensorFlow's TFRecord): each record is
//   uint64 length (little-endian) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
// where masked_crc32c(x) = rotate_right(crc32c(x), 15) + 0xa282ead8 and CRC-32C is the
// Castagnoli CRC (reflected polynomial 0x82F63B78), as in TensorFlow's core/lib/hash/crc32c.
// Each record's data is a serialized tensorflow.Event protobuf, encoded here by hand:
//   Event   { double wall_time = 1; int64 step = 2;
//             oneof { string file_version = 3; Summary summary = 5; SessionLog session_log = 7; } }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; oneof { float simple_value = 2; Image image = 4; } }
//   Image   { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
//   SessionLog { SessionStatus status = 1; }   (START = 1)
// The first record of a file is file_version "brain.Event:2".
//
// Resuming: a resumed run writes a new file (names sort by creation: the seconds field is
// made larger than any existing file's) that starts with a SessionLog START at the step after
// its checkpoint's (RunDir::log_resume). TensorBoard then drops the older files' values from
// that step on (logged after the checkpoint the run resumed from, then computed again), so
// each tag shows one continuous curve.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace locdet {

// CRC-32C of `size` bytes, continuing from `crc` (0 to start).
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);
// TFRecord's masked CRC-32C (rotate right by 15, add 0xa282ead8).
uint32_t masked_crc32c(const void* data, size_t size);

// Serialized tensorflow.Event messages (exposed for tests).
std::string encode_file_version_event(double wall_time);
std::string encode_scalars_event(double wall_time, int64_t step,
                                 const std::vector<std::pair<std::string, float>>& values);
std::string encode_image_event(double wall_time, int64_t step, const std::string& tag, const std::string& png,
                               int height, int width, int channels);
std::string encode_session_start_event(double wall_time, int64_t step);
// One TFRecord around `data`.
std::string tf_record(const std::string& data);

class EventFileWriter {
 public:
  // Creates a new events file in `dir` (events.out.tfevents.SECONDS.HOST.PID) and writes the
  // file_version record. Throws naming the file when it cannot be created.
  explicit EventFileWriter(const std::string& dir);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  const std::string& path() const { return path_; }
  // Appends one event record and flushes it to the OS (TensorBoard reads it at once).
  void write_event(const std::string& event);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

// Seconds since the Unix epoch, with sub-second precision (an Event's wall_time).
double wall_time_now();

}  // namespace locdet
