// Training targets of the spatial localizer head (models/localizer), per feature-map cell.
//
// The head predicts, at every cell of an H x W feature map, a "centre here" logit, class
// logits and a box. For an image whose label says a digit is present:
//   - the centre cell is the cell containing the box centre (the location softmax target);
//   - positive cells are the cells within `radius` cells (Chebyshev) of the centre cell whose
//     centres lie inside the ground-truth box, and always the centre cell itself. They learn
//     the class and the box, so a location argmax that lands one cell off still reads a good
//     box and class.
// Loss weights are normalized on the device, with no host sync: every present image has
// weight 1 / (present images in the batch), split evenly over its positive cells.
//
// Label layout (the first seed's): [p_c, cx, cy, w, h, class], box normalized to [0, 1].
// Every cell is computed independently from the labels (O(batch) reads per cell to count
// present images), so the CPU loop and the CUDA kernel give bit-identical results.
#pragma once

#include <cstdint>

#include "kernels/common/hostdevice.h"
#include "kernels/common/scene.h"

namespace locdet {

constexpr int kLocalizerLabelSize = 6;

struct LocalizerGrid {
  int height = 0, width = 0;  // feature map cells
  int radius = 1;             // positive neighbourhood, in cells
};

template <typename T>
LOCDET_HD bool label_present(const T* label) {
  return label[0] > T(0.5);
}

LOCDET_HD int clamp_cell(int v, int n) {
  return v < 0 ? 0 : (v >= n ? n - 1 : v);
}

// Centre cell (row, col) of a present label.
template <typename T>
LOCDET_HD void localizer_centre_cell(const T* label, const LocalizerGrid& g, int* row, int* col) {
  *col = clamp_cell(static_cast<int>(label[1] * g.width), g.width);
  *row = clamp_cell(static_cast<int>(label[2] * g.height), g.height);
}

template <typename T>
LOCDET_HD bool localizer_cell_positive(const T* label, const LocalizerGrid& g, int row, int col) {
  if (!label_present(label)) return false;
  int crow, ccol;
  localizer_centre_cell(label, g, &crow, &ccol);
  if (row == crow && col == ccol) return true;
  const int dr = row > crow ? row - crow : crow - row;
  const int dc = col > ccol ? col - ccol : ccol - col;
  if (dr > g.radius || dc > g.radius) return false;
  const T x = (col + T(0.5)) / g.width, y = (row + T(0.5)) / g.height;
  return x > label[1] - T(0.5) * label[3] && x < label[1] + T(0.5) * label[3] &&
         y > label[2] - T(0.5) * label[4] && y < label[2] + T(0.5) * label[4];
}

template <typename T>
LOCDET_HD int localizer_positive_count(const T* label, const LocalizerGrid& g) {
  if (!label_present(label)) return 0;
  int crow, ccol, count = 0;
  localizer_centre_cell(label, g, &crow, &ccol);
  for (int r = crow - g.radius; r <= crow + g.radius; ++r)
    for (int c = ccol - g.radius; c <= ccol + g.radius; ++c)
      if (r >= 0 && r < g.height && c >= 0 && c < g.width && localizer_cell_positive(label, g, r, c)) ++count;
  return count;
}

template <typename T>
LOCDET_HD int count_present(const T* labels, int batch) {
  int present = 0;
  for (int n = 0; n < batch; ++n) present += label_present(labels + n * kLocalizerLabelSize) ? 1 : 0;
  return present;
}

// Outputs for one cell (image n, cell index = row * width + col):
//   cell_class: the digit class at positive cells, -1 (ignored by cross entropy) elsewhere;
//   cell_weight: the loss weight of a positive cell, 0 elsewhere;
//   target_box: the ground-truth box as xyxy (a unit box for absent digits, weight 0).
template <typename T>
LOCDET_HD void localizer_cell_targets(const T* labels, int batch, const LocalizerGrid& g, int n, int cell,
                                      int32_t* cell_class, T* cell_weight, T* target_box) {
  const T* label = labels + n * kLocalizerLabelSize;
  const int row = cell / g.width, col = cell % g.width;
  const bool positive = localizer_cell_positive(label, g, row, col);
  const int present = count_present(labels, batch);
  *cell_class = positive ? static_cast<int32_t>(label[5]) : -1;
  *cell_weight = positive ? T(1) / (static_cast<T>(present) * localizer_positive_count(label, g)) : T(0);
  if (label_present(label)) {
    target_box[0] = label[1] - T(0.5) * label[3];
    target_box[1] = label[2] - T(0.5) * label[4];
    target_box[2] = label[1] + T(0.5) * label[3];
    target_box[3] = label[2] + T(0.5) * label[4];
  } else {
    target_box[0] = target_box[1] = T(0);
    target_box[2] = target_box[3] = T(1);
  }
}

// Outputs for one image: centre cell index (-1 when absent; cross entropy ignores it),
// presence target (0 or 1) and image weight (1 / present images, 0 when absent).
template <typename T>
LOCDET_HD void localizer_image_targets(const T* labels, int batch, const LocalizerGrid& g, int n,
                                       int32_t* centre_cell, T* presence, T* image_weight) {
  const T* label = labels + n * kLocalizerLabelSize;
  if (!label_present(label)) {
    *centre_cell = -1;
    *presence = T(0);
    *image_weight = T(0);
    return;
  }
  int row, col;
  localizer_centre_cell(label, g, &row, &col);
  *centre_cell = row * g.width + col;
  *presence = T(1);
  *image_weight = T(1) / static_cast<T>(count_present(labels, batch));
}

}  // namespace locdet
