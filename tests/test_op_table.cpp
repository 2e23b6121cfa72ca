// The op table, walked (the shape of ggml's test-backend-ops): every op of engine_ops() and
// model_ops() appears in at least one case below; each case runs on every backend this build
// can run (the CPU; CUDA on a GPU or in the CUDA emulation) against the CPU reference at the
// case's tolerance, integer outputs identical; and for every differentiable op the gradients
// from autodiff match central finite differences (the CPU in double).
//
// A case builds a small graph around an op from seeded inputs. Its outputs and, where the op
// is differentiable, the gradients of a fixed random projection of them are compared, so a
// case also runs the op's backward ops on every backend. An op that no case reaches fails the
// Coverage test by name: adding an op without a case breaks the build's tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/autodiff.h"
#include "engine/executor.h"
#include "engine/nonfinite.h"
#include "engine/op.h"
#include "engine/ops/ops.h"
#include "engine/optim.h"
#include "kernels/base/device.h"
#include "models/cell_ops.h"
#include "models/dataset_feed.h"
#include "models/detector/model.h"
#include "models/model_ops.h"
#include "models/scene_feed.h"
#include "models/training_data.h"
#include "tests/graph_grad_check.h"
#include "tests/test_scene_helpers.h"

namespace locdet {
namespace {

// ---- building a case ------------------------------------------------------------------------

struct HostValues {
  std::vector<std::pair<Value, std::vector<float>>> floats;  // inputs and parameters
  std::vector<std::pair<Value, std::vector<int32_t>>> ints;
};

class CaseBuilder {
 public:
  CaseBuilder(Graph& g, unsigned seed) : g_(g), rng_(seed) {}
  Graph& g() { return g_; }

  // A differentiable input: a parameter (so autodiff and the gradient check reach it).
  Value param(Shape shape, float lo = -1.0f, float hi = 1.0f) {
    Value v = g_.parameter("p" + std::to_string(count_++), shape, Init::kZeros);
    values_.floats.push_back({v, uniform(shape.numel(), lo, hi)});
    return v;
  }
  // Data: a float input without gradient (targets, labels, boxes).
  Value data(Shape shape, float lo = -1.0f, float hi = 1.0f) {
    return data_values(shape, uniform(shape.numel(), lo, hi));
  }
  Value data_values(Shape shape, std::vector<float> values) {
    Value v = g_.input("x" + std::to_string(count_++), shape);
    values_.floats.push_back({v, std::move(values)});
    return v;
  }
  Value ints(Shape shape, std::vector<int32_t> values) {
    Value v = g_.input("i" + std::to_string(count_++), shape, DType::kI32);
    values_.ints.push_back({v, std::move(values)});
    return v;
  }
  std::vector<float> uniform(int64_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = d(rng_);
    return v;
  }
  // Boxes xyxy with x0 < x1, y0 < y1 inside [0, extent).
  std::vector<float> boxes(int64_t n, float extent) {
    std::uniform_real_distribution<float> corner(0.0f, extent * 0.7f), size(extent * 0.08f, extent * 0.3f);
    std::vector<float> v;
    for (int64_t i = 0; i < n; ++i) {
      const float x0 = corner(rng_), y0 = corner(rng_);
      v.insert(v.end(), {x0, y0, x0 + size(rng_), y0 + size(rng_)});
    }
    return v;
  }
  const HostValues& values() const { return values_; }
  std::mt19937& rng() { return rng_; }

