// Backbones: image [N,1,H,W] -> feature map at stride 4 (the localizer and detector heads
// work per cell of it). Both keep spatial information for the box, which the measurements
// in ARCHITECTURE.md show global pooling loses.
//   small:    a plain VGG-style CNN: conv-BN-ReLU pairs at widths w, 2w, 4w, two 2x2 max pools.
//   lean:     small with one convolution at full resolution and three at stride 4: the same
//             multiply-adds, a sixteenth of the activations for the moved layer, a 1.1x faster
//             CPU step and a larger receptive field (no more accurate in equal time: see
//             docs/ARCHITECTURE.md "Backbones").
//   resnet18: ResNet-18's four stages of basic blocks (2-2-2-2), adapted to one channel and
//             small inputs: a 3x3 stride-1 stem, no stem pooling, stages at stride 1-2-2-1.
#pragma once

#include <string>

#include "engine/graph.h"

namespace locdet::models {

struct BackboneConfig {
  std::string kind = "small";  // "small" | "lean" | "resnet18"
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
