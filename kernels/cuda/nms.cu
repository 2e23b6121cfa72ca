#include "kernels/common/box.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/nms.h"
#include "kernels/cuda/sort.h"

namespace locdet::cuda {
namespace {

constexpr int kBlockBoxes = 64;

struct Layout {
  int64_t nc = 0, k = 0, col_blocks = 0;
  size_t keys_in = 0, keys_out = 0, offsets = 0, cand_boxes = 0, cand_cls = 0, cand_score = 0, cand_n = 0,
         mask = 0, sort_temp = 0, sort_bytes = 0, total = 0;
};

size_t align_up(size_t x) {
  return (x + 255) & ~size_t{255};
}

Layout make_layout(int64_t batch, int64_t num_boxes, int num_classes, const NmsParams& p) {
  Layout l;
  l.nc = num_boxes * num_classes;
  l.k = std::min<int64_t>(l.nc, std::max(p.pre_nms_topk, 0));
  l.col_blocks = (l.k + kBlockBoxes - 1) / kBlockBoxes;
  size_t off = 0;
  auto take = [&](size_t bytes) {
    size_t at = off;
    off = align_up(off + bytes);
    return at;
  };
  l.keys_in = take(sizeof(uint64_t) * batch * l.nc);
  l.keys_out = take(sizeof(uint64_t) * batch * l.nc);
  l.offsets = take(sizeof(int) * (batch + 1));
  l.cand_boxes = take(sizeof(float) * 4 * batch * l.k);
  l.cand_cls = take(sizeof(int32_t) * batch * l.k);
  l.cand_score = take(sizeof(float) * batch * l.k);
  l.cand_n = take(sizeof(int32_t) * batch);
  l.mask = take(sizeof(uint64_t) * batch * l.k * l.col_blocks);
  const size_t sort_bytes =
      batch > 0 && l.nc > 0
          ? segmented_sort_descending_bytes(static_cast<int>(batch * l.nc), static_cast<int>(batch))
          : 0;
  l.sort_temp = take(sort_bytes);
  l.sort_bytes = sort_bytes;
  l.total = off;
  return l;
}

__device__ uint32_t ordered_bits(float s) {
  uint32_t u = __float_as_uint(s);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__global__ void make_keys_kernel(int64_t batch, int64_t nc, const float* scores, float threshold,
                                 uint64_t* keys, int* offsets) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i <= batch) offsets[i] = static_cast<int>(i * nc);
  if (i >= batch * nc) return;
  const float s = scores[i];
  const uint32_t j = static_cast<uint32_t>(i % nc);
  keys[i] = s > threshold ? (static_cast<uint64_t>(ordered_bits(s)) << 32) | (0xFFFFFFFFu - j) : 0ull;
}

__global__ void gather_kernel(int64_t batch, int64_t nc, int64_t k, int num_classes, const uint64_t* keys,
                              const float* boxes, const float* scores, int64_t num_boxes, float* cand_boxes,
                              int32_t* cand_cls, float* cand_score, int32_t* cand_n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= batch * k) return;
  const int64_t b = i / k, r = i % k;
  const uint64_t key = keys[b * nc + r];
  if (key == 0) {
    if (r == 0) cand_n[b] = 0;
    return;
  }
  if (r + 1 == k || keys[b * nc + r + 1] == 0) cand_n[b] = static_cast<int32_t>(r + 1);
  const int64_t j = 0xFFFFFFFFu - static_cast<uint32_t>(key & 0xFFFFFFFFull);
  const int64_t n = j / num_classes;
  for (int c = 0; c < 4; ++c) cand_boxes[4 * i + c] = boxes[4 * (b * num_boxes + n) + c];
  cand_cls[i] = static_cast<int32_t>(j % num_classes);
  cand_score[i] = scores[b * nc + j];
}

__global__ void mask_kernel(int64_t k, int64_t col_blocks, float iou_threshold, const float* cand_boxes,
                            const int32_t* cand_cls, const int32_t* cand_n, uint64_t* mask) {
  const int64_t b = blockIdx.z, row_block = blockIdx.y, col_block = blockIdx.x;
  if (col_block < row_block) return;  // only later candidates can be suppressed
  const int64_t n = cand_n[b];
  const int64_t row = row_block * kBlockBoxes + threadIdx.x;
  const int64_t col_start = col_block * kBlockBoxes;
  __shared__ float s_box[kBlockBoxes * 4];
  __shared__ int32_t s_cls[kBlockBoxes];
  const int64_t col = col_start + threadIdx.x;
  if (col < n) {
    for (int c = 0; c < 4; ++c) s_box[4 * threadIdx.x + c] = cand_boxes[4 * (b * k + col) + c];
    s_cls[threadIdx.x] = cand_cls[b * k + col];
  }
  __syncthreads();
  if (row >= n) return;
  const float* box = cand_boxes + 4 * (b * k + row);
  const int32_t cls = cand_cls[b * k + row];
  uint64_t bits = 0;
  const int64_t cols = min(static_cast<int64_t>(kBlockBoxes), n - col_start);
  for (int64_t c = 0; c < cols; ++c) {
    if (col_start + c <= row || s_cls[c] != cls) continue;
    if (box_iou(box, s_box + 4 * c) > iou_threshold) bits |= 1ull << c;
  }
  mask[(b * k + row) * col_blocks + col_block] = bits;
}

