// The CUDA backend's kernels, as host functions over device pointers (one launch each, on the default stream).
// Every reduction has a fixed order (no atomics), so a step is deterministic on a given GPU.
#pragma once
#include <cstddef>
#include <cstdint>

#include "device.h"

namespace xlt {
namespace cuda {

/** out[i] = (word[ids[i]] + type[types[i]]) + pos[pos[i]], rows of H. */
void embed(const int32_t* ids, const int32_t* types, const int32_t* pos, const float* word, const float* posTable,
           const float* typeTable, float* out, int N, int H);

/**
 * Per row of H: v = dropout(y) + residual (either part optional), out = LN(v) * g + b; xhat and rstd saved when
 * non-null. out may alias y. Dropout: `rate` 0 for none, else xlt's rule under `key` over the row-major index.
 */
void residual_layernorm(const float* y, double rate, uint32_t key, const float* residual, const float* g,
                        const float* b, float* out, float* xhat, float* rstd, int rows, int H, float eps);

/** dx = LayerNorm backward of dy (dx may alias dy); dg += colsum(dy * xhat), db += colsum(dy) first. */
void layernorm_backward(const float* dy, const float* xhat, const float* rstd, const float* g, float* dx, float* dg,
                        float* db, int rows, int H);

/** In place: x[i] *= xlt's dropout multiplier of element base + i of the site keyed `key`. */
void dropout(float* x, size_t n, double rate, uint32_t key, uint64_t base);

/** Y[N,O] += b, broadcast over rows. */
void add_bias(float* Y, const float* b, int N, int O);
/** H1[N,F] += b (kept for backward), G = gelu(H1) (exact erf form). */
void bias_gelu(float* H1, const float* b, float* G, int N, int F);
/** dy *= gelu'(x), in place. */
void gelu_backward(const float* x, float* dy, size_t n);
/** db[o] += sum over rows of dY[., o]. */
void column_sum(const float* dY, float* db, int N, int O);

/** X[B*T, H] (head h in columns h*d..) to Xh[B, nh, T, d], and back (merge). */
void split_heads(const float* X, float* Xh, int B, int T, int nh, int d);
void merge_heads(const float* Xh, float* X, int B, int T, int nh, int d);

/** Rows of T scores S[B*nh*T, T]: S = softmax(S / scale + maskBias[b]) in place (b = row / (nh * T)). */
void masked_softmax(float* S, const float* maskBias, int rows, int T, int nh, float scale);
/** dP = P * (dP - rowsum(dP * P)) / scale, in place on dP. */
void softmax_backward(float* dP, const float* P, int rows, int T, float scale);

/** Token-ordered scatter-add of d[N,H] into the word, position and type tables (rows pad get nothing; -1 none). */
void embedding_backward(const float* d, const int32_t* ids, const int32_t* pos, const int32_t* types, float* gw,
                        float* gp, float* gt, int N, int H, int wordPad, int posPad);

/** torch.optim.AdamW on n elements (see the CPU kernels' adamw_one for the order of operations). */
void adamw(float* p, const float* g, float* m, float* v, size_t n, float decayMul, float b1, float b2, float c1,
           float c2, float stepSize, float sqrtBc2, float eps);

/** Sum of squares in double, in a fixed order; `scratch` holds at least sum_squares_scratch(n) doubles. */
size_t sum_squares_scratch(size_t n);
double sum_squares(const float* x, size_t n, double* scratch);

void scale(float* x, size_t n, float f);
void add(float* y, const float* x, size_t n);
void to_bf16(const float* x, bf16* y, size_t n);

}  // namespace cuda
}  // namespace xlt
