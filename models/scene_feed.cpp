#include "models/scene_feed.h"

#include <cstring>

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

SceneFeed add_scene_feed(Graph& g, std::shared_ptr<SceneStream> stream, int batch) {
  LOCDET_CHECK(batch >= 1, "batch size must be >= 1, got ", batch);
  const int height = stream->preset().height, width = stream->preset().width;
  SceneFeed feed;
  feed.cursor = g.state("optim.data_cursor", {1}, Init::kZeros);
  g.info(feed.cursor).role = Role::kOptimizerState;
  g.info(feed.cursor).dtype = DType::kI64;

  auto op = std::make_shared<CustomOp>();
  op->name = "render_scenes";
  op->cpu = [stream, batch, height, width](const CustomCall& c) {
    int64_t* cursor = c.inputs[0].as<int64_t>();
    data::SceneBatch& staging = stream->staging();
    data::render_scenes_cpu(stream->preset(), stream->split(), stream->seed(), stream->source(),
                            static_cast<uint64_t>(*cursor), batch, &staging, data::SceneMode::kEndless);
    *cursor += batch;
    const Tensor& images = c.outputs[0];
    const size_t pixels = static_cast<size_t>(batch) * height * width;
    if (images.dtype == DType::kF64) {
      for (size_t i = 0; i < pixels; ++i) images.as<double>()[i] = staging.images[i];
    } else {
      std::memcpy(images.data, staging.images.data(), pixels * sizeof(float));
    }
    std::memcpy(c.outputs[1].data, staging.labels.data(), batch * sizeof(SceneLabel));
  };
#if defined(LOCDET_WITH_CUDA)
  op->cuda = [stream, batch](const CustomCall& c) {
    LOCDET_CHECK(stream->device_digits(),
                 "scene feed: digits are not on the GPU; call SceneStream::prepare_cuda()");
    auto s = static_cast<cudaStream_t>(c.stream);
    auto* indices = c.outputs[2].as<uint64_t>();
    cuda::take_scene_indices(c.inputs[0].as<int64_t>(), batch, indices, s);
    const auto* digits = static_cast<const cuda::DeviceDigits*>(stream->device_digits());
    cuda::render_scene_batch(stream->preset().params(), digits->source(),
                             scene_key(stream->seed(), static_cast<int>(stream->split())), 0, indices, batch,
                             c.outputs[0].as<float>(), c.outputs[1].as<SceneLabel>(), s);
  };
#endif
  auto out = g.custom(op, {feed.cursor},
                      {{Shape{batch, 1, height, width}, DType::kF32},
                       {Shape{batch, kSceneLabelWords}, DType::kI32},
                       {Shape{batch}, DType::kI64}});  // scratch: this step's sample indices
  feed.images = out[0];
  feed.scene_labels = out[1];
  return feed;
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
