#include "blas.h"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "device.h"

#ifndef XLT_CUDA_EMULATION
#include <dlfcn.h>
#include <library_types.h>
#endif

namespace xlt {
namespace cuda {

#ifndef XLT_CUDA_EMULATION

// The few cuBLAS declarations this file calls, as cublas_api.h (CUDA 12/13) declares them.
typedef struct cublasContext* cublasHandle_t;
typedef int cublasStatus_t;
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
enum { CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77 };
enum { CUBLAS_GEMM_DEFAULT = -1 };
typedef cublasStatus_t (*CreateFn)(cublasHandle_t*);
typedef cublasStatus_t (*GemmExFn)(cublasHandle_t, int, int, int, int, int, const void*, const void*, cudaDataType, int,
                                   const void*, cudaDataType, int, const void*, void*, cudaDataType, int, int, int);
typedef cublasStatus_t (*GemmBatchedFn)(cublasHandle_t, int, int, int, int, int, const void*, const void*,
                                        cudaDataType, int, long long, const void*, cudaDataType, int, long long,
                                        const void*, void*, cudaDataType, int, long long, int, int, int);

namespace {
struct Cublas {
  cublasHandle_t handle = nullptr;
  GemmExFn gemmEx = nullptr;
  GemmBatchedFn gemmBatched = nullptr;
  std::string error;
};

Cublas& cublas() {
  static Cublas c = [] {
    Cublas r;
    void* lib = nullptr;
    std::string tried;
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}) {
      lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib) break;
      tried += std::string(tried.empty() ? "" : "; ") + dlerror();
    }
    if (!lib) {
      r.error = "cuBLAS not found (set LD_LIBRARY_PATH to the folder of libcublas.so.13): " + tried;
      return r;
    }
    auto create = (CreateFn)dlsym(lib, "cublasCreate_v2");
    r.gemmEx = (GemmExFn)dlsym(lib, "cublasGemmEx");
    r.gemmBatched = (GemmBatchedFn)dlsym(lib, "cublasGemmStridedBatchedEx");
    if (!create || !r.gemmEx || !r.gemmBatched) {
      r.error = "cuBLAS lacks cublasCreate_v2, cublasGemmEx or cublasGemmStridedBatchedEx";
      return r;
    }
    const cublasStatus_t s = create(&r.handle);
    if (s != 0) r.error = "cublasCreate failed with status " + std::to_string(s);
    return r;
  }();
  return c;
}
}  // namespace

std::string blas_load() { return cublas().error; }

// cuBLAS's own (column-major) strided-batched product: C_b = alpha opA(A_b) opB(B_b) + beta C_b.
static void colmajor(bool transA, bool transB, int m, int n, int k, float alpha, const void* A, int lda, long long sA,
                     const void* B, int ldb, long long sB, float beta, float* C, int ldc, long long sC, int batch,
                     bool bf16Inputs, Precision precision) {
  Cublas& c = cublas();
  if (!c.error.empty()) throw std::runtime_error(c.error);
  const cudaDataType in = bf16Inputs ? CUDA_R_16BF : CUDA_R_32F;
  const int compute = precision == Precision::tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const int opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N, opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasStatus_t s =
      batch == 1 ? c.gemmEx(c.handle, opA, opB, m, n, k, &alpha, A, in, lda, B, in, ldb, &beta, C, CUDA_R_32F, ldc,
                            compute, CUBLAS_GEMM_DEFAULT)
                 : c.gemmBatched(c.handle, opA, opB, m, n, k, &alpha, A, in, lda, sA, B, in, ldb, sB, &beta, C,
                                 CUDA_R_32F, ldc, sC, batch, compute, CUBLAS_GEMM_DEFAULT);
  if (s != 0) throw std::runtime_error("cuBLAS gemm failed with status " + std::to_string(s));
}

#else

std::string blas_load() { return ""; }

namespace {
// TF32 keeps 10 of float's 23 mantissa bits (rounded to nearest).
inline float tf32(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;
  u = (u + 0xfffu + ((u >> 13) & 1u)) & ~0x1fffu;
  std::memcpy(&x, &u, 4);
  return x;
}
inline float load(const void* p, size_t i, bool b16, Precision pr) {
  if (b16) return __bfloat162float(static_cast<const bf16*>(p)[i]);
  const float x = static_cast<const float*>(p)[i];
  return pr == Precision::tf32 ? tf32(x) : x;
}
}  // namespace

// cuBLAS's column-major contract computed on the CPU: element (i, j) of a column-major X with leading dimension ld
// is X[i + j * ld]; op(X) = X^T when trans. beta 0 ignores C's old content.
static void colmajor(bool transA, bool transB, int m, int n, int k, float alpha, const void* A, int lda, long long sA,
                     const void* B, int ldb, long long sB, float beta, float* C, int ldc, long long sC, int batch,
                     bool b16, Precision pr) {
  for (int b = 0; b < batch; b++)
    for (int j = 0; j < n; j++)
      for (int i = 0; i < m; i++) {
        float s = 0.f;
        for (int p = 0; p < k; p++) {
          const size_t ai = (size_t)b * sA + (transA ? (size_t)p + (size_t)i * lda : (size_t)i + (size_t)p * lda);
          const size_t bi = (size_t)b * sB + (transB ? (size_t)j + (size_t)p * ldb : (size_t)p + (size_t)j * ldb);
          s += load(A, ai, b16, pr) * load(B, bi, b16, pr);
        }
        float& c = C[(size_t)b * sC + (size_t)i + (size_t)j * ldc];
        c = beta == 0.f ? alpha * s : alpha * s + beta * c;
      }
}

#endif

void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const void* A, int lda, long long sA, const void* B,
          int ldb, long long sB, float beta, float* C, int ldc, long long sC, int batch, bool bf16Inputs,
          Precision precision) {
  // cuBLAS is column-major: a row-major C[M,N] is a column-major C^T[N,M] = op(B)^T op(A)^T, so the operands swap.
  colmajor(tb, ta, N, M, K, alpha, B, ldb, sB, A, lda, sA, beta, C, ldc, sC, batch, bf16Inputs, precision);
}

}  // namespace cuda
}  // namespace xlt