 private:
  Graph& g_;
  std::mt19937 rng_;
  HostValues values_;
  int count_ = 0;
};

struct OpCase {
  std::string name;
  // Adds the graph; returns the tensors to compare (the ops' outputs).
  std::function<std::vector<Value>(CaseBuilder&)> build;
  // Device against the CPU reference: |got - ref| <= tol + rel * |ref| (float outputs).
  double tol = 1e-5, rel = 1e-4;
  bool training = true;   // false: an inference graph (batch norm with running statistics)
  bool gradients = true;  // differentiable: compare gradients across backends and check them
  double grad_h = 1e-6;   // finite-difference step (double)
  // Per-device set-up before the executor is built (e.g. uploading digits to the GPU).
  std::function<void(Device)> prepare;
};

// ---- the cases ----------------------------------------------------------------------------------

std::vector<OpCase> cases() {
  std::vector<OpCase> c;
  auto add = [&](std::string name, std::function<std::vector<Value>(CaseBuilder&)> build) -> OpCase& {
    OpCase oc;
    oc.name = std::move(name);
    oc.build = std::move(build);
    c.push_back(std::move(oc));
    return c.back();
  };

  // Tensor ops.
  add("fill, copy, scale", [](CaseBuilder& b) {
    Value x = b.param({3, 5});
    return std::vector<Value>{b.g().fill({2, 3}, 0.25f), b.g().scale(b.g().copy(x), -1.5f)};
  });
  add("add, sub, mul with broadcasting", [](CaseBuilder& b) {
    Value a = b.param({2, 3, 4}), r = b.param({3, 1}), s = b.param({4});
    Graph& g = b.g();
    return std::vector<Value>{g.add(a, r), g.sub(a, s), g.mul(g.mul(a, r), s)};
  });
  add("sum_to, broadcast_to, sum, mean", [](CaseBuilder& b) {
    Value x = b.param({4, 3, 5}), y = b.param({3, 1});
    Graph& g = b.g();
    return std::vector<Value>{g.sum_to(x, {3, 1}, 0.5f), g.broadcast_to(y, {2, 3, 7}, 2.0f), g.sum(x),
                              g.mean(y)};
  });
  add("sigmoid", [](CaseBuilder& b) {
    return std::vector<Value>{b.g().sigmoid(b.param({5, 7}, -4.0f, 4.0f))};
  });
  add("concat, slice, reshape", [](CaseBuilder& b) {
    Value x = b.param({2, 3, 4}), y = b.param({2, 5, 4});
    Graph& g = b.g();
    Value cat = g.concat({x, y}, 1);
    return std::vector<Value>{g.reshape(g.slice(cat, 1, 2, 4), {8, 4}), g.slice(y, 2, 1, 2)};
  });

  // Layers.
  add("conv2d 3x3 pad 1, with bias", [](CaseBuilder& b) {
    return std::vector<Value>{b.g().conv2d(b.param({2, 3, 7, 9}), b.param({4, 3, 3, 3}), b.param({4}), 1, 1)};
  });
  add("conv2d 1x1 stride 2, no bias", [](CaseBuilder& b) {
    return std::vector<Value>{b.g().conv2d(b.param({1, 5, 8, 6}), b.param({3, 5, 1, 1}), {}, 2, 0)};
  });
  add("batch norm (training: batch statistics, running statistics updated)", [](CaseBuilder& b) {
    Graph& g = b.g();
    Value y = g.batchnorm(b.param({4, 3, 5, 6}, -2.0f, 3.0f), "bn");
    return std::vector<Value>{y, g.find("bn.running_mean"), g.find("bn.running_var")};
  });
  OpCase& bn_eval = add("batch norm (inference: running statistics)", [](CaseBuilder& b) {
    return std::vector<Value>{b.g().batchnorm(b.data({2, 4, 3, 3}), "bn")};
  });
  bn_eval.training = false;
  bn_eval.gradients = false;
  add("relu, leaky relu, silu", [](CaseBuilder& b) {
    Graph& g = b.g();
    // relu and leaky relu have a kink at 0: their inputs stay at least 0.05 away from it.
    auto away_from_zero = [&](int64_t n) {
      std::vector<float> v = b.uniform(n, 0.05f, 2.0f);
      for (size_t i = 0; i < v.size(); i += 2) v[i] = -v[i];
      return v;
    };
    Value x = g.add(b.param({5, 8}, -0.01f, 0.01f), b.data_values({5, 8}, away_from_zero(40)));
    Value y = g.add(b.param({3, 4}, -0.01f, 0.01f), b.data_values({3, 4}, away_from_zero(12)));
    return std::vector<Value>{g.relu(x), g.leaky_relu(y, 0.1f), g.silu(b.param({3, 4}))};
  });
  add("max pooling 2x2 stride 2, global average pooling", [](CaseBuilder& b) {
    Graph& g = b.g();
    // Distinct values: no ties for the argmax to break arbitrarily.
    std::vector<float> v(2 * 3 * 6 * 8);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37) % v.size()) / v.size();
    Value x = g.add(b.param({2, 3, 6, 8}, -0.001f, 0.001f), b.data_values({2, 3, 6, 8}, v));
    return std::vector<Value>{g.maxpool2d(x, 2, 2), g.global_avgpool(x)};
  });
  add("linear, with and without bias, from a 4-d input", [](CaseBuilder& b) {
    Graph& g = b.g();
    return std::vector<Value>{g.linear(b.param({3, 2, 2, 2}), b.param({5, 8}), b.param({5})),
                              g.linear(b.param({4, 6}), b.param({2, 6}), {})};
  });

