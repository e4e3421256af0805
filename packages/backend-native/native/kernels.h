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

/** Uniform [0,1) from a counter-based hash of (seed, stream, index): the same mask in forward and backward. */
float dropout_uniform(uint64_t seed, uint64_t stream, uint64_t index);
/** x *= mask/(1-p) in place, mask drawn from (seed, stream, index). */
void dropout_apply(float* x, size_t n, float p, uint64_t seed, uint64_t stream);

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

namespace xlt {
/** Key of one dropout stream; draws are then a pure function of (key, element index). */
inline uint64_t dropout_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline uint64_t dropout_key(uint64_t seed, uint64_t stream) {
  return dropout_mix(seed * 0x9e3779b97f4a7c15ULL + stream * 0xd1b54a32d192ed03ULL + 0x632be59bd9b4e019ULL);
}
/** Multiplies x[0..n) by the dropout mask of elements base..base+n of the stream (serial; for use in threads). */
inline void dropout_block(float* x, size_t n, float p, uint64_t key, uint64_t base) {
  const float keep = 1.f / (1.f - p);
  for (size_t i = 0; i < n; i++) {
    const float u = (float)(dropout_mix(key + (base + i) * 0x9e3779b97f4a7c15ULL) >> 40) * (1.0f / 16777216.0f);
    x[i] = u < p ? 0.f : x[i] * keep;
  }
}
}  // namespace xlt
