// The training data node: fills a fresh batch inside every training step, on the executor's
// device, from a SampleSource: the scene renderer (SceneStream: the CPU renderer or the CUDA
// kernel, the same scenes either way) or a dataset's stored images augmented on the device
// (DatasetStream, models/dataset_feed.h). The sample cursor is graph state in device memory
// ("optim.data_cursor", saved in checkpoints like the step counter), so a replayed CUDA Graph
// fills new samples each step and a resumed run continues the exact sample stream of an
// uninterrupted one.
//   step s fills samples [s * batch, (s + 1) * batch) of the source's endless stream.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "models/digits/scene.h"

namespace locdet::models {

// What the data node reads: samples of an endless stream as images [batch, 1, H, W] (values in
// [0, 1]) and one SceneLabel row each.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual int height() const = 0;
  virtual int width() const = 0;
  // CPU: samples first .. first + batch - 1 into host memory.
  virtual void fill_cpu(uint64_t first, int batch, float* images, SceneLabel* labels) = 0;
  // CUDA: sample b is indices[b] (device memory); on `stream` (a cudaStream_t).
  virtual void fill_cuda(const uint64_t* indices, int batch, float* images, SceneLabel* labels,
                         void* stream) const = 0;
  // Why the CUDA fill cannot run yet ("" when its data is on the GPU).
  virtual std::string cuda_refusal() const = 0;
  std::vector<float>& f64_staging() { return f64_staging_; }  // the fill of a double-precision graph

 private:
  std::vector<float> f64_staging_;
};

// Digits and the split's draw pool on the host (and, after prepare_cuda, on the GPU).
class SceneStream : public SampleSource {
 public:
  SceneStream(const data::DigitBank& bank, data::Preset preset, data::Split split, uint64_t seed);
  ~SceneStream() override;
  // Uploads the digits and pool to the GPU once; call before a CUDA executor runs the feed.
  void prepare_cuda();

  const data::Preset& preset() const { return preset_; }
  data::Split split() const { return split_; }
  uint64_t seed() const { return seed_; }
  const data::SceneSource& source() const { return source_; }
  const void* device_digits() const { return device_digits_; }

  int height() const override { return preset_.height; }
  int width() const override { return preset_.width; }
  void fill_cpu(uint64_t first, int batch, float* images, SceneLabel* labels) override;
  void fill_cuda(const uint64_t* indices, int batch, float* images, SceneLabel* labels,
                 void* stream) const override;
  std::string cuda_refusal() const override;

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

// The data node for `source`, with the cursor in device memory (ops::sample_feed).
SceneFeed add_sample_feed(Graph& g, std::shared_ptr<SampleSource> source, int batch);
SceneFeed add_scene_feed(Graph& g, std::shared_ptr<SceneStream> stream, int batch);

// scene labels -> [N, 6] localizer labels [p_c, cx, cy, w, h, class] (on the device).
Value localizer_labels(Graph& g, Value scene_labels, int height, int width);

}  // namespace locdet::models
