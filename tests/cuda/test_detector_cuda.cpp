// The detector on the GPU against the CPU reference.
//   - targets kernels (labels -> GT, per-anchor targets and weights): bit-identical, since both
//     call the same kernels/common/detector_targets.h functions on exact values;
//   - the whole detection_targets op (labels -> GT -> match -> count -> weights) inside an
//     executor: integer outputs identical, weights identical;
//   - inference graph + batched NMS on the same weights: boxes and scores within 1e-4 + 1e-4|ref|
//     (cuDNN vs im2col+sgemm convolutions differ by float rounding, ~1e-6 relative, through a
//     few layers and an exp), detection counts and classes identical on these inputs;
//   - a few training steps: losses within 1e-3 relative (rounding differences grow through
//     AdamW updates), CUDA Graph replay equal to eager launches.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "engine/executor.h"
#include "kernels/cpu/detector_targets.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/detector_targets.h"
#include "models/detector/model.h"
#include "models/detector/predictor.h"
#include "models/detector/report.h"
#include "models/detector/run.h"
#include "models/detector/trainer.h"
#include "models/digits/mnist.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/test_scene_helpers.h"

namespace locdet {
namespace {

using test::to_device;
using test::to_host;

std::vector<SceneLabel> random_labels(int batch, int height, int width, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<SceneLabel> labels(batch);
  for (SceneLabel& l : labels) {
    std::memset(&l, 0, sizeof(l));
    l.count = static_cast<int>(rng() % 5);  // 0..4 digits
    for (int k = 0; k < l.count; ++k) {
      l.cls[k] = static_cast<int>(rng() % 10);
      const float w = 5 + 15 * u(rng), h = 8 + 18 * u(rng);
      const float x = (width - w) * u(rng), y = (height - h) * u(rng);
      l.box[k][0] = std::floor(x);
      l.box[k][1] = std::floor(y);
      l.box[k][2] = std::floor(x + w);
      l.box[k][3] = std::floor(y + h);
    }
  }
  return labels;
}

TEST(DetectorTargetsCuda, KernelsIdenticalToCpu) {
  LOCDET_REQUIRE_GPU();
  const int batch = 64, anchors = 540, classes = 2;
  const auto labels = random_labels(batch, 48, 60, 3);
  DetectorClassMap map;
  for (int v = 0; v < kMaxClasses; ++v)
    map.index_of_label[v] = v < 2 ? v : -1;  // inf265-det: the rest is dropped
  std::vector<float> boxes(batch * kDetectorMaxGt * 4);
  std::vector<int32_t> gt_cls(batch * kDetectorMaxGt), count(batch);
  cpu::scene_labels_to_gt<float>(batch, labels.data(), map, boxes.data(), gt_cls.data(), count.data());
  SceneLabel* d_labels = to_device(labels);
  float* d_boxes = to_device(std::vector<float>(boxes.size(), -1.0f));
  int32_t* d_cls = to_device(std::vector<int32_t>(gt_cls.size(), 7));
  int32_t* d_count = to_device(std::vector<int32_t>(batch, 9));
  cuda::scene_labels_to_gt(batch, d_labels, map, d_boxes, d_cls, d_count, 0);
  CUDA_CHECK(cudaDeviceSynchronize());
  EXPECT_EQ(to_host(d_boxes, boxes.size()), boxes);
  EXPECT_EQ(to_host(d_cls, gt_cls.size()), gt_cls);
  EXPECT_EQ(to_host(d_count, batch), count);

  std::mt19937 rng(4);
  std::vector<int32_t> target_class(batch * anchors);
  for (auto& t : target_class) t = static_cast<int32_t>(rng() % (classes + 2)) - 2;  // -2..classes-1
  std::vector<float> num_pos(batch);
  for (auto& p : num_pos) p = static_cast<float>(rng() % 12);
  std::vector<float> onehot(batch * anchors * classes), cls_w(batch * anchors), box_w(batch * anchors);
  cpu::detector_anchor_targets<float>(batch, anchors, classes, target_class.data(), num_pos.data(),
                                      onehot.data(), cls_w.data(), box_w.data());
  int32_t* d_target = to_device(target_class);
  float* d_pos = to_device(num_pos);
  float* d_onehot = to_device(std::vector<float>(onehot.size(), -1.0f));
  float* d_cls_w = to_device(std::vector<float>(cls_w.size(), -1.0f));
  float* d_box_w = to_device(std::vector<float>(box_w.size(), -1.0f));
  cuda::detector_anchor_targets(batch, anchors, classes, d_target, d_pos, d_onehot, d_cls_w, d_box_w, 0);
  CUDA_CHECK(cudaDeviceSynchronize());
  EXPECT_EQ(to_host(d_onehot, onehot.size()), onehot);
  EXPECT_EQ(to_host(d_cls_w, cls_w.size()), cls_w);
  EXPECT_EQ(to_host(d_box_w, box_w.size()), box_w);
  for (void* p : {static_cast<void*>(d_labels), static_cast<void*>(d_boxes), static_cast<void*>(d_cls),
                  static_cast<void*>(d_count), static_cast<void*>(d_target), static_cast<void*>(d_pos),
                  static_cast<void*>(d_onehot), static_cast<void*>(d_cls_w), static_cast<void*>(d_box_w)})
    CUDA_CHECK(cudaFree(p));
}

TEST(DetectorCuda, TargetsOpIdenticalToCpu) {
  LOCDET_REQUIRE_GPU();
  const int batch = 32;
  models::DetectorConfig config;
  std::vector<int32_t> words(batch * models::kSceneLabelWords);
  const auto labels = random_labels(batch, 48, 60, 9);
  std::memcpy(words.data(), labels.data(), labels.size() * sizeof(SceneLabel));
  std::vector<std::vector<int32_t>> ints[2];
  std::vector<std::vector<float>> floats[2];
  for (int d = 0; d < 2; ++d) {
    Graph g(false);
    Value in = g.input("labels", {batch, models::kSceneLabelWords}, DType::kI32);
    Value images = g.input("image", {batch, 1, 48, 60});
    models::Detector m = models::build_detector(g, config, images, Value{});
    models::DetectionTargets t = models::detection_targets(g, in, m.anchors, config);
    for (Value v :
         {t.assigned, t.target_class, t.target_boxes, t.num_pos, t.cls_target, t.cls_weight, t.box_weight})
      g.mark_output(v);
    ExecutorOptions opt;
    opt.device = d ? Device::kCuda : Device::kCpu;
    Executor ex(std::move(g), opt);
    ex.write_i32(in, words);
    ex.write(images, std::vector<float>(batch * 48 * 60, 0.5f));
    ex.step();
    ints[d] = {ex.read_i32(t.assigned), ex.read_i32(t.target_class)};
    floats[d] = {ex.read(t.target_boxes), ex.read(t.num_pos), ex.read(t.cls_target), ex.read(t.cls_weight),
                 ex.read(t.box_weight)};
  }
  EXPECT_EQ(ints[0], ints[1]);
  EXPECT_EQ(floats[0], floats[1]);
}

models::DetectorRun small_run() {
  models::DetectorRun run;
  run.preset = data::find_preset("det10");
  run.model.backbone.width = 8;
  run.batch = 16;
  run.epochs = 1;
  run.steps_per_epoch = 4;
  run.warmup_steps = 2;
  return run;
}

TEST(DetectorCuda, TrainingStepsMatchCpuAndGraphReplayEqualsEager) {
  LOCDET_REQUIRE_GPU();
  const data::DigitBank* bank = test::mnist_bank();
  if (!bank) GTEST_SKIP() << "no MNIST";
  const models::DetectorRun run = small_run();
  models::DetectorTrainer cpu(run, *bank, Device::kCpu);
  models::DetectorTrainer eager(run, *bank, Device::kCuda, /*cuda_graph=*/false);
  models::DetectorTrainer graph(run, *bank, Device::kCuda, /*cuda_graph=*/true);
  for (int s = 0; s < 4; ++s) {
    cpu.step();
    eager.step();
    graph.step();
    const double ref = cpu.read_losses()["loss"], got = eager.read_losses()["loss"];
    EXPECT_NEAR(got, ref, 1e-3 * std::fabs(ref)) << "step " << s;
    EXPECT_EQ(graph.read_losses().dump(), eager.read_losses().dump()) << "step " << s;
    EXPECT_EQ(cpu.executor().read_i32(cpu.model().assigned),
              eager.executor().read_i32(eager.model().assigned))
        << "anchor assignments, step " << s;
  }
}

TEST(DetectorCuda, InferenceWithNmsMatchesCpu) {
  LOCDET_REQUIRE_GPU();
  const data::DigitBank* bank = test::mnist_bank();
  if (!bank) GTEST_SKIP() << "no MNIST";
  const models::DetectorRun run = small_run();
  models::DetectorTrainer trainer(run, *bank, Device::kCpu);
  for (int s = 0; s < 4; ++s) trainer.step();
  const int batch = 16;
  data::SceneSource source(*bank, run.preset, data::Split::kVal);
  data::SceneBatch scenes;
  data::render_scenes_cpu(run.preset, data::Split::kVal, 0, source, 0, batch, &scenes);
  models::DetectorConfig config = run.model;
  config.nms.score_threshold = 0.02f;
  std::vector<std::vector<models::Detection>> out[2];
  for (int d = 0; d < 2; ++d) {
    models::DetectorPredictor predictor(config, batch, d ? Device::kCuda : Device::kCpu);
    predictor.copy_weights_from(trainer.executor());
    out[d] = predictor.predict(scenes.images.data(), batch);
  }
  for (int b = 0; b < batch; ++b) {
    ASSERT_EQ(out[0][b].size(), out[1][b].size()) << "image " << b;
    for (size_t i = 0; i < out[0][b].size(); ++i) {
      const auto &r = out[0][b][i], &g = out[1][b][i];
      EXPECT_EQ(r.cls, g.cls) << b << "/" << i;
      EXPECT_NEAR(g.score, r.score, 1e-4 + 1e-4 * std::fabs(r.score));
      for (int k = 0; k < 4; ++k) EXPECT_NEAR(g.box[k], r.box[k], 1e-4 + 1e-4 * std::fabs(r.box[k]));
    }
  }
}

}  // namespace
}  // namespace locdet
