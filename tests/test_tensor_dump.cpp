// TensorDump (evaluate --dump): rows appended batch by batch come back as one tensor per
// name in append order, with the row shape of the first append; a changed shape or dtype
// is refused by name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "kernels/base/error.h"
#include "engine/tensor_dump.h"

namespace locdet {
namespace {

TEST(TensorDump, RowsAppendAndReadBack) {
  TensorDump dump;
  const float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {7, 8, 9};
  const int32_t counts[3] = {4, -1, 2};
  dump.append("boxes", {3}, a, 2);
  dump.append("boxes", {3}, b, 1);
  dump.append("count", {}, counts, 3);
  EXPECT_EQ(dump.rows("boxes"), 3);
  EXPECT_EQ(dump.rows("count"), 3);
  EXPECT_EQ(dump.rows("missing"), 0);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("locdet_dump_" + std::to_string(::getpid()) + ".safetensors"))
                               .string();
  dump.write(path, {{"locdet.task", "detect"}});
  const SafeTensorsFile file = read_safetensors(path);
  std::filesystem::remove(path);
  EXPECT_EQ(file.metadata.at("locdet.task"), "detect");
  const SafeTensor& boxes = file.tensors.at("boxes");
  EXPECT_EQ(boxes.dtype, DType::kF32);
  EXPECT_EQ(boxes.shape, (std::vector<int64_t>{3, 3}));
  float got[9];
  std::memcpy(got, boxes.data.data(), sizeof(got));
  for (int i = 0; i < 9; ++i) EXPECT_EQ(got[i], static_cast<float>(i + 1));
  const SafeTensor& count = file.tensors.at("count");
  EXPECT_EQ(count.dtype, DType::kI32);
  EXPECT_EQ(count.shape, (std::vector<int64_t>{3}));
  int32_t c[3];
  std::memcpy(c, count.data.data(), sizeof(c));
  EXPECT_EQ(c[0], 4);
  EXPECT_EQ(c[1], -1);
  EXPECT_EQ(c[2], 2);
}

TEST(TensorDump, RefusesAChangedRowShapeOrDtype) {
  TensorDump dump;
  const float a[4] = {};
  const int32_t i[4] = {};
  dump.append("x", {2}, a, 2);
  EXPECT_THROW(dump.append("x", {4}, a, 1), Error);
  EXPECT_THROW(dump.append("x", {2}, i, 1), Error);
  EXPECT_EQ(dump.rows("x"), 2);
}

}  // namespace
}  // namespace locdet