// One warp per image: sequential over candidates, lanes share the OR of mask rows.
__global__ void reduce_kernel(int64_t k, int64_t col_blocks, int max_det, const float* cand_boxes,
                              const int32_t* cand_cls, const float* cand_score, const int32_t* cand_n,
                              const uint64_t* mask, float* out_boxes, float* out_scores, int32_t* out_classes,
                              int32_t* out_count) {
  LOCDET_DYNAMIC_SHARED(uint64_t, removed);
  const int64_t b = blockIdx.x;
  const int lane = threadIdx.x;
  const int64_t n = cand_n[b];
  for (int64_t w = lane; w < col_blocks; w += 32) removed[w] = 0;
  __syncwarp();
  int kept = 0;
  for (int64_t i = 0; i < n && kept < max_det; ++i) {
    const bool suppressed = removed[i / kBlockBoxes] & (1ull << (i % kBlockBoxes));
    __syncwarp();  // every lane has read word i / 64 before lane 0 ORs row i into it below
    if (suppressed) continue;
    if (lane == 0) {
      const int64_t slot = b * max_det + kept;
      for (int c = 0; c < 4; ++c) out_boxes[4 * slot + c] = cand_boxes[4 * (b * k + i) + c];
      out_scores[slot] = cand_score[b * k + i];
      out_classes[slot] = cand_cls[b * k + i];
    }
    ++kept;
    const uint64_t* row = mask + (b * k + i) * col_blocks;
    for (int64_t w = i / kBlockBoxes + lane; w < col_blocks; w += 32) removed[w] |= row[w];
    __syncwarp();
  }
  for (int64_t s = kept + lane; s < max_det; s += 32) {
    const int64_t slot = b * max_det + s;
    for (int c = 0; c < 4; ++c) out_boxes[4 * slot + c] = 0.0f;
    out_scores[slot] = 0.0f;
    out_classes[slot] = -1;
  }
  if (lane == 0) out_count[b] = kept;
}

}  // namespace

size_t nms_workspace_bytes(int64_t batch, int64_t num_boxes, int num_classes, const NmsParams& params) {
  return make_layout(batch, num_boxes, num_classes, params).total;
}

void batched_nms(int64_t batch, int64_t num_boxes, int num_classes, const float* boxes, const float* scores,
                 const NmsParams& params, float* out_boxes, float* out_scores, int32_t* out_classes,
                 int32_t* out_count, void* workspace, size_t workspace_bytes, cudaStream_t stream) {
  LOCDET_CHECK(params.max_det >= 0 && params.pre_nms_topk >= 0, "NMS: max_det and pre_nms_topk must be >= 0");
  LOCDET_CHECK(params.pre_nms_topk <= 65536, "NMS: pre_nms_topk ", params.pre_nms_topk,
               " is above the CUDA limit 65536 (the removed-bitmask lives in shared memory); lower it");
  LOCDET_CHECK(batch * num_boxes * num_classes < (int64_t{1} << 31),
               "NMS: batch * boxes * classes = ", batch * num_boxes * num_classes,
               " exceeds 2^31; split the batch");
  LOCDET_CHECK(batch <= 65535, "NMS: batch ", batch, " exceeds 65535 images per call; split the batch");
  if (batch <= 0) return;
  const Layout l = make_layout(batch, num_boxes, num_classes, params);
  LOCDET_CHECK(workspace_bytes >= l.total, "NMS: workspace of ", workspace_bytes, " bytes is too small; ",
               "nms_workspace_bytes() asks for ", l.total);
  char* ws = static_cast<char*>(workspace);
  auto* keys_in = reinterpret_cast<uint64_t*>(ws + l.keys_in);
  auto* keys_out = reinterpret_cast<uint64_t*>(ws + l.keys_out);
  auto* offsets = reinterpret_cast<int*>(ws + l.offsets);
  auto* cand_boxes = reinterpret_cast<float*>(ws + l.cand_boxes);
  auto* cand_cls = reinterpret_cast<int32_t*>(ws + l.cand_cls);
  auto* cand_score = reinterpret_cast<float*>(ws + l.cand_score);
  auto* cand_n = reinterpret_cast<int32_t*>(ws + l.cand_n);
  auto* mask = reinterpret_cast<uint64_t*>(ws + l.mask);
  if (l.k == 0) {
    CUDA_CHECK(cudaMemsetAsync(cand_n, 0, sizeof(int32_t) * batch, stream));
  } else {
    LOCDET_LAUNCH(make_keys_kernel, blocks_for(std::max(batch * l.nc, batch + 1)), kThreadsPerBlock, 0,
                  stream, batch, l.nc, scores, params.score_threshold, keys_in, offsets);
    CUDA_CHECK_LAUNCH();
    segmented_sort_descending(ws + l.sort_temp, l.sort_bytes, keys_in, keys_out,
                              static_cast<int>(batch * l.nc), static_cast<int>(batch), offsets, offsets + 1,
                              stream);
    LOCDET_LAUNCH(gather_kernel, blocks_for(batch * l.k), kThreadsPerBlock, 0, stream, batch, l.nc, l.k,
                  num_classes, keys_out, boxes, scores, num_boxes, cand_boxes, cand_cls, cand_score, cand_n);
    CUDA_CHECK_LAUNCH();
    dim3 grid(static_cast<unsigned>(l.col_blocks), static_cast<unsigned>(l.col_blocks),
              static_cast<unsigned>(batch));
    LOCDET_LAUNCH(mask_kernel, grid, kBlockBoxes, 0, stream, l.k, l.col_blocks, params.iou_threshold,
                  cand_boxes, cand_cls, cand_n, mask);
    CUDA_CHECK_LAUNCH();
  }
  LOCDET_LAUNCH(reduce_kernel, static_cast<unsigned>(batch), 32,
                sizeof(uint64_t) * std::max<int64_t>(l.col_blocks, 1), stream, l.k, l.col_blocks,
                params.max_det, cand_boxes, cand_cls, cand_score, cand_n, mask, out_boxes, out_scores,
                out_classes, out_count);
  CUDA_CHECK_LAUNCH();
}

}  // namespace locdet::cuda