  // Losses.
  add("softmax cross entropy (label smoothing 0.1)", [](CaseBuilder& b) {
    return std::vector<Value>{
        b.g().softmax_cross_entropy(b.param({6, 5}, -3.0f, 3.0f), b.ints({6}, {0, 4, 2, 2, 1, 3}), 0.1f)};
  });
  add("bin expectation, distribution focal loss (targets inside, on, and outside the bins; rows weighted 0)",
      [](CaseBuilder& b) {
        Graph& g = b.g();
        // 40 rows of 7 bins (fewer bins than a warp has lanes), 5 rows of 40 (more: a lane holds two).
        std::vector<float> t = b.uniform(40, 0.0f, 6.0f);
        t[0] = 0.0f, t[1] = 6.0f, t[2] = 3.0f, t[3] = -2.5f, t[4] = 9.0f;
        // Rows weighted 0, as the localizer weighs all but its positive cells: their gradient is
        // skipped, and must still be 0.
        std::vector<float> weight(40, 1.0f);
        for (size_t i = 5; i < weight.size(); i += 3) weight[i] = 0.0f;
        Value narrow = b.param({40, 7}, -3.0f, 3.0f), wide = b.param({5, 40}, -3.0f, 3.0f);
        Value w = b.data_values({40}, weight);
        return std::vector<Value>{g.mul(g.bin_expectation(narrow), w),
                                  g.mul(g.distribution_focal(narrow, b.data_values({40}, t)), w),
                                  g.bin_expectation(wide),
                                  g.distribution_focal(wide, b.data({5}, 0.0f, 39.0f))};
      });
  add("bce with logits, sigmoid focal", [](CaseBuilder& b) {
    Graph& g = b.g();
    Value t = b.data({4, 6}, 0.0f, 1.0f);
    return std::vector<Value>{g.bce_with_logits(b.param({4, 6}, -3.0f, 3.0f), t),
                              g.sigmoid_focal(b.param({4, 6}, -3.0f, 3.0f), t, 0.25f, 2.0f)};
  });
  add("mse, l1, smooth l1", [](CaseBuilder& b) {
    Graph& g = b.g();
    // l1 and smooth l1 have kinks where pred == target and, for smooth l1, where
    // |pred - target| == beta: the differences stay in [0.05, 0.4] or beyond 1.25.
    std::vector<float> d = b.uniform(20, 0.05f, 0.4f);
    for (size_t i = 0; i < d.size(); i += 3) d[i] = -(d[i] + 1.2f);
    Value target = b.data({4, 5});
    Value pred = g.add(g.add(target, b.data_values({4, 5}, d)), b.param({4, 5}, -0.01f, 0.01f));
    return std::vector<Value>{g.mse(pred, target), g.l1(pred, target), g.smooth_l1(pred, target, 1.0f)};
  });

  // The optimizer section: one step of AdamW (with a weight average), one of SGD with Nesterov momentum.
  for (const auto kind : {OptimizerConfig::Kind::kAdamW, OptimizerConfig::Kind::kSgd}) {
    OpCase& opt =
        add(kind == OptimizerConfig::Kind::kAdamW ? "lr schedule + AdamW step" : "lr schedule + SGD step",
            [kind](CaseBuilder& b) {
              Graph& g = b.g();
              Value w = b.param({3, 4}), bias = b.param({4});
              Value loss = g.sum(g.mul(g.add(w, bias), b.data({3, 4})));
              OptimizerConfig cfg;
              cfg.kind = kind;
              cfg.nesterov = true;
              cfg.sgd_weight_decay = 0.01f;
              cfg.schedule.kind = LrSchedule::kWarmupCosine;
              cfg.schedule.base_lr = 0.1f;
              cfg.schedule.warmup_steps = 2;
              cfg.schedule.total_steps = 10;
              if (kind == OptimizerConfig::Kind::kAdamW) cfg.ema_decay = 0.99f;  // and the weight average
              OptimizerState s = add_optimizer(g, build_backward(g, loss), cfg);
              std::vector<Value> out{w, bias, s.lr};
              if (s.ema) out.push_back(s.ema);
              return out;
            });
    opt.gradients = false;  // the optimizer consumes the gradients itself
  }
  OpCase& health = add("non-finite flag", [](CaseBuilder& b) {
    std::vector<float> v = b.uniform(12, -1.0f, 1.0f);
    v[5] = std::nanf("");
    Value bad = b.data_values({12}, v);
    return std::vector<Value>{add_nonfinite_flag(b.g(), {b.data({3}), bad})};
  });
  health.gradients = false;

