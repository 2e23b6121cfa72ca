// Device side of the training scene feed (models/scene_feed): the sample indices of a
// step come from a cursor in device memory, so a captured CUDA Graph renders new scenes on
// every replay; and scene labels become localizer labels on the device.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/common/scene.h"

namespace locdet::cuda {

// indices[b] = *cursor + b, then *cursor += batch (one kernel, so the order is fixed).
void take_scene_indices(int64_t* cursor, int batch, uint64_t* indices, cudaStream_t stream);

// out [batch, 6] = scene_label_to_localizer(labels[b])
void scene_labels_to_localizer(const SceneLabel* labels, int batch, int height, int width, float* out,
                               cudaStream_t stream);

}  // namespace locdet::cuda
