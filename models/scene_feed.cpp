#include "models/scene_feed.h"

#include <cstring>
#include <vector>

#include "kernels/base/error.h"
#include "kernels/common/localizer_targets.h"
#if defined(LOCDET_WITH_CUDA)
#include "kernels/cuda/scene.h"
#include "kernels/cuda/scene_feed.h"
#endif

namespace locdet::models {

static_assert(sizeof(SceneLabel) % sizeof(int32_t) == 0, "SceneLabel must be a whole number of 32-bit words");

SceneStream::SceneStream(const data::DigitBank& bank, data::Preset preset, data::Split split, uint64_t seed)
    : preset_(std::move(preset)), split_(split), seed_(seed), source_(bank, preset_, split) {}

SceneStream::~SceneStream() {
#if defined(LOCDET_WITH_CUDA)
  delete static_cast<cuda::DeviceDigits*>(device_digits_);
#endif
}

void SceneStream::prepare_cuda() {
#if defined(LOCDET_WITH_CUDA)
  if (device_digits_) return;
  auto* digits = new cuda::DeviceDigits();
  device_digits_ = digits;
  const data::DigitBank& bank = *source_.bank;
  digits->upload(bank.pixels.data(), bank.labels.data(), bank.ink_box.data(), bank.count());
  digits->set_pool(source_.pool.data(), static_cast<int>(source_.pool.size()));
#else
  fail("this build has no CUDA backend; train with --device cpu");
#endif
}

SceneFeed add_sample_feed(Graph& g, const SampleFill& fill, int batch) {
  LOCDET_CHECK(batch >= 1, "batch size must be >= 1, got ", batch);
  const int height = fill.height, width = fill.width;
  SceneFeed feed;
  feed.cursor = g.state("optim.data_cursor", {1}, Init::kZeros);
  g.info(feed.cursor).role = Role::kOptimizerState;
  g.info(feed.cursor).dtype = DType::kI64;

  auto op = std::make_shared<CustomOp>();
  op->name = fill.name;
  auto staging = std::make_shared<std::vector<float>>();  // f32 samples for an f64 graph
  op->cpu = [fill, staging, batch, height, width](const CustomCall& c) {
    int64_t* cursor = c.inputs[0].as<int64_t>();
    const Tensor& images = c.outputs[0];
    const size_t pixels = static_cast<size_t>(batch) * height * width;
    float* target = nullptr;
    if (images.dtype == DType::kF64) {
      staging->resize(pixels);
      target = staging->data();
    } else {
      target = images.as<float>();
    }
    fill.cpu(static_cast<uint64_t>(*cursor), batch, target, c.outputs[1].as<SceneLabel>());
    *cursor += batch;
    if (images.dtype == DType::kF64)
      for (size_t i = 0; i < pixels; ++i) images.as<double>()[i] = (*staging)[i];
  };
#if defined(LOCDET_WITH_CUDA)
  if (fill.cuda) {
    op->cuda = [fill, batch](const CustomCall& c) {
      auto* indices = c.outputs[2].as<uint64_t>();
      cuda::take_scene_indices(c.inputs[0].as<int64_t>(), batch, indices,
                               static_cast<cudaStream_t>(c.stream));
      fill.cuda(indices, batch, c.outputs[0].as<float>(), c.outputs[1].as<SceneLabel>(), c.stream);
    };
  }
#endif
  auto out = g.custom(op, {feed.cursor},
                      {{Shape{batch, 1, height, width}, DType::kF32},
                       {Shape{batch, kSceneLabelWords}, DType::kI32},
                       {Shape{batch}, DType::kI64}});  // scratch: this step's sample indices
  feed.images = out[0];
  feed.scene_labels = out[1];
  return feed;
}

SceneFeed add_scene_feed(Graph& g, std::shared_ptr<SceneStream> stream, int batch) {
  SampleFill fill;
  fill.name = "render_scenes";
  fill.height = stream->preset().height;
  fill.width = stream->preset().width;
  fill.cpu = [stream](uint64_t first, int count, float* images, SceneLabel* labels) {
    data::SceneBatch& staging = stream->staging();
    data::render_scenes_cpu(stream->preset(), stream->split(), stream->seed(), stream->source(), first, count,
                            &staging, data::SceneMode::kEndless);
    std::memcpy(images, staging.images.data(), staging.images.size() * sizeof(float));
    std::memcpy(labels, staging.labels.data(), count * sizeof(SceneLabel));
  };
#if defined(LOCDET_WITH_CUDA)
  fill.cuda = [stream](const uint64_t* indices, int count, float* images, SceneLabel* labels, void* s) {
    LOCDET_CHECK(stream->device_digits(),
                 "scene feed: digits are not on the GPU; call SceneStream::prepare_cuda()");
    const auto* digits = static_cast<const cuda::DeviceDigits*>(stream->device_digits());
    cuda::render_scene_batch(stream->preset().params(), digits->source(),
                             scene_key(stream->seed(), static_cast<int>(stream->split())), 0, indices, count,
                             images, labels, static_cast<cudaStream_t>(s));
  };
#endif
  return add_sample_feed(g, fill, batch);
}

Value localizer_labels(Graph& g, Value scene_labels, int height, int width) {
  const int64_t batch = g.shape(scene_labels)[0];
  auto op = std::make_shared<CustomOp>();
  op->name = "localizer_labels";
  op->cpu = [batch, height, width](const CustomCall& c) {
    const auto* labels = c.inputs[0].as<SceneLabel>();
    for (int64_t b = 0; b < batch; ++b) {
      if (c.outputs[0].dtype == DType::kF64) {
        scene_label_to_localizer(labels[b], height, width,
                                 c.outputs[0].as<double>() + b * kLocalizerLabelSize);
      } else {
        scene_label_to_localizer(labels[b], height, width,
                                 c.outputs[0].as<float>() + b * kLocalizerLabelSize);
      }
    }
  };
#if defined(LOCDET_WITH_CUDA)
  op->cuda = [batch, height, width](const CustomCall& c) {
    cuda::scene_labels_to_localizer(c.inputs[0].as<SceneLabel>(), static_cast<int>(batch), height, width,
                                    c.outputs[0].as<float>(), static_cast<cudaStream_t>(c.stream));
  };
#endif
  return g.custom(op, {scene_labels}, {{Shape{batch, kLocalizerLabelSize}, DType::kF32}})[0];
}

}  // namespace locdet::models
