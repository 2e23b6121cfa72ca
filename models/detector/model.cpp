#include "models/detector/model.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "kernels/base/error.h"
#include "kernels/cpu/anchor_match.h"
#include "models/cell_ops.h"

namespace locdet::models {

// ---- config ---------------------------------------------------------------------------------

DetectorClassMap DetectorConfig::class_map() const {
  DetectorClassMap map;
  for (int v = 0; v < kMaxClasses; ++v) map.index_of_label[v] = -1;
  for (int c = 0; c < num_classes(); ++c) map.index_of_label[classes[c]] = c;
  return map;
}

std::vector<std::string> DetectorConfig::names() const {
  if (!class_names.empty()) return class_names;
  std::vector<std::string> out;
  for (int value : classes) out.push_back(std::to_string(value));
  return out;
}

std::vector<std::string> DetectorConfig::label_names() const {
  const std::vector<std::string> by_class = names();
  std::vector<std::string> out;
  for (int c = 0; c < num_classes(); ++c) {
    if (classes[c] >= static_cast<int>(out.size())) out.resize(classes[c] + 1);
    out[classes[c]] = by_class[c];
  }
  return out;
}

nlohmann::json DetectorConfig::to_json() const {
  nlohmann::json sizes = nlohmann::json::array();
  for (const auto& [w, h] : anchor_sizes) sizes.push_back({w, h});
  return {{"model", backbone.kind},
          {"width", backbone.width},
          {"height", height},
          {"image_width", width},
          {"classes", classes},
          {"class_names", names()},
          {"anchor_sizes", sizes},
          {"head_convs", head_convs},
          {"class_loss", class_loss},
          {"box_loss", box_loss},
          {"focal_alpha", focal_alpha},
          {"focal_gamma", focal_gamma},
          {"class_weight", class_weight},
          {"box_weight", box_weight},
          {"pos_iou", pos_iou},
          {"neg_iou", neg_iou},
          {"center_range", center_range},
          {"prior", prior},
          {"nms",
           {{"score_threshold", nms.score_threshold},
            {"iou_threshold", nms.iou_threshold},
            {"pre_nms_topk", nms.pre_nms_topk},
            {"max_det", nms.max_det}}}};
}

DetectorConfig DetectorConfig::from_json(const nlohmann::json& j) {
  DetectorConfig c;
  try {
    c.backbone.kind = j.at("model").get<std::string>();
    c.backbone.width = j.at("width").get<int>();
    c.height = j.at("height").get<int>();
    c.width = j.at("image_width").get<int>();
    c.classes = j.at("classes").get<std::vector<int>>();
    if (j.contains("class_names")) c.class_names = j["class_names"].get<std::vector<std::string>>();
    c.anchor_sizes.clear();
    for (const auto& s : j.at("anchor_sizes"))
      c.anchor_sizes.emplace_back(s.at(0).get<float>(), s.at(1).get<float>());
    c.head_convs = j.at("head_convs").get<int>();
    c.class_loss = j.at("class_loss").get<std::string>();
    c.box_loss = j.at("box_loss").get<std::string>();
    c.focal_alpha = j.at("focal_alpha").get<float>();
    c.focal_gamma = j.at("focal_gamma").get<float>();
    c.class_weight = j.at("class_weight").get<float>();
    c.box_weight = j.at("box_weight").get<float>();
    c.pos_iou = j.at("pos_iou").get<float>();
    c.neg_iou = j.at("neg_iou").get<float>();
    c.center_range = j.at("center_range").get<float>();
    c.prior = j.at("prior").get<float>();
    const auto& n = j.at("nms");
    c.nms.score_threshold = n.at("score_threshold").get<float>();
    c.nms.iou_threshold = n.at("iou_threshold").get<float>();
    c.nms.pre_nms_topk = n.at("pre_nms_topk").get<int>();
    c.nms.max_det = n.at("max_det").get<int>();
  } catch (const nlohmann::json::exception& e) {
    fail("detector config is incomplete or malformed (", e.what(), ")");
  }
  c.validate();
  return c;
}

void DetectorConfig::validate() const {
  LOCDET_CHECK(height % 4 == 0 && width % 4 == 0 && height >= 8 && width >= 8, "input size ", height, "x",
               width, " must be a multiple of 4 and at least 8x8 (the backbone works at stride 4)");
  LOCDET_CHECK(!classes.empty() && classes.size() <= static_cast<size_t>(kMaxClasses), "a detector needs 1..",
               kMaxClasses, " classes, got ", classes.size());
  LOCDET_CHECK(class_names.empty() || class_names.size() == classes.size(), "the detector has ",
               classes.size(), " classes but ", class_names.size(), " class names");
  for (size_t i = 0; i < classes.size(); ++i) {
    LOCDET_CHECK(classes[i] >= 0 && classes[i] < kMaxClasses, "class label values must be 0..",
                 kMaxClasses - 1, ", got ", classes[i]);
    for (size_t k = 0; k < i; ++k)
      LOCDET_CHECK(classes[k] != classes[i], "class ", classes[i], " is listed twice");
  }
  LOCDET_CHECK(!anchor_sizes.empty() && anchor_sizes.size() <= 16,
               "a detector needs 1..16 anchor sizes, got ", anchor_sizes.size());
  for (const auto& [w, h] : anchor_sizes)
    LOCDET_CHECK(w > 0 && h > 0 && std::isfinite(w) && std::isfinite(h),
                 "anchor sizes must be positive, got ", w, "x", h);
  LOCDET_CHECK(head_convs >= 0 && head_convs <= 4, "head_convs must be 0..4, got ", head_convs);
  LOCDET_CHECK(class_loss == "focal" || class_loss == "bce", "unknown class loss '", class_loss,
               "': use focal or bce");
  parse_iou_kind(box_loss);
  LOCDET_CHECK(neg_iou > 0 && neg_iou <= pos_iou && pos_iou <= 1,
               "need 0 < neg_iou <= pos_iou <= 1, got neg ", neg_iou, " pos ", pos_iou);
  LOCDET_CHECK(center_range > 0 && center_range <= 8, "center_range must be in (0, 8] strides, got ",
               center_range);
  LOCDET_CHECK(prior > 0 && prior < 1, "prior must be in (0, 1), got ", prior);
  LOCDET_CHECK(focal_gamma >= 0 && std::isfinite(focal_alpha), "focal_gamma must be >= 0");
  for (float w : {class_weight, box_weight})
    LOCDET_CHECK(w >= 0 && std::isfinite(w), "loss weights must be finite and >= 0, got ", w);
  LOCDET_CHECK(nms.iou_threshold > 0 && nms.iou_threshold <= 1, "NMS IoU threshold must be in (0, 1]");
  LOCDET_CHECK(nms.max_det >= 1 && nms.pre_nms_topk >= nms.max_det, "need 1 <= max_det <= pre_nms_topk, got ",
               nms.max_det, " and ", nms.pre_nms_topk);
}

// ---- ops -------------------------------------------------------------------------------------

namespace {

std::vector<float> make_anchors(int grid_h, int grid_w, int stride, const DetectorConfig& config) {
  std::vector<float> sizes;
  for (const auto& [w, h] : config.anchor_sizes) sizes.insert(sizes.end(), {w, h});
  const int k = config.anchors_per_cell();
  std::vector<float> anchors(static_cast<size_t>(grid_h) * grid_w * k * 4);
  cpu::generate_anchors<float>(grid_h, grid_w, k, static_cast<float>(stride), sizes.data(), anchors.data());
  return anchors;
}

}  // namespace

// ---- model -----------------------------------------------------------------------------------

Detector build_detector(Graph& g, const DetectorConfig& config, Value images, Value scene_labels) {
  config.validate();
  const Shape in = g.shape(images);
  LOCDET_CHECK(in.rank == 4 && in[1] == 1 && in[2] == config.height && in[3] == config.width,
               "detector expects images [N, 1, ", config.height, ", ", config.width, "], got ", in.str());
  const int64_t batch = in[0];
  const int classes = config.num_classes(), k = config.anchors_per_cell();

  Features f = build_backbone(g, images, config.backbone);
  Detector m;
  m.stride = f.stride;
  m.grid_h = static_cast<int>(g.shape(f.map)[2]);
  m.grid_w = static_cast<int>(g.shape(f.map)[3]);
  m.num_anchors = static_cast<int64_t>(m.grid_h) * m.grid_w * k;
  const int64_t a = m.num_anchors;

  Value h = f.map;
  for (int i = 0; i < config.head_convs; ++i)
    h = conv_bn_relu(g, h, "head.conv" + std::to_string(i), f.channels, 3, 1);
  const int per_anchor = classes + 4;
  Value ow = g.parameter("head.out.weight", {k * per_anchor, f.channels, 1, 1}, Init::kXavierUniform);
  Value ob = g.parameter("head.out.bias", {k * per_anchor}, Init::kZeros);
  Value rows = g.reshape(to_cells(g, g.conv2d(h, ow, ob, 1, 0)), {batch * a, per_anchor});
  // The prior as a fixed offset (equivalent to RetinaNet's bias init, with a zero-init bias).
  const float prior_logit = -std::log((1.0f - config.prior) / config.prior);
  Value class_rows =
      g.add(g.slice(rows, 1, 0, classes),
            g.constant("head.class_prior", {classes}, std::vector<float>(classes, prior_logit)));
  m.class_logits = g.reshape(class_rows, {batch, a, classes});
  Value raw = g.reshape(g.slice(rows, 1, classes, 4), {batch, a, 4});

  m.anchors = g.constant("head.anchors", {a, 4}, make_anchors(m.grid_h, m.grid_w, m.stride, config));
  m.boxes = decode_boxes(g, raw, m.anchors, config.center_range * m.stride);
  m.scores = g.sigmoid(m.class_logits);
  g.mark_output(m.class_logits);
  g.mark_output(m.scores);
  g.mark_output(m.boxes);
  if (!scene_labels) return m;

  LOCDET_CHECK(g.shape(scene_labels)[0] == batch, "detector: ", g.shape(scene_labels)[0], " labels for ",
               batch, " images");
  DetectionTargets t = detection_targets(g, scene_labels, m.anchors, config);
  Value per_element = config.class_loss == "focal"
                          ? g.sigmoid_focal(class_rows, t.cls_target, config.focal_alpha, config.focal_gamma)
                          : g.bce_with_logits(class_rows, t.cls_target);
  m.class_loss = g.sum(g.mul(per_element, g.reshape(t.cls_weight, {batch * a, 1})));
  Value per_box =
      iou_loss(g, g.reshape(m.boxes, {batch * a, 4}), t.target_boxes, parse_iou_kind(config.box_loss));
  m.box_loss = g.sum(g.mul(per_box, t.box_weight));
  m.loss = g.add(g.scale(m.class_loss, config.class_weight), g.scale(m.box_loss, config.box_weight));
  m.num_pos = t.num_pos;
  m.assigned = t.assigned;
  m.target_class = t.target_class;
  for (Value v : {m.loss, m.class_loss, m.box_loss, m.num_pos, m.assigned, m.target_class}) g.mark_output(v);
  return m;
}

std::vector<std::vector<Detection>> unpack_detections(const DetectorConfig& config, int batch, int max_det,
                                                      const std::vector<float>& boxes,
                                                      const std::vector<float>& scores,
                                                      const std::vector<int32_t>& classes,
                                                      const std::vector<int32_t>& count) {
  std::vector<std::vector<Detection>> out(batch);
  for (int b = 0; b < batch; ++b) {
    const int n = std::clamp(count[b], 0, max_det);
    for (int i = 0; i < n; ++i) {
      const size_t j = static_cast<size_t>(b) * max_det + i;
      Detection d;
      d.cls = classes[j];
      if (d.cls < 0 || d.cls >= config.num_classes()) continue;
      d.digit = config.classes[d.cls];
      d.score = scores[j];
      std::copy_n(&boxes[4 * j], 4, d.box);
      out[b].push_back(d);
    }
  }
  return out;
}

}  // namespace locdet::models
