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

void SceneStream::fill_cpu(uint64_t first, int batch, float* images, SceneLabel* labels) {
  data::render_scenes_cpu(preset_, split_, seed_, source_, first, batch, &staging_,
                          data::SceneMode::kEndless);
  std::memcpy(images, staging_.images.data(), staging_.images.size() * sizeof(float));
  std::memcpy(labels, staging_.labels.data(), batch * sizeof(SceneLabel));
}

std::string SceneStream::cuda_refusal() const {
  return device_digits_
             ? ""
             : "the digits are not on the GPU; call SceneStream::prepare_cuda() before building the "
               "executor";
}

void SceneStream::fill_cuda(const uint64_t* indices, int batch, float* images, SceneLabel* labels,
                            void* stream) const {
#if defined(LOCDET_WITH_CUDA)
  const auto* digits = static_cast<const cuda::DeviceDigits*>(device_digits_);
  cuda::render_scene_batch(preset_.params(split_), digits->source(),
                           scene_key(seed_, static_cast<int>(split_)), 0, indices, batch, images, labels,
                           static_cast<cudaStream_t>(stream));
#else
  (void)indices, (void)batch, (void)images, (void)labels, (void)stream;
  fail("this build has no CUDA backend");
#endif
}

namespace {

// ---- sample_feed: the batch of a SampleSource's stream at the cursor -----------------------
// input: cursor [1] i64 (advanced by the op); params: shared_ptr<SampleSource>
// outputs: images [N, 1, H, W], raw scene labels [N, kSceneLabelWords] i32
// workspace (CUDA): this step's sample indices, [N] u64

using SourceRef = std::shared_ptr<SampleSource>;

std::vector<TensorSpec> sample_feed_shape(const ShapeCall& c) {
  LOCDET_CHECK(c.shape(0) == Shape({1}) && c.dtype(0) == DType::kI64, c.node, ": the cursor must be [1] i64");
  const auto& source = std::any_cast<const SourceRef&>(c.attrs.params);
  const int64_t batch = c.attrs.length;
  LOCDET_CHECK(batch >= 1, "batch size must be >= 1, got ", batch);
  return {{{batch, 1, source->height(), source->width()}, DType::kF32},
          {{batch, kSceneLabelWords}, DType::kI32}};
}

void sample_feed_cpu(const KernelCall& c) {
  SampleSource& source = *c.params<SourceRef>();
  const int batch = static_cast<int>(c.attrs().length);
  int64_t* cursor = c.i<int64_t>(0);
  const Tensor& images = c.out[0];
  float* target = images.dtype == DType::kF64 ? nullptr : images.as<float>();
  if (!target) {
    source.f64_staging().resize(static_cast<size_t>(images.numel()));
    target = source.f64_staging().data();
  }
  source.fill_cpu(static_cast<uint64_t>(*cursor), batch, target, c.o<SceneLabel>(1));
  *cursor += batch;
  if (images.dtype == DType::kF64)
    for (int64_t i = 0; i < images.numel(); ++i) images.as<double>()[i] = target[i];
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
// The source's batch must come from its GPU copy (SceneStream / DatasetStream::prepare_cuda).
std::string sample_feed_refuse_cuda(const Graph&, const Node& n) {
  return std::any_cast<const SourceRef&>(n.attrs.params)->cuda_refusal();
}

PlannedNode sample_feed_plan_cuda(const PlanCall& p) {
  return {static_cast<int64_t>(sizeof(uint64_t)) * p.node.attrs.length, nullptr, ""};
}

void sample_feed_cuda(const KernelCall& c) {
  const SampleSource& source = *c.params<SourceRef>();
  const int batch = static_cast<int>(c.attrs().length);
  auto* indices = reinterpret_cast<uint64_t*>(c.workspace);
  cuda::take_scene_indices(c.i<int64_t>(0), batch, indices, stream_of(c));
  source.fill_cuda(indices, batch, c.o<float>(0), c.o<SceneLabel>(1), c.stream);
}

void localizer_labels_cuda(const KernelCall& c) {
  cuda::scene_labels_to_localizer(c.i<SceneLabel>(0), static_cast<int>(c.in[0].shape[0]),
                                  static_cast<int>(c.attrs().shape[0]), static_cast<int>(c.attrs().shape[1]),
                                  c.o<float>(0), stream_of(c));
}
#endif

}  // namespace

const OpDef ops::sample_feed =
    OpDef("sample_feed")
        .with_shape(sample_feed_shape)
        .on_cpu({sample_feed_cpu})
        .on_cuda(LOCDET_CUDA_KERNEL(sample_feed_cuda, sample_feed_plan_cuda, sample_feed_refuse_cuda));
const OpDef ops::localizer_labels = OpDef("localizer_labels")
                                        .with_shape(localizer_labels_shape)
                                        .on_cpu({localizer_labels_cpu})
                                        .on_cuda(LOCDET_CUDA_KERNEL(localizer_labels_cuda));

SceneFeed add_sample_feed(Graph& g, std::shared_ptr<SampleSource> source, int batch) {
  SceneFeed feed;
  feed.cursor = g.state("optim.data_cursor", {1}, Init::kZeros);
  g.info(feed.cursor).role = Role::kOptimizerState;
  g.info(feed.cursor).dtype = DType::kI64;
  Attrs a;
  a.length = batch;
  a.params = std::move(source);
  const auto out = g.apply(ops::sample_feed, {feed.cursor}, a);
  feed.images = out[0];
  feed.scene_labels = out[1];
  return feed;
}

SceneFeed add_scene_feed(Graph& g, std::shared_ptr<SceneStream> stream, int batch) {
  return add_sample_feed(g, std::move(stream), batch);
}

Value localizer_labels(Graph& g, Value scene_labels, int height, int width) {
  Attrs a;
  a.shape = Shape{height, width};
  return g.apply1(ops::localizer_labels, {scene_labels}, a);
}

}  // namespace locdet::models
