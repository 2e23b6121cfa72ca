// Anchor generation, anchor <-> ground-truth matching and positive counts (CPU reference).
//
// match_anchors, per image b (G = max_gt slots, the first gt_count[b] valid):
//   1. IoU (box_iou from kernels/common/box.h, exact on both backends) of every anchor with
//      every valid GT; an anchor's best GT is the argmax (lowest GT index on ties).
//      best IoU >= pos_iou -> positive (assigned = that GT), < neg_iou -> -1 (negative),
//      otherwise -2 (ignore).
//   2. Each valid GT's best anchor (argmax over anchors, lowest anchor index on ties) is forced
//      positive when that IoU is > 0. If several GTs force the same anchor, the GT with the
//      highest IoU with it wins (lowest GT index on ties); that GT replaces step 1's choice.
// Outputs (all overwritten): assigned [B,A] int32; targets [B,A,4] the assigned GT box (xyxy),
// zeros when assigned < 0; target_class [B,A] the GT class, or -1 (negative) / -2 (ignore).
// Workspace: match_anchors_workspace_elems(batch, max_gt) int32 (each GT's best anchor), so
// the CUDA twin can resolve forced positives without atomics: deterministic and race free.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace locdet::cpu {

// anchors [grid_h * grid_w * num_sizes, 4] xyxy; sizes [num_sizes, 2] (w, h). See anchors.h.
template <typename T>
void generate_anchors(int grid_h, int grid_w, int num_sizes, T stride, const T* sizes, T* anchors);

inline int64_t match_anchors_workspace_elems(int64_t batch, int64_t max_gt) {
  return batch * max_gt;
}

template <typename T>
void match_anchors(int64_t batch, int64_t num_anchors, const T* anchors, int64_t max_gt, const T* gt_boxes,
                   const int32_t* gt_classes, const int32_t* gt_count, T pos_iou, T neg_iou,
                   int32_t* assigned, T* targets, int32_t* target_class, int32_t* workspace);

// num_pos[b] = number of anchors with assigned >= 0 in image b (for loss normalization; the
// graph clamps it to >= 1 where it divides).
template <typename T>
void count_positives(int64_t batch, int64_t num_anchors, const int32_t* assigned, T* num_pos);

// k-means over (w, h) with distance 1 - IoU of centre-aligned boxes; deterministic: the boxes
// are sorted by area and the initial centres are the k area quantiles (index (2i+1)n/(2k)); an
// empty cluster keeps its centre. Returns k (w, h) sizes sorted by area. Needs n >= k >= 1.
std::vector<std::pair<double, double>> choose_anchor_sizes(const std::vector<std::pair<double, double>>& wh,
                                                           int k, int max_iterations = 100);

// Mean over boxes of the best centre-aligned IoU with any size: how well sizes cover the boxes.
double mean_best_anchor_iou(const std::vector<std::pair<double, double>>& wh,
                            const std::vector<std::pair<double, double>>& sizes);

}  // namespace locdet::cpu
