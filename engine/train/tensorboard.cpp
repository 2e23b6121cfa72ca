#include "engine/train/tensorboard.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "kernels/base/error.h"

namespace locdet {

namespace {

// Table for the reflected Castagnoli polynomial, one byte at a time (events are small and
// written every --log-every steps: speed does not matter here).
std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

// ---- protobuf wire format ---------------------------------------------------------------

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_key(std::string& out, uint32_t field, WireType type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | type);
}

template <typename T>
void put_little_endian(std::string& out, T value) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // x86-64 and aarch64 are little-endian, as the format
  out.append(reinterpret_cast<const char*>(bytes), sizeof(T));
}

void put_bytes(std::string& out, uint32_t field, const std::string& bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out += bytes;
}

void put_int(std::string& out, uint32_t field, int64_t v) {
  put_key(out, field, kVarint);
  put_varint(out, static_cast<uint64_t>(v));  // negative int64: 10-byte two's complement, as protobuf
}

// Event { wall_time = 1, step = 2 } and then the caller's oneof field. Like protobuf's own
// proto3 serializer, a zero step is left out (it is the default).
std::string event_header(double wall_time, int64_t step) {
  std::string e;
  put_key(e, 1, kFixed64);
  put_little_endian(e, wall_time);
  if (step != 0) put_int(e, 2, step);
  return e;
}

std::string summary_event(double wall_time, int64_t step, const std::string& values) {
  std::string e = event_header(wall_time, step);
  put_bytes(e, 5, values);  // Event.summary (Summary.value entries, already keyed)
  return e;
}

int64_t seconds_of(const std::string& file_name) {
  constexpr const char* kPrefix = "events.out.tfevents.";
  if (file_name.rfind(kPrefix, 0) != 0) return -1;
  const char* digits = file_name.c_str() + std::strlen(kPrefix);
  char* end = nullptr;
  const long long v = std::strtoll(digits, &end, 10);
  return end != digits ? v : -1;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = make_crc32c_table();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string encode_file_version_event(double wall_time) {
  std::string e = event_header(wall_time, 0);
  put_bytes(e, 3, "brain.Event:2");
  return e;
}

std::string encode_scalars_event(double wall_time, int64_t step,
                                 const std::vector<std::pair<std::string, float>>& values) {
  std::string summary;
  for (const auto& [tag, v] : values) {
    std::string value;
    put_bytes(value, 1, tag);
    put_key(value, 2, kFixed32);
    put_little_endian(value, v);
    put_bytes(summary, 1, value);
  }
  return summary_event(wall_time, step, summary);
}

std::string encode_image_event(double wall_time, int64_t step, const std::string& tag, const std::string& png,
                               int height, int width, int channels) {
  std::string image;
  put_int(image, 1, height);
  put_int(image, 2, width);
  put_int(image, 3, channels);  // colorspace: 1 gray, 3 RGB, 4 RGBA
  put_bytes(image, 4, png);
  std::string value;
  put_bytes(value, 1, tag);
  put_bytes(value, 4, image);
  std::string summary;
  put_bytes(summary, 1, value);
  return summary_event(wall_time, step, summary);
}

std::string encode_session_start_event(double wall_time, int64_t step) {
  std::string log;
  put_int(log, 1, 1);  // SessionLog.status = START
  std::string e = event_header(wall_time, step);
  put_bytes(e, 7, log);  // Event.session_log
  return e;
}

std::string tf_record(const std::string& data) {
  std::string record;
  put_little_endian(record, static_cast<uint64_t>(data.size()));
  put_little_endian(record, masked_crc32c(record.data(), 8));
  record += data;
  put_little_endian(record, masked_crc32c(data.data(), data.size()));
  return record;
}

double wall_time_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

EventFileWriter::EventFileWriter(const std::string& dir) {
  namespace fs = std::filesystem;
  // TensorBoard reads a folder's event files in name order: start this one's seconds after
  // every existing file's, so a resumed run's file comes after the run it continues.
  int64_t seconds = static_cast<int64_t>(wall_time_now());
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    seconds = std::max(seconds, seconds_of(entry.path().filename().string()) + 1);
  if (ec) fail("cannot list '", dir, "' (", ec.message(), ")");
  char host[256] = "localhost";
  if (::gethostname(host, sizeof(host)) != 0) std::strcpy(host, "localhost");
  host[sizeof(host) - 1] = '\0';
  path_ =
      dir + "/events.out.tfevents." + std::to_string(seconds) + "." + host + "." + std::to_string(::getpid());
  file_ = std::fopen(path_.c_str(), "wbx");  // never an existing file
  if (!file_)
    fail("cannot create the TensorBoard events file '", path_, "': ", std::strerror(errno),
         "; check the run folder's permissions");
  write_event(encode_file_version_event(wall_time_now()));
}

EventFileWriter::~EventFileWriter() {
  if (file_) std::fclose(file_);
}

void EventFileWriter::write_event(const std::string& event) {
  const std::string record = tf_record(event);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() || std::fflush(file_) != 0)
    fail("cannot append to '", path_, "' (disk full?)");
}

}  // namespace locdet
