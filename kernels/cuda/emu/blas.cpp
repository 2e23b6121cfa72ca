// cuBLAS's sgemm in the CUDA emulation: OpenBLAS with the same column-major contract, run in
// stream order.
#include "kernels/cuda/blas.h"

#include <cblas.h>

#include "kernels/cuda/cuda_check.h"

namespace locdet::cuda {

void sgemm(const CudaContext& ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
           const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  CUDA_CHECK(locdet_emu::enqueue_task(ctx.stream, [=] {
    cblas_sgemm(CblasColMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n,
                k, alpha, a, lda, b, ldb, beta, c, ldc);
  }));
}

}  // namespace locdet::cuda