  // The models' ops.
  add("to_cells", [](CaseBuilder& b) {
    return std::vector<Value>{models::to_cells(b.g(), b.param({2, 3, 4, 5}))};
  });
  add("decode_boxes", [](CaseBuilder& b) {
    Value anchors = b.data_values({6, 4}, b.boxes(6, 20.0f));
    return std::vector<Value>{models::decode_boxes(b.g(), b.param({2, 6, 4}, -1.0f, 1.0f), anchors, 4.0f)};
  });
  for (const IouKind kind : {IouKind::kIou, IouKind::kGiou, IouKind::kDiou, IouKind::kCiou}) {
    OpCase& iou =
        add(std::string("iou_loss ") + std::to_string(static_cast<int>(kind)), [kind](CaseBuilder& b) {
          Graph& g = b.g();
          Value target = b.data_values({8, 4}, b.boxes(8, 1.0f));
          // Predictions near the targets, with edges a little off (no exact ties: kinks).
          Value pred = g.add(target, b.param({8, 4}, -0.04f, 0.04f));
          return std::vector<Value>{models::iou_loss(g, pred, target, kind)};
        });
    // CIoU's gradient holds alpha constant, as the paper does (kernels/common/box.h): it is
    // not the exact derivative; compared across backends, not against finite differences.
    if (kind == IouKind::kCiou) iou.grad_h = 0;
  }
  OpCase& lt = add("localizer_targets", [](CaseBuilder& b) {
    const std::vector<float> labels = {1, 0.45f, 0.5f, 0.3f, 0.5f, 3,    0,    0,    0,
                                       0, 0,     0,    1,    0.8f, 0.2f, 0.2f, 0.3f, 9};
    const auto t = models::localizer_targets(b.g(), b.data_values({3, 6}, labels), LocalizerGrid{4, 5, 1});
    return std::vector<Value>{t.centre_cell, t.presence,    t.image_weight,
                              t.cell_class,  t.cell_weight, t.target_box};
  });
  lt.gradients = false;
  OpCase& nms = add("batched_nms (class-aware, top-k, max detections)", [](CaseBuilder& b) {
    NmsParams p;
    p.score_threshold = 0.2f;
    p.iou_threshold = 0.5f;
    p.pre_nms_topk = 40;
    p.max_det = 12;
    // Overlapping clusters, distinct scores (no ties to order).
    Value boxes = b.data_values({3, 30, 4}, b.boxes(90, 16.0f));
    std::vector<float> scores(3 * 30 * 2);
    for (size_t i = 0; i < scores.size(); ++i) scores[i] = static_cast<float>((i * 53) % 181) / 181.0f;
    const auto out = models::batched_nms(b.g(), boxes, b.data_values({3, 30, 2}, scores), p);
    return std::vector<Value>{out.boxes, out.scores, out.classes, out.count};
  });
  nms.gradients = false;

