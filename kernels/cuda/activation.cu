#include "kernels/common/activation.h"
#include "kernels/cuda/activation.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch.cuh"

namespace locdet::cuda {
namespace {

// Grid-stride free: one thread per element (n < 2^31 * 256 for every tensor here). No
// __restrict__: the planner runs these ops in place (y == x, dx == dy).
template <class Op>
__global__ void unary_kernel(int64_t n, const float* x, float* y, Op op) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = op(x[i]);
}
template <class Op>
__global__ void binary_kernel(int64_t n, const float* x, const float* dy, float* dx, Op op) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) dx[i] = op(x[i], dy[i]);
}

struct ReluF {
  __device__ float operator()(float x) const { return relu_fwd(x); }
};
struct ReluB {
  __device__ float operator()(float x, float g) const { return relu_bwd(x, g); }
};
struct LeakyF {
  float slope;
  __device__ float operator()(float x) const { return leaky_relu_fwd(x, slope); }
};
struct LeakyB {
  float slope;
  __device__ float operator()(float x, float g) const { return leaky_relu_bwd(x, g, slope); }
};
struct SiluF {
  __device__ float operator()(float x) const { return silu_fwd(x); }
};
struct SiluB {
  __device__ float operator()(float x, float g) const { return silu_bwd(x, g); }
};

template <class Op>
void launch_unary(int64_t n, const float* x, float* y, Op op, cudaStream_t stream) {
  if (n <= 0) return;
  LOCDET_LAUNCH(unary_kernel<Op>, blocks_for(n), kThreadsPerBlock, 0, stream, n, x, y, op);
  CUDA_CHECK_LAUNCH();
}
template <class Op>
void launch_binary(int64_t n, const float* x, const float* dy, float* dx, Op op, cudaStream_t stream) {
  if (n <= 0) return;
  LOCDET_LAUNCH(binary_kernel<Op>, blocks_for(n), kThreadsPerBlock, 0, stream, n, x, dy, dx, op);
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void relu_forward(int64_t n, const float* x, float* y, cudaStream_t s) {
  launch_unary(n, x, y, ReluF{}, s);
}
void relu_backward(int64_t n, const float* x, const float* dy, float* dx, cudaStream_t s) {
  launch_binary(n, x, dy, dx, ReluB{}, s);
}
void leaky_relu_forward(int64_t n, const float* x, float* y, float slope, cudaStream_t s) {
  launch_unary(n, x, y, LeakyF{slope}, s);
}
void leaky_relu_backward(int64_t n, const float* x, const float* dy, float* dx, float slope, cudaStream_t s) {
  launch_binary(n, x, dy, dx, LeakyB{slope}, s);
}
void silu_forward(int64_t n, const float* x, float* y, cudaStream_t s) {
  launch_unary(n, x, y, SiluF{}, s);
}
void silu_backward(int64_t n, const float* x, const float* dy, float* dx, cudaStream_t s) {
  launch_binary(n, x, dy, dx, SiluB{}, s);
}

}  // namespace locdet::cuda
