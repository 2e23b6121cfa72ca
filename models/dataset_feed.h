// The training data node for a dataset on disk (engine/data/dataset): the training images are
// uploaded to the device once (DatasetStream::prepare_cuda; nothing crosses to the host per step)
// and every step gathers and augments a batch on the device (kernels/{cpu,cuda}/augment, seeded
// by the run's seed and the sample index, like the scene renderer). It emits the same images and
// SceneLabel rows as the scene feed (cls = the dataset's class index, boxes in model pixels), so
// localizer_labels and the detector's targets read it unchanged; the cursor is the same
// "optim.data_cursor" state, so a resumed run continues the exact sample stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "kernels/common/augment.h"
#include "models/scene_feed.h"

namespace locdet::models {

// Image `image` of `dataset` as a label row: its boxes with class value label_values[cls] (the
// class index itself when label_values is empty). Refuses, naming the image, more boxes than a
// row carries (kLabelMaxBoxes).
SceneLabel dataset_label(const Dataset& dataset, int64_t image, const std::vector<int>& label_values = {});

// The message when a dataset of `needed` bytes does not fit in `free` bytes of GPU memory ("" when
// it fits).
std::string dataset_memory_shortfall(int64_t needed, int64_t free);

class DatasetStream : public SampleSource {
 public:
  // The images `indices` of `dataset`, packed contiguously with their label rows.
  DatasetStream(const Dataset& dataset, const std::vector<int64_t>& indices, const AugmentParams& augment,
                uint64_t seed);
  ~DatasetStream() override;
  DatasetStream(const DatasetStream&) = delete;
  DatasetStream& operator=(const DatasetStream&) = delete;

  // Uploads the images and labels to the GPU once; returns the bytes they take there. Refuses,
  // with the size needed, a dataset that does not fit in the free GPU memory.
  int64_t prepare_cuda();
  int64_t device_bytes() const;  // what prepare_cuda needs (or took)

  const AugmentParams& augment() const { return augment_; }
  SceneKey key() const { return dataset_key(seed_); }
  DatasetView host_view() const;
  const void* device_dataset() const { return device_; }

  int height() const override { return augment_.height; }
  int width() const override { return augment_.width; }
  void fill_cpu(uint64_t first, int batch, float* images, SceneLabel* labels) override;
  void fill_cuda(const uint64_t* indices, int batch, float* images, SceneLabel* labels,
                 void* stream) const override;
  std::string cuda_refusal() const override;

 private:
  AugmentParams augment_;
  uint64_t seed_;
  std::vector<uint8_t> pixels_;
  std::vector<SceneLabel> labels_;
  void* device_ = nullptr;  // cuda::DeviceDataset*, owned
};

SceneFeed add_dataset_feed(Graph& g, std::shared_ptr<DatasetStream> stream, int batch);

}  // namespace locdet::models
