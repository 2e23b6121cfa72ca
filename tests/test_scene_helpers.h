// Shared by the scene tests: a synthetic digit bank (filled squares, so boxes are known
// exactly without MNIST) and the real MNIST bank when data/mnist is present.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "models/digits/mnist.h"
#include "models/digits/scene.h"

namespace locdet::test {

// 120 "digits": digit i has class i % 10 and a filled square of side 6 + (i % 10) with its
// top-left corner at (4 + i % 5, 5 + i % 3). The first 96 are "train" (val = 88..95),
// the last 24 "test"; pixel value 200 + i % 50 marks the digit's index.
inline data::DigitBank synthetic_bank() {
  const int n = 120;
  std::vector<uint8_t> pixels(static_cast<size_t>(n) * 784, 0), labels(n);
  for (int i = 0; i < n; ++i) {
    labels[i] = static_cast<uint8_t>(i % 10);
    int side = 6 + i % 10, x0 = 4 + i % 5, y0 = 5 + i % 3;
    for (int y = y0; y < y0 + side; ++y)
      for (int x = x0; x < x0 + side; ++x) pixels[static_cast<size_t>(i) * 784 + y * 28 + x] = 200 + i % 50;
  }
  return data::DigitBank::from_images(std::move(pixels), std::move(labels), 96);
}

// The real MNIST bank, loaded once; null when data/mnist is missing.
inline const data::DigitBank* mnist_bank() {
  static std::unique_ptr<data::DigitBank> bank;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string dir = data::default_mnist_dir();
    if (std::filesystem::exists(dir)) {
      try {
        bank = std::make_unique<data::DigitBank>(data::DigitBank::from_mnist(data::load_mnist(dir)));
      } catch (const std::exception& e) {
        ADD_FAILURE() << "MNIST present at " << dir << " but failed to load: " << e.what();
      }
    }
  }
  return bank.get();
}

#define LOCDET_REQUIRE_MNIST()                                           \
  const ::locdet::data::DigitBank* mnist = ::locdet::test::mnist_bank(); \
  if (!mnist)                                                            \
  GTEST_SKIP() << "MNIST not found at " << ::locdet::data::default_mnist_dir() << " (run tools/bootstrap.sh)"

}  // namespace locdet::test
