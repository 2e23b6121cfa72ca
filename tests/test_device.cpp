#include <gtest/gtest.h>

#include "kernels/base/device.h"
#include "kernels/base/error.h"

namespace locdet {

TEST(Device, ParsesNamesAndRejectsUnknownOnes) {
  EXPECT_EQ(parse_device("cpu"), Device::kCpu);
  EXPECT_EQ(parse_device("cuda"), Device::kCuda);
  try {
    parse_device("gpu");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("use 'cpu' or 'cuda'"), std::string::npos);
  }
}

TEST(Device, AvailabilityIsConsistentWithTheBuild) {
  if (!cuda_built()) {
    EXPECT_FALSE(cuda_available());
  }
  EXPECT_FALSE(cuda_device_summary().empty());
}

}  // namespace locdet
