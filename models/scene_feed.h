// The training data node: renders a fresh batch of scenes inside every training step, on
// the executor's device (the CPU renderer or the CUDA kernel; the same scenes either way).
// The sample cursor is graph state in device memory ("optim.data_cursor", saved in
// checkpoints like the step counter), so a replayed CUDA Graph renders new scenes each
// step and a resumed run continues the exact sample stream of an uninterrupted one.
//   step s renders samples [s * batch, (s + 1) * batch) of the split's endless stream.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/graph.h"
#include "models/digits/scene.h"

namespace locdet::models {

// Digits and the split's draw pool on the host (and, after prepare_cuda, on the GPU).
class SceneStream {
 public:
  SceneStream(const data::DigitBank& bank, data::Preset preset, data::Split split, uint64_t seed);
  ~SceneStream();
  // Uploads the digits and pool to the GPU once; call before a CUDA executor runs the feed.
  void prepare_cuda();

  const data::Preset& preset() const { return preset_; }
  data::Split split() const { return split_; }
  uint64_t seed() const { return seed_; }
  const data::SceneSource& source() const { return source_; }
  data::SceneBatch& staging() { return staging_; }
  const void* device_digits() const { return device_digits_; }

 private:
  data::Preset preset_;
  data::Split split_;
  uint64_t seed_;
  data::SceneSource source_;
  data::SceneBatch staging_;       // CPU rendering target, reused every step
  void* device_digits_ = nullptr;  // cuda::DeviceDigits*, owned
};

constexpr int kSceneLabelWords = static_cast<int>(sizeof(SceneLabel) / sizeof(int32_t));

struct SceneFeed {
  Value images;        // [N, 1, H, W]
  Value scene_labels;  // [N, kSceneLabelWords] i32: the raw SceneLabel of each sample
  Value cursor;        // [1] i64 state: index of the next sample
};

SceneFeed add_scene_feed(Graph& g, std::shared_ptr<SceneStream> stream, int batch);

// What a training data node does, whatever the data: fill images [batch, 1, H, W] (values in
// [0, 1]) and one SceneLabel row per sample for samples [cursor, cursor + batch) of an endless
// stream. The scene feed renders them; the dataset feed (models/dataset_feed) augments stored
// images.
struct SampleFill {
  std::string name;  // the op's name
  int height = 0, width = 0;
  // CPU: samples first .. first + batch - 1, host pointers.
  std::function<void(uint64_t first, int batch, float* images, SceneLabel* labels)> cpu;
  // CUDA (may be empty in a CPU-only build): sample b is indices[b], device pointers, on `stream`
  // (a cudaStream_t).
  std::function<void(const uint64_t* indices, int batch, float* images, SceneLabel* labels, void* stream)>
      cuda;
};
// The node for `fill`, with the cursor in device memory ("optim.data_cursor").
SceneFeed add_sample_feed(Graph& g, const SampleFill& fill, int batch);

// scene labels -> [N, 6] localizer labels [p_c, cx, cy, w, h, class] (on the device).
Value localizer_labels(Graph& g, Value scene_labels, int height, int width);

}  // namespace locdet::models
