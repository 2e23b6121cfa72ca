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

// The plain VGG-style backbones: conv-BN-ReLU layers in three stages at stride 1, 2 and 4, a 2x2
// max pool between stages. Parameters are numbered backbone.conv1, conv2, ... in order.
struct PlainLayout {
  const char* kind;
  int convs[3];   // convolutions per stage
  int widths[3];  // each stage's channels, in units of `width`
};
// lean moves small's second full-resolution convolution, whose activations are 16x those at
// stride 4, to the stride-4 stage (docs/ARCHITECTURE.md "Backbones").
constexpr PlainLayout kPlainLayouts[] = {
    {"small", {2, 2, 2}, {1, 2, 4}},
    {"lean", {1, 2, 3}, {1, 2, 4}},
};

Features plain_cnn(Graph& g, Value x, const PlainLayout& layout, int width) {
  int index = 0;
  for (int stage = 0; stage < 3; ++stage) {
    if (stage > 0) x = g.maxpool2d(x, 2, 2);
    for (int i = 0; i < layout.convs[stage]; ++i)
      x = conv_bn_relu(g, x, "backbone.conv" + std::to_string(++index), layout.widths[stage] * width, 3, 1);
  }
  return {x, layout.widths[2] * width, 4};
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
  for (const PlainLayout& layout : kPlainLayouts)
    if (config.kind == layout.kind) return plain_cnn(g, image, layout, config.width);
  if (config.kind == "resnet18") return resnet18(g, image, config.width);
  fail("unknown model '", config.kind, "': use 'small', 'lean' or 'resnet18'");
}

}  // namespace locdet::models