  // The data node from its two sources: rendered scenes, with the targets built from their
  // labels; and a dataset's stored images, gathered and augmented.
  static const data::DigitBank bank = test::synthetic_bank();
  static auto stream =
      std::make_shared<models::SceneStream>(bank, data::find_preset("det10"), data::Split::kTrain, 3);
  OpCase& feed = add("sample_feed (scenes) + localizer_labels + detection_targets", [](CaseBuilder& b) {
    Graph& g = b.g();
    const models::SceneFeed f = models::add_scene_feed(g, stream, 3);
    models::DetectorConfig config;
    config.height = stream->preset().height;
    config.width = stream->preset().width;
    std::vector<float> anchors;
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 7; ++x)
        anchors.insert(anchors.end(), {x * 8.5f, y * 8.0f, x * 8.5f + 12, y * 8.0f + 14});
    const auto t = models::detection_targets(g, f.scene_labels, b.data_values({42, 4}, anchors), config);
    return std::vector<Value>{
        f.images,    f.scene_labels, models::localizer_labels(g, f.scene_labels, 48, 60),
        t.assigned,  t.target_class, t.target_boxes,
        t.num_pos,   t.cls_target,   t.cls_weight,
        t.box_weight};
  });
  feed.gradients = false;
  feed.prepare = [](Device d) {
    if (d == Device::kCuda) stream->prepare_cuda();
  };
  static auto images = [] {
    // 5 random 20x24 images with 0..3 boxes each, augmented with every transform on.
    Dataset dataset;
    dataset.height = 20;
    dataset.width = 24;
    dataset.class_names = {"a", "b", "c"};
    std::mt19937 rng(5);
    for (int i = 0; i < 5; ++i) {
      DatasetImage image;
      image.file = "image" + std::to_string(i) + ".png";
      image.first_box = static_cast<int64_t>(dataset.boxes.size());
      image.box_count = i % 4;
      for (int k = 0; k < image.box_count; ++k) {
        const float x0 = static_cast<float>(rng() % 14), y0 = static_cast<float>(rng() % 10);
        dataset.boxes.push_back(
            {static_cast<int32_t>(rng() % 3), {x0, y0, x0 + 3 + rng() % 7, y0 + 3 + rng() % 7}});
      }
      dataset.images.push_back(image);
    }
    for (int p = 0; p < 5 * 20 * 24; ++p) dataset.pixels.push_back(static_cast<uint8_t>(rng() % 256));
    const AugmentParams augment =
        models::parse_augment("scale=0.7:1.4,translate=0.2,contrast=0.3,brightness=0.2,noise=0.1", 20, 24);
    return std::make_shared<models::DatasetStream>(dataset, std::vector<int64_t>{0, 1, 2, 3, 4}, augment, 11);
  }();
  OpCase& dataset_feed = add("sample_feed (a dataset, augmented) + localizer_labels", [](CaseBuilder& b) {
    // 7 samples of 5 images: the second epoch's shuffle starts within the batch.
    const models::SceneFeed f = models::add_dataset_feed(b.g(), images, 7);
    return std::vector<Value>{f.images, f.scene_labels,
                              models::localizer_labels(b.g(), f.scene_labels, 20, 24)};
  });
  dataset_feed.gradients = false;
  dataset_feed.prepare = [](Device d) {
    if (d == Device::kCuda) images->prepare_cuda();
  };
  return c;
}

// ---- running a case ------------------------------------------------------------------------------

struct Built {
  Graph graph;
  std::vector<Value> compare;  // outputs, then gradients
  HostValues values;
  std::set<std::string> ops;
};

// The case's graph; with `gradients`, plus d(sum(outputs * r)) / d(every parameter).
Built build(const OpCase& c, bool gradients, Value* loss_out = nullptr) {
  Built b{Graph(c.training), {}, {}, {}};
  CaseBuilder builder(b.graph, 1234);
  b.compare = c.build(builder);
  if (gradients) {
    Graph& g = b.graph;
    Value loss;
    std::mt19937 rng(99);
    for (Value out : std::vector<Value>(b.compare)) {
      const TensorInfo& info = g.info(out);
      if (info.dtype != DType::kF32 || info.role == Role::kParameter || info.role == Role::kState) continue;
      std::vector<float> r(static_cast<size_t>(info.numel()));
      std::uniform_real_distribution<float> d(-1.0f, 1.0f);
      for (float& x : r) x = d(rng);
      Value term = g.sum(g.mul(out, g.constant("r" + std::to_string(out.id), info.shape, r)));
      loss = loss ? g.add(loss, term) : term;
    }
    if (loss_out) *loss_out = loss;
    Gradients grads = build_backward(g, loss);
    for (Value p : g.parameters())
      if (grads[p]) b.compare.push_back(grads[p]);
  }
  for (Value v : b.compare) b.graph.mark_output(v);
  b.values = builder.values();
  for (const Node& n : b.graph.nodes()) b.ops.insert(n.op->name);
  return b;
}

struct Outputs {
  std::vector<std::vector<float>> floats;
  std::vector<std::vector<int32_t>> ints;
};

Outputs run(const OpCase& c, Built b, Device device) {
  if (c.prepare) c.prepare(device);
  ExecutorOptions options;
  options.device = device;
  options.cuda_graph = false;
  std::vector<Value> compare = b.compare;
  HostValues values = b.values;
  Executor ex(std::move(b.graph), options);
  for (const auto& [v, x] : values.floats) ex.write(v, x);
  for (const auto& [v, x] : values.ints) ex.write_i32(v, x);
  ex.step();
  Outputs out;
  for (Value v : compare) {
    if (ex.graph().info(v).dtype == DType::kI32) {
      out.ints.push_back(ex.read_i32(v));
      out.floats.emplace_back();
    } else {
      out.floats.push_back(ex.read(v));
      out.ints.emplace_back();
    }
  }
  return out;
}

