#include "models/localizer/model.h"

#include <algorithm>
#include <cmath>

#include "kernels/base/error.h"
#include "kernels/common/scene.h"
#include "models/cell_ops.h"

namespace locdet::models {

namespace {

// Anchor boxes (pixels, xyxy) centred on each cell: decode_box moves the centre by up to
// `range` and scales the anchor's size.
std::vector<float> cell_anchors(int grid_h, int grid_w, int stride, float anchor_w_px, float anchor_h_px) {
  std::vector<float> anchors;
  anchors.reserve(static_cast<size_t>(grid_h) * grid_w * 4);
  for (int r = 0; r < grid_h; ++r) {
    for (int c = 0; c < grid_w; ++c) {
      const float cx = (c + 0.5f) * stride, cy = (r + 0.5f) * stride;
      anchors.insert(anchors.end(), {cx - anchor_w_px / 2, cy - anchor_h_px / 2, cx + anchor_w_px / 2,
                                     cy + anchor_h_px / 2});
    }
  }
  return anchors;
}
}  // namespace

std::vector<std::string> LocalizerConfig::default_class_names() {
  std::vector<std::string> names;
  for (int d = 0; d < 10; ++d) names.push_back(std::to_string(d));
  return names;
}

nlohmann::json LocalizerConfig::to_json() const {
  return {{"model", backbone.kind},
          {"classes", class_names},
          {"width", backbone.width},
          {"height", height},
          {"image_width", width},
          {"box_loss", box_loss},
          {"presence_weight", presence_weight},
          {"location_weight", location_weight},
          {"class_weight", class_weight},
          {"box_weight", box_weight},
          {"positive_radius", positive_radius},
          {"head_convs", head_convs},
          {"class_head", class_head},
          {"label_smoothing", label_smoothing},
          {"box_bins", box_bins},
          {"dfl_weight", dfl_weight},
          {"anchor_w", anchor_w},
          {"anchor_h", anchor_h}};
}

LocalizerConfig LocalizerConfig::from_json(const nlohmann::json& j) {
  LocalizerConfig c;
  try {
    c.backbone.kind = j.at("model").get<std::string>();
    c.backbone.width = j.at("width").get<int>();
    c.height = j.at("height").get<int>();
    c.width = j.at("image_width").get<int>();
    c.box_loss = j.at("box_loss").get<std::string>();
    c.presence_weight = j.at("presence_weight").get<float>();
    c.location_weight = j.at("location_weight").get<float>();
    c.class_weight = j.at("class_weight").get<float>();
    c.box_weight = j.at("box_weight").get<float>();
    c.positive_radius = j.at("positive_radius").get<int>();
    // Absent in checkpoints from before these options: the head they were trained with.
    c.head_convs = j.value("head_convs", 1);
    c.class_head = j.value("class_head", std::string("cell"));
    c.label_smoothing = j.value("label_smoothing", 0.0f);
    c.box_bins = j.value("box_bins", 0);
    c.dfl_weight = j.value("dfl_weight", c.dfl_weight);
    c.anchor_w = j.at("anchor_w").get<float>();
    c.anchor_h = j.at("anchor_h").get<float>();
    if (j.contains("classes")) c.class_names = j["classes"].get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    fail("localizer config is incomplete or malformed (", e.what(), ")");
  }
  c.validate();
  return c;
}

void LocalizerConfig::validate() const {
  LOCDET_CHECK(height % 4 == 0 && width % 4 == 0 && height >= 8 && width >= 8, "input size ", height, "x",
               width, " must be a multiple of 4 and at least 8x8 (the backbone works at stride 4)");
  LOCDET_CHECK(box_loss == "mse" || box_loss == "iou" || box_loss == "giou" || box_loss == "diou" ||
                   box_loss == "ciou",
               "unknown box loss '", box_loss, "': use mse, iou, giou, diou or ciou");
  LOCDET_CHECK(positive_radius >= 0 && positive_radius <= 3, "positive_radius must be 0..3, got ",
               positive_radius);
  LOCDET_CHECK(head_convs >= 1 && head_convs <= 4, "head_convs must be 1..4, got ", head_convs);
  LOCDET_CHECK(class_head == "cell" || class_head == "global", "unknown class head '", class_head,
               "': use cell or global");
  LOCDET_CHECK(label_smoothing >= 0 && label_smoothing < 1, "label smoothing must be in [0, 1), got ",
               label_smoothing);
  LOCDET_CHECK(anchor_w > 0 && anchor_h > 0 && anchor_w <= 1 && anchor_h <= 1,
               "anchor size must be in (0, 1] of the image, got ", anchor_w, "x", anchor_h);
  LOCDET_CHECK(box_bins == 0 || (box_bins >= 2 && box_bins <= 256),
               "box bins must be 0 (offset boxes) or 2..256, got ", box_bins);
  for (float w : {presence_weight, location_weight, class_weight, box_weight, dfl_weight})
    LOCDET_CHECK(w >= 0 && std::isfinite(w), "loss weights must be finite and >= 0, got ", w);
  LOCDET_CHECK(!class_names.empty() && class_names.size() <= static_cast<size_t>(kMaxClasses),
               "a localizer needs 1..", kMaxClasses, " classes, got ", class_names.size());
}

Localizer build_localizer(Graph& g, const LocalizerConfig& config, Value images, Value labels) {
  config.validate();
  const Shape in = g.shape(images);
  LOCDET_CHECK(in.rank == 4 && in[1] == 1 && in[2] == config.height && in[3] == config.width,
               "localizer expects images [N, 1, ", config.height, ", ", config.width, "], got ", in.str());
  const int64_t batch = in[0];

  Features f = build_backbone(g, images, config.backbone);
  Localizer m;
  m.grid_h = static_cast<int>(g.shape(f.map)[2]);
  m.grid_w = static_cast<int>(g.shape(f.map)[3]);
  const int64_t cells = static_cast<int64_t>(m.grid_h) * m.grid_w;

  // Presence from the whole image.
  Value pooled = g.global_avgpool(f.map);
  Value pw = g.parameter("head.presence.weight", {1, f.channels}, Init::kXavierUniform);
  Value pb = g.parameter("head.presence.bias", {1}, Init::kZeros);
  m.presence_logit = g.linear(pooled, pw, pb);

  // Per-cell head.
  Value h = f.map;
  for (int i = 0; i < config.head_convs; ++i)
    h = conv_bn_relu(g, h, i == 0 ? "head.conv" : "head.conv" + std::to_string(i + 1), f.channels, 3, 1);
  const int classes = config.num_classes();
  const int box_channels = config.box_bins > 0 ? 4 * config.box_bins : 4;
  const int kOut = 1 + classes + box_channels;
  Value ow = g.parameter("head.out.weight", {kOut, f.channels, 1, 1}, Init::kXavierUniform);
  Value ob = g.parameter("head.out.bias", {kOut}, Init::kZeros);
  Value out = to_cells(g, g.conv2d(h, ow, ob, 1, 0));  // [N, cells, 15]
  Value flat = g.reshape(out, {batch * cells, kOut});
  m.location_logits = g.reshape(g.slice(flat, 1, 0, 1), {batch, cells});
  Value class_rows = g.slice(flat, 1, 1, classes);  // [N*cells, C]
  if (config.class_head == "global") {
    Value coarse = conv_bn_relu(g, g.maxpool2d(f.map, 2, 2), "head.global.conv", 2 * f.channels, 3, 1);
    Value gw = g.parameter("head.global.weight", {classes, 2 * f.channels}, Init::kXavierUniform);
    Value gb = g.parameter("head.global.bias", {classes}, Init::kZeros);
    Value image_logits = g.reshape(g.linear(g.global_avgpool(coarse), gw, gb), {batch, 1, classes});
    class_rows = g.reshape(g.add(g.reshape(class_rows, {batch, cells, classes}), image_logits),
                           {batch * cells, classes});
  }
  m.class_logits = g.reshape(class_rows, {batch, cells, classes});
  Value raw = g.slice(flat, 1, 1 + classes, box_channels);

  Value boxes_px, edge_logits, centres, edge_sign;
  if (config.box_bins > 0) {
    // Edge distances (left, top, right, bottom) from the cell centre, in pixels.
    edge_logits = g.reshape(raw, {batch * cells * 4, config.box_bins});
    Value distances = g.reshape(g.bin_expectation(edge_logits), {batch, cells, 4});
    centres = g.constant("head.centres", {cells, 4}, cell_anchors(m.grid_h, m.grid_w, f.stride, 0.0f, 0.0f));
    edge_sign = g.constant("head.edge_sign", {4}, {-1, -1, 1, 1});
    boxes_px = g.add(g.mul(distances, edge_sign), centres);
  } else {
    const float anchor_w_px = config.anchor_w * config.width, anchor_h_px = config.anchor_h * config.height;
    Value anchors = g.constant("head.anchors", {cells, 4},
                               cell_anchors(m.grid_h, m.grid_w, f.stride, anchor_w_px, anchor_h_px));
    const float range = (config.positive_radius + 0.5f) * f.stride;
    boxes_px = decode_boxes(g, g.reshape(raw, {batch, cells, 4}), anchors, range);
  }
  Value to_normalized =
      g.constant("head.box_scale", {4},
                 {1.0f / config.width, 1.0f / config.height, 1.0f / config.width, 1.0f / config.height});
  m.boxes = g.mul(boxes_px, to_normalized);

  g.mark_output(m.presence_logit);
  g.mark_output(m.location_logits);
  g.mark_output(m.class_logits);
  g.mark_output(m.boxes);
  if (!labels) return m;

  LocalizerTargets t = localizer_targets(g, labels, {m.grid_h, m.grid_w, config.positive_radius});
  m.presence_loss = g.mean(g.bce_with_logits(m.presence_logit, t.presence));
  m.location_loss = g.sum(g.mul(g.softmax_cross_entropy(m.location_logits, t.centre_cell), t.image_weight));
  m.class_loss =
      g.sum(g.mul(g.softmax_cross_entropy(class_rows, t.cell_class, config.label_smoothing), t.cell_weight));
  Value box_rows = g.reshape(m.boxes, {batch * cells, 4});
  Value per_cell;
  if (config.box_loss == "mse") {
    per_cell = g.sum_to(g.mse(box_rows, t.target_box), {batch * cells, 1});
    per_cell = g.reshape(per_cell, {batch * cells});
  } else {
    per_cell = iou_loss(g, box_rows, t.target_box, parse_iou_kind(config.box_loss));
  }
  m.box_loss = g.sum(g.mul(per_cell, t.cell_weight));
  m.loss = g.add(g.add(g.scale(m.presence_loss, config.presence_weight),
                       g.scale(m.location_loss, config.location_weight)),
                 g.add(g.scale(m.class_loss, config.class_weight), g.scale(m.box_loss, config.box_weight)));
  if (config.box_bins > 0) {
    // The target box's edge distances from each cell centre, in pixels (= bins).
    const float w = static_cast<float>(config.width), h = static_cast<float>(config.height);
    Value target_px = g.mul(t.target_box, g.constant("head.box_pixels", {4}, {w, h, w, h}));
    Value target_edges = g.mul(g.sub(g.reshape(target_px, {batch, cells, 4}), centres), edge_sign);
    Value per_edge = g.distribution_focal(edge_logits, g.reshape(target_edges, {batch * cells * 4}));
    Value per_cell_dfl = g.sum_to(g.reshape(per_edge, {batch * cells, 4}), {batch * cells, 1}, 0.25f);
    m.dfl_loss = g.sum(g.mul(g.reshape(per_cell_dfl, {batch * cells}), t.cell_weight));
    m.loss = g.add(m.loss, g.scale(m.dfl_loss, config.dfl_weight));
    g.mark_output(m.dfl_loss);
  }
  for (Value v : {m.loss, m.presence_loss, m.location_loss, m.class_loss, m.box_loss}) g.mark_output(v);
  return m;
}

std::vector<LocalizerPrediction> decode_localizer(int batch, int cells, int classes,
                                                  const std::vector<float>& presence_logit,
                                                  const std::vector<float>& location_logits,
                                                  const std::vector<float>& class_logits,
                                                  const std::vector<float>& boxes) {
  std::vector<LocalizerPrediction> out(batch);
  for (int n = 0; n < batch; ++n) {
    LocalizerPrediction& p = out[n];
    p.presence_logit = presence_logit[n];
    p.presence = 1.0f / (1.0f + std::exp(-presence_logit[n]));
    const float* loc = &location_logits[static_cast<size_t>(n) * cells];
    const int cell = static_cast<int>(std::max_element(loc, loc + cells) - loc);
    const float* logits = &class_logits[(static_cast<size_t>(n) * cells + cell) * classes];
    p.digit = static_cast<int>(std::max_element(logits, logits + classes) - logits);
    double total = 0.0;
    for (int k = 0; k < classes; ++k) total += std::exp(static_cast<double>(logits[k] - logits[p.digit]));
    p.confidence = static_cast<float>(1.0 / total);
    std::copy_n(&boxes[(static_cast<size_t>(n) * cells + cell) * 4], 4, p.box);
  }
  return out;
}

}  // namespace locdet::models
