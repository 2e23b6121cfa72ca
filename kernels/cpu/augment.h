// CPU reference of the dataset augmentation (the math is kernels/common/augment.h): `batch`
// training samples into images [batch, 1, H, W] (values in [0, 1]) and one SceneLabel each.
// OpenMP over samples; sample i does not depend on the batch, its position in it or the thread
// count.
#pragma once

#include <cstdint>

#include "kernels/common/augment.h"

namespace locdet::cpu {

// Sample b of the batch is indices[b] when `indices` is given, else first_sample + b.
void augment_batch(const AugmentParams& params, const DatasetView& data, SceneKey key, uint64_t first_sample,
                   const uint64_t* indices, int batch, float* images, SceneLabel* labels);

// One sample; also returns what it drew (tests inspect it).
void augment_sample(const AugmentParams& params, const DatasetView& data, SceneKey key, uint64_t sample,
                    float* image, SceneLabel* label, AugmentDraw* draw = nullptr);

}  // namespace locdet::cpu