std::vector<Device> other_backends() {
  std::vector<Device> d;
  if (cuda_available()) d.push_back(Device::kCuda);
  return d;
}

class OpTable : public ::testing::TestWithParam<size_t> {};

// Every backend against the CPU reference, forward and (where differentiable) backward.
TEST_P(OpTable, EveryBackendMatchesTheCpuReference) {
  const OpCase c = cases()[GetParam()];
  SCOPED_TRACE(c.name);
  const auto backends = other_backends();
  if (backends.empty()) GTEST_SKIP() << "no other backend in this build: " << cuda_device_summary();
  for (const bool gradients : {false, true}) {
    if (gradients && !c.gradients) continue;
    const Outputs ref = run(c, build(c, gradients), Device::kCpu);
    for (const Device d : backends) {
      const Outputs got = run(c, build(c, gradients), d);
      ASSERT_EQ(ref.floats.size(), got.floats.size());
      for (size_t k = 0; k < ref.floats.size(); ++k) {
        EXPECT_EQ(ref.ints[k], got.ints[k]) << device_name(d) << ": integer output " << k << " differs";
        ASSERT_EQ(ref.floats[k].size(), got.floats[k].size());
        for (size_t i = 0; i < ref.floats[k].size(); ++i) {
          const double r = ref.floats[k][i], x = got.floats[k][i];
          if (std::isnan(r) && std::isnan(x)) continue;
          ASSERT_LE(std::fabs(r - x), c.tol + c.rel * std::fabs(r))
              << device_name(d) << (gradients ? " (with gradients)" : "") << ": output " << k << "[" << i
              << "] ref " << r << " got " << x;
        }
      }
    }
  }
}

// Autodiff against central finite differences in double, for the differentiable cases.
TEST_P(OpTable, GradientsMatchFiniteDifferences) {
  const OpCase c = cases()[GetParam()];
  SCOPED_TRACE(c.name);
  if (!c.gradients || c.grad_h == 0) GTEST_SKIP() << "not differentiable (or not an exact derivative)";
  Graph g(c.training);
  CaseBuilder builder(g, 1234);
  std::vector<Value> outs = c.build(builder);
  Value loss;
  std::mt19937 rng(99);
  for (Value out : outs) {
    const TensorInfo& info = g.info(out);
    if (info.dtype != DType::kF32 || info.role == Role::kParameter || info.role == Role::kState) continue;
    std::vector<float> r(static_cast<size_t>(info.numel()));
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    for (float& x : r) x = d(rng);
    Value term = g.sum(g.mul(out, g.constant("r" + std::to_string(out.id), info.shape, r)));
    loss = loss ? g.add(loss, term) : term;
  }
  // The parameters take their case values: check_gradients writes inputs, so pass them as such.
  const HostValues& v = builder.values();
  check_gradients(std::move(g), loss, v.floats, v.ints, 8, c.grad_h);
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  std::string s = cases()[info.param].name, out;
  for (char ch : s) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return std::to_string(info.param) + "_" + out.substr(0, 60);
}

INSTANTIATE_TEST_SUITE_P(Cases, OpTable, ::testing::Range<size_t>(0, cases().size()), case_name);

// Every op in the table is reached by some case (forward or through its backward rule).
TEST(OpTableCoverage, EveryOpHasACase) {
  std::set<std::string> reached;
  for (const OpCase& c : cases()) {
    const Built b = build(c, c.gradients);
    reached.insert(b.ops.begin(), b.ops.end());
  }
  std::vector<const OpDef*> table = engine_ops();
  table.insert(table.end(), models::model_ops().begin(), models::model_ops().end());
  std::set<std::string> names;
  std::string missing;
  for (const OpDef* op : table) {
    EXPECT_TRUE(names.insert(op->name).second) << "two ops are named " << op->name;
    if (!reached.count(op->name)) missing += std::string(missing.empty() ? "" : ", ") + op->name;
  }
  EXPECT_EQ(missing, "") << "ops without a case in tests/test_op_table.cpp";
}

}  // namespace
}  // namespace locdet
