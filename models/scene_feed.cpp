#include "models/scene_feed.h"

#include <cstring>

#include "engine/ops/kernel_call.h"
#include "kernels/base/error.h"
#include "kernels/common/localizer_targets.h"
#include "models/model_ops.h"
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

namespace {

// ---- render_scenes: the batch of the training stream at the cursor -----------------------
// input: cursor [1] i64 (advanced by the op); params: shared_ptr<SceneStream>
// outputs: images [N, 1, H, W], raw scene labels [N, kSceneLabelWords] i32
// workspace (CUDA): this step's sample indices, [N] u64

using StreamRef = std::shared_ptr<SceneStream>;

std::vector<TensorSpec> render_scenes_shape(const ShapeCall& c) {
  LOCDET_CHECK(c.shape(0) == Shape({1}) && c.dtype(0) == DType::kI64, c.node, ": the cursor must be [1] i64");
  const auto& stream = std::any_cast<const StreamRef&>(c.attrs.params);
  const int64_t batch = c.attrs.length;
  LOCDET_CHECK(batch >= 1, "batch size must be >= 1, got ", batch);
  return {{{batch, 1, stream->preset().height, stream->preset().width}, DType::kF32},
          {{batch, kSceneLabelWords}, DType::kI32}};
}

void render_scenes_cpu(const KernelCall& c) {
  SceneStream& stream = *c.params<StreamRef>();
  const int batch = static_cast<int>(c.attrs().length);
  int64_t* cursor = c.i<int64_t>(0);
  data::SceneBatch& staging = stream.staging();
  data::render_scenes_cpu(stream.preset(), stream.split(), stream.seed(), stream.source(),
                          static_cast<uint64_t>(*cursor), batch, &staging, data::SceneMode::kEndless);
  *cursor += batch;
  const Tensor& images = c.out[0];
  if (images.dtype == DType::kF64) {
    for (int64_t i = 0; i < images.numel(); ++i) images.as<double>()[i] = staging.images[i];
  } else {
    std::memcpy(images.data, staging.images.data(), images.bytes());
  }
  std::memcpy(c.out[1].data, staging.labels.data(), batch * sizeof(SceneLabel));
}

// The renderer's batch must come from the GPU copy of the digits (SceneStream::prepare_cuda).
std::string render_scenes_refuse_cuda(const Graph&, const Node& n) {
  return std::any_cast<const StreamRef&>(n.attrs.params)->device_digits()
             ? ""
             : "the digits are not on the GPU; call SceneStream::prepare_cuda() before building the executor";
}

PlannedNode render_scenes_plan_cuda(const PlanCall& p) {
  return {static_cast<int64_t>(sizeof(uint64_t)) * p.node.attrs.length, nullptr};
}

// ---- localizer_labels: raw scene labels -> [N, 6] [p_c, cx, cy, w, h, class] ----------------
// attrs.shape: the image {height, width}

std::vector<TensorSpec> localizer_labels_shape(const ShapeCall& c) {
  LOCDET_CHECK(c.shape(0).rank == 2 && c.shape(0)[1] == kSceneLabelWords && c.dtype(0) == DType::kI32, c.node,
               ": scene labels must be [N, ", kSceneLabelWords, "] i32, got ", c.shape(0).str());
  return {{{c.shape(0)[0], kLocalizerLabelSize}, DType::kF32}};
}

void localizer_labels_cpu(const KernelCall& c) {
  const int height = static_cast<int>(c.attrs().shape[0]), width = static_cast<int>(c.attrs().shape[1]);
  const auto* labels = c.i<SceneLabel>(0);
  with_real(c, [&](auto t) {
    using T = decltype(t);
    for (int64_t b = 0; b < c.in[0].shape[0]; ++b)
      scene_label_to_localizer(labels[b], height, width, c.o<T>(0) + b * kLocalizerLabelSize);
  });
}

#if defined(LOCDET_WITH_CUDA)
void render_scenes_cuda(const KernelCall& c) {
  const SceneStream& stream = *c.params<StreamRef>();
  const int batch = static_cast<int>(c.attrs().length);
  auto* indices = reinterpret_cast<uint64_t*>(c.workspace);
  cuda::take_scene_indices(c.i<int64_t>(0), batch, indices, stream_of(c));
  const auto* digits = static_cast<const cuda::DeviceDigits*>(stream.device_digits());
  cuda::render_scene_batch(stream.preset().params(), digits->source(),
                           scene_key(stream.seed(), static_cast<int>(stream.split())), 0, indices, batch,
                           c.o<float>(0), c.o<SceneLabel>(1), stream_of(c));
}

void localizer_labels_cuda(const KernelCall& c) {
  cuda::scene_labels_to_localizer(c.i<SceneLabel>(0), static_cast<int>(c.in[0].shape[0]),
                                  static_cast<int>(c.attrs().shape[0]), static_cast<int>(c.attrs().shape[1]),
                                  c.o<float>(0), stream_of(c));
}
#endif

}  // namespace

const OpDef ops::render_scenes =
    OpDef("render_scenes")
        .with_shape(render_scenes_shape)
        .on_cpu({render_scenes_cpu})
        .on_cuda(LOCDET_CUDA_KERNEL(render_scenes_cuda, render_scenes_plan_cuda, render_scenes_refuse_cuda));
const OpDef ops::localizer_labels = OpDef("localizer_labels")
                                        .with_shape(localizer_labels_shape)
                                        .on_cpu({localizer_labels_cpu})
                                        .on_cuda(LOCDET_CUDA_KERNEL(localizer_labels_cuda));

SceneFeed add_scene_feed(Graph& g, std::shared_ptr<SceneStream> stream, int batch) {
  SceneFeed feed;
  feed.cursor = g.state("optim.data_cursor", {1}, Init::kZeros);
  g.info(feed.cursor).role = Role::kOptimizerState;
  g.info(feed.cursor).dtype = DType::kI64;
  Attrs a;
  a.length = batch;
  a.params = std::move(stream);
  const auto out = g.apply(ops::render_scenes, {feed.cursor}, a);
  feed.images = out[0];
  feed.scene_labels = out[1];
  return feed;
}

Value localizer_labels(Graph& g, Value scene_labels, int height, int width) {
  Attrs a;
  a.shape = Shape{height, width};
  return g.apply1(ops::localizer_labels, {scene_labels}, a);
}

}  // namespace locdet::models
