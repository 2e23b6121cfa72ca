#include "models/dataset_feed.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "kernels/base/error.h"
#include "kernels/cpu/augment.h"
#if defined(LOCDET_WITH_CUDA)
#include "kernels/cuda/augment.h"
#endif

namespace locdet::models {

SceneLabel dataset_label(const Dataset& dataset, int64_t image, const std::vector<int>& label_values) {
  const DatasetImage& info = dataset.images[image];
  LOCDET_CHECK(info.box_count <= kLabelMaxBoxes, "'", info.file, "' has ", info.box_count,
               " boxes; training and evaluation carry at most ", kLabelMaxBoxes,
               " per image: split the image or drop some boxes");
  SceneLabel label{};
  label.count = info.box_count;
  const DatasetBox* boxes = dataset.image_boxes(image);
  for (int k = 0; k < kLabelMaxBoxes; ++k) {
    const bool used = k < info.box_count;
    label.cls[k] = used ? (label_values.empty() ? boxes[k].cls : label_values.at(boxes[k].cls)) : -1;
    label.mnist_index[k] = used ? static_cast<int32_t>(image) : -1;
    for (int j = 0; j < 4; ++j) label.box[k][j] = used ? boxes[k].box[j] : 0.0f;
  }
  return label;
}

namespace {
std::string mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", bytes / 1048576.0);
  return text;
}
}  // namespace

std::string dataset_memory_shortfall(int64_t needed, int64_t free) {
  if (needed <= free) return "";
  return "the training images need " + mib(needed) + " of GPU memory but only " + mib(free) +
         " are free: use fewer or smaller images (--input HxW), free GPU memory, or train with --device cpu";
}

DatasetStream::DatasetStream(const Dataset& dataset, const std::vector<int64_t>& indices,
                             const AugmentParams& augment, uint64_t seed)
    : augment_(augment), seed_(seed) {
  LOCDET_CHECK(!indices.empty(), "the dataset has no training images");
  LOCDET_CHECK(augment.height == dataset.height && augment.width == dataset.width, "augmentation is set for ",
               augment.height, "x", augment.width, " but the dataset's images are ", dataset.height, "x",
               dataset.width);
  const size_t plane = static_cast<size_t>(dataset.height) * dataset.width;
  pixels_.resize(plane * indices.size());
  labels_.reserve(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) {
    std::copy_n(dataset.image_pixels(indices[k]), plane, pixels_.data() + plane * k);
    labels_.push_back(dataset_label(dataset, indices[k]));
  }
}

DatasetStream::~DatasetStream() {
#if defined(LOCDET_WITH_CUDA)
  delete static_cast<cuda::DeviceDataset*>(device_);
#endif
}

DatasetView DatasetStream::host_view() const {
  return {pixels_.data(), labels_.data(), static_cast<int>(labels_.size())};
}

int64_t DatasetStream::device_bytes() const {
  return static_cast<int64_t>(pixels_.size() + labels_.size() * sizeof(SceneLabel));
}

int64_t DatasetStream::prepare_cuda() {
#if defined(LOCDET_WITH_CUDA)
  if (device_) return device_bytes();
  const std::string shortfall = dataset_memory_shortfall(device_bytes(), cuda::free_device_bytes());
  if (!shortfall.empty()) fail(shortfall);
  auto* device = new cuda::DeviceDataset();
  device_ = device;
  device->upload(pixels_.data(), labels_.data(), static_cast<int>(labels_.size()), augment_.height,
                 augment_.width);
  return device_bytes();
#else
  fail("this build has no CUDA backend; train with --device cpu");
#endif
}

void DatasetStream::fill_cpu(uint64_t first, int batch, float* images, SceneLabel* labels) {
  cpu::augment_batch(augment_, host_view(), key(), first, nullptr, batch, images, labels);
}

std::string DatasetStream::cuda_refusal() const {
  return device_ ? ""
                 : "the dataset is not on the GPU; call DatasetStream::prepare_cuda() before building the "
                   "executor";
}

void DatasetStream::fill_cuda(const uint64_t* indices, int batch, float* images, SceneLabel* labels,
                              void* stream) const {
#if defined(LOCDET_WITH_CUDA)
  const auto* device = static_cast<const cuda::DeviceDataset*>(device_);
  cuda::augment_batch(augment_, device->view(), key(), 0, indices, batch, images, labels,
                      static_cast<cudaStream_t>(stream));
#else
  (void)indices, (void)batch, (void)images, (void)labels, (void)stream;
  fail("this build has no CUDA backend");
#endif
}

SceneFeed add_dataset_feed(Graph& g, std::shared_ptr<DatasetStream> stream, int batch) {
  return add_sample_feed(g, std::move(stream), batch);
}

}  // namespace locdet::models
