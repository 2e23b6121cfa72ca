// CPU reference scene renderer: renders `batch` augmented-MNIST scenes (the math is
// kernels/common/scene.h) into images [batch, 1, H, W] (row major, values in [0, 1])
// and one SceneLabel each. OpenMP over samples; sample i does not depend on the batch,
// its position in it or the thread count.
#pragma once

#include <cstdint>

#include "kernels/common/scene.h"

namespace locdet::cpu {

// Sample b of the batch is indices[b] when `indices` is given, else first_index + b.
void render_scene_batch(const SceneParams& params, const DigitSource& source, SceneKey key,
                        uint64_t first_index, const uint64_t* indices, int batch, float* images,
                        SceneLabel* labels);

// One sample; also returns its layout (tests inspect it).
void render_scene(const SceneParams& params, const DigitSource& source, SceneKey key, uint64_t sample,
                  float* image, SceneLabel* label, SceneLayout* layout = nullptr);

}  // namespace locdet::cpu
