// Fused CPU kernels of the native backend: GEMM split over OpenMP threads (each slice a single-threaded
// OpenBLAS call, so OpenMP and OpenBLAS never oversubscribe the cores), LayerNorm, GELU, masked softmax,
// counter-based dropout and AdamW. Every reduction has a fixed order for a given thread count.
#pragma once
#include <cstddef>
#include <cstdint>

namespace xlt {

/** Sets the OpenMP thread count used by every kernel (and pins OpenBLAS to one thread per call). */
void set_threads(int n);
int threads();

/** Row-major C[M,N] = alpha * op(A) op(B) + beta * C, split over threads along M (or N when M is small). */
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc);

/** Y[N,O] = X[N,I] W[O,I]^T + b (HF linear layout). */
void linear_fwd(const float* X, const float* W, const float* b, float* Y, int N, int I, int O);
/** dW += dY^T X, db += colsum(dY), dX (=, or += when accumulate) dY W. dX may be null. */
void linear_bwd(const float* dY, const float* X, const float* W, float* dW, float* db, float* dX, int N, int I, int O,
                bool accumulate);

/** x *= mask in place: xlt's dropout rule for elements 0..n of `site` under `seed` (see dropout_key). */
void dropout_apply(float* x, size_t n, double p, uint64_t seed, uint32_t site);
/** The multiplier of elements 0..n of `site`: float32(1/(1-p)) where kept, 0 where dropped (for tests). */
void dropout_mask(float* out, size_t n, double p, uint64_t seed, uint32_t site);

/** y = LN(x) * g + b per row; saves xhat and rstd when non-null. */
void layernorm_fwd(const float* x, const float* g, const float* b, float* y, float* xhat, float* rstd, int rows,
                   int H, float eps);
/** dx = LN backward; dg += sum(dy * xhat), db += sum(dy). dx may alias dy. */
void layernorm_bwd(const float* dy, const float* xhat, const float* rstd, const float* g, float* dx, float* dg,
                   float* db, int rows, int H);

/** In place: r = softmax(r / scale_div + bias) over one row of n (serial; for use inside threads). */
void softmax_row(float* r, const float* bias, int n, float scale_div);

/** y = gelu(x) exact erf form. */
void gelu_fwd(const float* x, float* y, size_t n);
/** dx = dy * gelu'(x), in place on dy. */
void gelu_bwd(const float* x, float* dy, size_t n);

/** Sum of squares in double, fixed order for a given thread count. */
double sum_squares(const float* x, size_t n);
void scale(float* x, size_t n, float f);

/** Hyperparameters of one AdamW step (PyTorch torch.optim.AdamW). */
struct AdamW {
  double lr, b1, b2, eps, wd, step;
};
/** Dense AdamW over n elements; decay applies lr*wd decoupled decay first. */
void adamw_dense(float* p, const float* g, float* m, float* v, size_t n, const AdamW& a, bool decay);
/** AdamW over a [rows, H] table where only rows with touched[r] can have a nonzero gradient. */
void adamw_rows(float* p, const float* g, float* m, float* v, const uint8_t* touched, size_t rows, int H,
                const AdamW& a, bool decay);

}  // namespace xlt

// The dropout rule below is also compiled for the GPU (cuda/ops.cu): XLT_HD marks what both sides share.
#if defined(__CUDACC__)
#define XLT_HD __host__ __device__
#else
#define XLT_HD
#endif

namespace xlt {
/*
 * xlt's backend-independent dropout rule, the port of @xlt/plugin-api's src/util/dropout-mask.ts (the TS, C++ and
 * PyTorch-reference versions must agree bit for bit; src/dropout.spec.ts checks TS against this one):
 * key = mix32(mix32(mix32(lo ^ 0x9e3779b9) ^ hi) ^ mix32(site ^ 0x85ebca6b)) for seed = hi * 2^32 + lo,
 * bits(i) = mix32(key ^ mix32(i ^ 0xc2b2ae35)), kept iff bits >= floor(p * 2^32), kept values times
 * float32(1/(1-p)). Sites: 0 embeddings, then per layer l: 1+3l attention probabilities, 2+3l attention output,
 * 3+3l FFN output; i is the row-major element index inside the site's tensor.
 */
XLT_HD inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}
XLT_HD inline uint32_t dropout_key(uint64_t seed, uint32_t site) {
  const uint32_t lo = (uint32_t)seed, hi = (uint32_t)(seed >> 32);
  return mix32(mix32(mix32(lo ^ 0x9e3779b9u) ^ hi) ^ mix32(site ^ 0x85ebca6bu));
}
XLT_HD inline uint32_t dropout_bits(uint32_t key, uint64_t index) { return mix32(key ^ mix32((uint32_t)index ^ 0xc2b2ae35u)); }
/** floor(p * 2^32), exact in double: the same integer as JS and Python compute. */
XLT_HD inline uint64_t dropout_threshold(double p) { return (uint64_t)(p * 4294967296.0); }
XLT_HD inline float dropout_scale(double p) { return (float)(1.0 / (1.0 - p)); }
/** Multiplies x[0..n) by the dropout mask of elements base..base+n of the site (serial; for use in threads). */
inline void dropout_block(float* x, size_t n, double p, uint32_t key, uint64_t base) {
  const uint64_t threshold = dropout_threshold(p);
  const float keep = dropout_scale(p);
  for (size_t i = 0; i < n; i++) x[i] = dropout_bits(key, base + i) >= threshold ? x[i] * keep : 0.f;
}
}  // namespace xlt
