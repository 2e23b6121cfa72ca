#include "kernels/cuda/blas.h"
#include "kernels/cuda/library_check.h"

namespace locdet::cuda {

void sgemm(const CudaContext& ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
           const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  CUBLAS_CHECK(cublasSgemm(ctx.blas, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                           m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc));
}

}  // namespace locdet::cuda
