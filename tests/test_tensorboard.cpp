// TensorBoard event files (engine/train/tensorboard.h): CRC-32C against published vectors,
// and records and Event messages byte for byte against what the tensorboard package's own
// writer and protobuf classes produce (the hex below was printed by tensorboard 2.21's
// RecordWriter and event_pb2 / summary_pb2 SerializeToString). tests/cli/tensorboard.sh reads
// whole runs back with TensorBoard's EventAccumulator.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/train/tensorboard.h"

namespace locdet {
namespace {

std::string hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

TEST(Crc32c, PublishedVectors) {
  // The CRC catalogue's check value, and the four 32-byte vectors of RFC 3720 (iSCSI) B.4.
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  std::vector<unsigned char> bytes(32, 0);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x8A9136AAu);
  std::fill(bytes.begin(), bytes.end(), 0xFF);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) bytes[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) bytes[i] = static_cast<unsigned char>(31 - i);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x113FDB5Cu);
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(Crc32c, ContinuesAcrossChunksAndMasksAsTensorFlow) {
  EXPECT_EQ(crc32c("6789", 4, crc32c("12345", 5)), 0xE3069283u);
  // tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c(b"123456789")
  EXPECT_EQ(masked_crc32c("123456789", 9), 0xC78AB0E5u);
}

TEST(TensorBoardRecord, FramesLikeTensorBoardsRecordWriter) {
  EXPECT_EQ(hex(tf_record("hello")), "0500000000000000eab2043e68656c6c6fbb1f1c19");
}

TEST(TensorBoardEvent, EncodesLikeProtobuf) {
  EXPECT_EQ(hex(encode_file_version_event(1.5)), "09000000000000f83f1a0d627261696e2e4576656e743a32");
  EXPECT_EQ(
      hex(encode_scalars_event(1700000000.25, 42, {{"train/loss", 0.5f}, {"val/map", -1.25f}})),
      "0900001040fc54d941102a2a230a110a0a747261696e2f6c6f7373150000003f0a0e0a0776616c2f6d6170150000a0bf");
  EXPECT_EQ(hex(encode_session_start_event(2.0, 301)), "09000000000000004010ad023a020801");
  EXPECT_EQ(hex(encode_image_event(3.0, 7, "val/overlay", "\x89PNG", 2, 3, 3)),
            "09000000000000084010072a1d0a1b0a0b76616c2f6f7665726c6179220c080210031803220489504e47");
}

}  // namespace
}  // namespace locdet
