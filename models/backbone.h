// Backbones: image [N,1,H,W] -> feature map at stride 4 (the localizer and detector heads
// work per cell of it). Both keep spatial information for the box, which the measurements
// in ARCHITECTURE.md show global pooling loses.
//   small:    a plain VGG-style CNN (conv-BN-ReLU pairs, two 2x2 max pools); the CPU default.
//   resnet18: ResNet-18's four stages of basic blocks (2-2-2-2), adapted to one channel and
//             small inputs: a 3x3 stride-1 stem, no stem pooling, stages at stride 1-2-2-1.
#pragma once

#include <string>

#include "engine/graph.h"

namespace locdet::models {

struct BackboneConfig {
  std::string kind = "small";  // "small" | "resnet18"
  int width = 16;              // channels of the first stage; later stages double it
};

struct Features {
  Value map;  // [N, channels, H/4, W/4]
  int channels = 0;
  int stride = 4;
};

// Parameters are named "backbone.*". Throws on an unknown kind or a width < 1.
Features build_backbone(Graph& g, Value image, const BackboneConfig& config);

// conv (no bias: BN follows) -> batch norm -> ReLU, parameters PREFIX.conv.weight, PREFIX.bn.*
Value conv_bn_relu(Graph& g, Value x, const std::string& prefix, int out_channels, int kernel, int stride);

}  // namespace locdet::models
