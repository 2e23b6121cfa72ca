#include "models/backbone.h"

#include "kernels/base/error.h"

namespace locdet::models {

namespace {

Value conv_bn(Graph& g, Value x, const std::string& prefix, int out_channels, int kernel, int stride) {
  const int in_channels = static_cast<int>(g.shape(x)[1]);
  Value w = g.parameter(prefix + ".conv.weight", {out_channels, in_channels, kernel, kernel},
                        Init::kKaimingUniform);
  return g.batchnorm(g.conv2d(x, w, Value{}, stride, kernel / 2), prefix + ".bn");
}

Features small_cnn(Graph& g, Value x, int width) {
  x = conv_bn_relu(g, x, "backbone.conv1", width, 3, 1);
  x = conv_bn_relu(g, x, "backbone.conv2", width, 3, 1);
  x = g.maxpool2d(x, 2, 2);
  x = conv_bn_relu(g, x, "backbone.conv3", 2 * width, 3, 1);
  x = conv_bn_relu(g, x, "backbone.conv4", 2 * width, 3, 1);
  x = g.maxpool2d(x, 2, 2);
  x = conv_bn_relu(g, x, "backbone.conv5", 4 * width, 3, 1);
  x = conv_bn_relu(g, x, "backbone.conv6", 4 * width, 3, 1);
  return {x, 4 * width, 4};
}

// ResNet basic block: two 3x3 conv-BN, identity (or 1x1 conv-BN projection) shortcut.
Value basic_block(Graph& g, Value x, const std::string& prefix, int out_channels, int stride) {
  const int in_channels = static_cast<int>(g.shape(x)[1]);
  Value y = conv_bn_relu(g, x, prefix + ".a", out_channels, 3, stride);
  y = conv_bn(g, y, prefix + ".b", out_channels, 3, 1);
  Value shortcut = x;
  if (stride != 1 || in_channels != out_channels)
    shortcut = conv_bn(g, x, prefix + ".down", out_channels, 1, stride);
  return g.relu(g.add(y, shortcut));
}

Features resnet18(Graph& g, Value x, int width) {
  x = conv_bn_relu(g, x, "backbone.stem", width, 3, 1);
  const int channels[4] = {width, 2 * width, 4 * width, 8 * width};
  const int strides[4] = {1, 2, 2, 1};
  for (int stage = 0; stage < 4; ++stage) {
    for (int block = 0; block < 2; ++block) {
      const std::string prefix = "backbone.layer" + std::to_string(stage + 1) + "." + std::to_string(block);
      x = basic_block(g, x, prefix, channels[stage], block == 0 ? strides[stage] : 1);
    }
  }
  return {x, 8 * width, 4};
}

}  // namespace

Value conv_bn_relu(Graph& g, Value x, const std::string& prefix, int out_channels, int kernel, int stride) {
  return g.relu(conv_bn(g, x, prefix, out_channels, kernel, stride));
}

Features build_backbone(Graph& g, Value image, const BackboneConfig& config) {
  LOCDET_CHECK(config.width >= 1, "backbone width must be >= 1, got ", config.width);
  if (config.kind == "small") return small_cnn(g, image, config.width);
  if (config.kind == "resnet18") return resnet18(g, image, config.width);
  fail("unknown model '", config.kind, "': use 'small' or 'resnet18'");
}

}  // namespace locdet::models
