// Matrix products of the CUDA backend through cuBLAS, loaded at run time (these machines have no cuBLAS headers or
// libraries to link against; the GPU machine has the library). The emulated build computes the same products on
// the CPU, with bfloat16 inputs and TF32 rounding reproduced, so the emulation's tolerances are the GPU's.
#pragma once
#include <string>

namespace xlt {
namespace cuda {

/** How matrix products compute: fp32, fp32 with TF32 tensor cores, or bfloat16 inputs with fp32 accumulation. */
enum class Precision { fp32 = 0, tf32 = 1, bf16 = 2 };

/** Loads cuBLAS once; returns "" when it is usable, else why not (the library searched and dlerror). */
std::string blas_load();

/**
 * Row-major, strided-batched: for b < batch, C_b[M,N] = alpha op(A_b) op(B_b) + beta C_b, where X_b = X + b * sX.
 * A and B hold bf16 when `bf16Inputs`, else float; C is always float. lda/ldb/ldc are row strides (elements).
 * beta 0 ignores C's old content (it may hold NaN), as BLAS does.
 */
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const void* A, int lda, long long sA, const void* B,
          int ldb, long long sB, float beta, float* C, int ldc, long long sC, int batch, bool bf16Inputs,
          Precision precision);

}  // namespace cuda
}  // namespace xlt
