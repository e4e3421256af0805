// Kernels of the CUDA backend (see ops.h). Block reductions go through shared memory, never warp shuffles, so that
// the emulated build (emulation.h) runs these very sources.
#include "ops.h"

#include <cmath>
#include <vector>

#include "../kernels.h"

namespace xlt {
namespace cuda {

namespace {

constexpr unsigned kThreads = 256;

// Sum over the block (blockDim.x a power of two, at most kThreads); every thread gets the total.
template <class T>
__device__ T block_sum(T v, T* sh) {
  const unsigned t = threadIdx.x;
  sh[t] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) sh[t] += sh[t + s];
    __syncthreads();
  }
  const T r = sh[0];
  __syncthreads();
  return r;
}

__device__ float block_max(float v, float* sh) {
  const unsigned t = threadIdx.x;
  sh[t] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) sh[t] = fmaxf(sh[t], sh[t + s]);
    __syncthreads();
  }
  const float r = sh[0];
  __syncthreads();
  return r;
}

__device__ __forceinline__ float drop(float x, uint32_t key, uint64_t i, uint64_t threshold, float keep) {
  return dropout_bits(key, i) >= threshold ? x * keep : 0.f;
}

__global__ void embed_k(const int32_t* ids, const int32_t* types, const int32_t* pos, const float* w, const float* p,
                        const float* t, float* out, size_t n, int H) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const size_t r = i / H, j = i % H;
  out[i] = (w[(size_t)ids[r] * H + j] + t[(size_t)types[r] * H + j]) + p[(size_t)pos[r] * H + j];
}

__global__ void residual_layernorm_k(const float* y, uint64_t threshold, float keep, uint32_t key, const float* res,
                                     const float* g, const float* b, float* out, float* xhat, float* rstd, int H,
                                     float eps) {
  __shared__ float sh[kThreads];
  const size_t row = blockIdx.x, o = row * H;
  float s = 0.f;
  for (int j = threadIdx.x; j < H; j += blockDim.x) {
    float v = y[o + j];
    if (threshold) v = drop(v, key, o + j, threshold, keep);
    if (res) v += res[o + j];
    out[o + j] = v;
    s += v;
  }
  const float mean = block_sum(s, sh) / H;
  float q = 0.f;
  for (int j = threadIdx.x; j < H; j += blockDim.x) {
    const float d = out[o + j] - mean;
    q += d * d;
  }
  q = block_sum(q, sh);
  const float rs = (float)(1.0 / sqrt((double)q / H + (double)eps));
  for (int j = threadIdx.x; j < H; j += blockDim.x) {
    const float h = (out[o + j] - mean) * rs;
    if (xhat) xhat[o + j] = h;
    out[o + j] = h * g[j] + b[j];
  }
  if (rstd && threadIdx.x == 0) rstd[row] = rs;
}

// One thread per column: a fixed-order sum over rows (deterministic, no atomics).
__global__ void layernorm_params_k(const float* dy, const float* xhat, float* dg, float* db, int rows, int H) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= H) return;
  double ag = 0.0, ab = 0.0;
  for (int r = 0; r < rows; r++) {
    const float d = dy[(size_t)r * H + j];
    ag += (double)d * xhat[(size_t)r * H + j];
    ab += d;
  }
  dg[j] += (float)ag;
  db[j] += (float)ab;
}

__global__ void layernorm_backward_k(const float* dy, const float* xhat, const float* rstd, const float* g, float* dx,
                                     int H) {
  __shared__ float sh[kThreads];
  const size_t row = blockIdx.x, o = row * H;
  float s1 = 0.f, s2 = 0.f;
  for (int j = threadIdx.x; j < H; j += blockDim.x) {
    const float dyg = dy[o + j] * g[j];
    s1 += dyg;
    s2 += dyg * xhat[o + j];
  }
  const float m1 = block_sum(s1, sh) / H, m2 = block_sum(s2, sh) / H, rs = rstd[row];
  // Each thread reads only the columns it writes, so dx may alias dy.
  for (int j = threadIdx.x; j < H; j += blockDim.x) dx[o + j] = rs * (dy[o + j] * g[j] - m1 - xhat[o + j] * m2);
}

__global__ void dropout_k(float* x, size_t n, uint64_t threshold, float keep, uint32_t key, uint64_t base) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = drop(x[i], key, base + i, threshold, keep);
}

__global__ void add_bias_k(float* Y, const float* b, size_t n, int O) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) Y[i] += b[i % O];
}

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

__global__ void bias_gelu_k(float* H1, const float* b, float* G, size_t n, int F) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float x = H1[i] + b[i % F];
  H1[i] = x;
  G[i] = 0.5f * x * (1.f + erff(x * kInvSqrt2));
}

__global__ void gelu_backward_k(const float* x, float* dy, size_t n) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float v = x[i];
  dy[i] *= 0.5f * (1.f + erff(v * kInvSqrt2)) + v * kInvSqrt2Pi * expf(-0.5f * v * v);
}

__global__ void column_sum_k(const float* dY, float* db, int N, int O) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= O) return;
  double s = 0.0;
  for (int r = 0; r < N; r++) s += dY[(size_t)r * O + j];
  db[j] += (float)s;
}

// i runs over Xh's elements [B, nh, T, d]; `merge` copies the other way.
__global__ void heads_k(const float* src, float* dst, size_t n, int T, int nh, int d, bool merge) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const int c = (int)(i % d);
  const size_t r = i / d;
  const int t = (int)(r % T);
  const size_t bh = r / T;
  const int h = (int)(bh % nh);
  const size_t b = bh / nh;
  const size_t x = (b * T + t) * (size_t)nh * d + (size_t)h * d + c;
  if (merge) dst[x] = src[i];
  else dst[i] = src[x];
}

__global__ void masked_softmax_k(float* S, const float* maskBias, int T, int nh, float scale) {
  __shared__ float sh[kThreads];
  const size_t row = blockIdx.x;
  float* r = S + row * T;
  const float* bias = maskBias + (row / ((size_t)nh * T)) * T;
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < T; j += blockDim.x) {
    r[j] = r[j] / scale + bias[j];
    mx = fmaxf(mx, r[j]);
  }
  mx = block_max(mx, sh);
  float s = 0.f;
  for (int j = threadIdx.x; j < T; j += blockDim.x) {
    r[j] = expf(r[j] - mx);
    s += r[j];
  }
  const float inv = 1.f / block_sum(s, sh);
  for (int j = threadIdx.x; j < T; j += blockDim.x) r[j] *= inv;
}

__global__ void softmax_backward_k(float* dP, const float* P, int T, float scale) {
  __shared__ float sh[kThreads];
  const size_t o = (size_t)blockIdx.x * T;
  float dot = 0.f;
  for (int j = threadIdx.x; j < T; j += blockDim.x) dot += dP[o + j] * P[o + j];
  dot = block_sum(dot, sh);
  for (int j = threadIdx.x; j < T; j += blockDim.x) dP[o + j] = P[o + j] * (dP[o + j] - dot) / scale;
}

// One thread per column walks the tokens in order, so repeated ids add up in token order without atomics.
__global__ void embedding_backward_k(const float* d, const int32_t* ids, const int32_t* pos, const int32_t* types,
                                     float* gw, float* gp, float* gt, int N, int H, int wordPad, int posPad) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= H) return;
  for (int i = 0; i < N; i++) {
    const float x = d[(size_t)i * H + j];
    if (ids[i] != wordPad) gw[(size_t)ids[i] * H + j] += x;
    if (pos[i] != posPad) gp[(size_t)pos[i] * H + j] += x;
    gt[(size_t)types[i] * H + j] += x;
  }
}

__global__ void adamw_k(float* p, const float* g, float* m, float* v, size_t n, float decayMul, float b1, float b2,
                        float c1, float c2, float stepSize, float sqrtBc2, float eps) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float pi = p[i] * decayMul;
  const float gi = g[i];
  const float mi = m[i] * b1 + gi * c1;
  const float vi = v[i] * b2 + gi * gi * c2;
  pi -= stepSize * (mi / (sqrtf(vi) / sqrtBc2 + eps));
  p[i] = pi;
  m[i] = mi;
  v[i] = vi;
}

constexpr size_t kSquaresPerBlock = 1 << 16;

__global__ void sum_squares_k(const float* x, size_t n, double* partial) {
  __shared__ double sh[kThreads];
  const size_t lo = (size_t)blockIdx.x * kSquaresPerBlock;
  const size_t hi = lo + kSquaresPerBlock < n ? lo + kSquaresPerBlock : n;
  double s = 0.0;
  for (size_t i = lo + threadIdx.x; i < hi; i += blockDim.x) s += (double)x[i] * x[i];
  s = block_sum(s, sh);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

__global__ void sum_partials_k(double* partial, size_t parts) {
  __shared__ double sh[kThreads];
  double s = 0.0;
  for (size_t i = threadIdx.x; i < parts; i += blockDim.x) s += partial[i];
  s = block_sum(s, sh);
  if (threadIdx.x == 0) partial[parts] = s;
}

__global__ void scale_k(float* x, size_t n, float f) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= f;
}

__global__ void add_k(float* y, const float* x, size_t n) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += x[i];
}

__global__ void to_bf16_k(const float* x, bf16* y, size_t n) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = __float2bfloat16(x[i]);
}

// The smallest power of two >= n, within 32..kThreads: block size of a per-row kernel.
unsigned row_threads(int n) {
  unsigned t = 32;
  while (t < kThreads && t < (unsigned)n) t <<= 1;
  return t;
}

void launched(const char* what) { check(cudaGetLastError(), what); }

}  // namespace

void embed(const int32_t* ids, const int32_t* types, const int32_t* pos, const float* word, const float* posTable,
           const float* typeTable, float* out, int N, int H) {
  const size_t n = (size_t)N * H;
  XLT_LAUNCH(embed_k, blocks_for(n, kThreads), kThreads, ids, types, pos, word, posTable, typeTable, out, n, H);
  launched("embed");
}

void residual_layernorm(const float* y, double rate, uint32_t key, const float* residual, const float* g,
                        const float* b, float* out, float* xhat, float* rstd, int rows, int H, float eps) {
  const uint64_t threshold = rate > 0.0 ? dropout_threshold(rate) : 0;
  const float keep = rate > 0.0 ? dropout_scale(rate) : 1.f;
  XLT_LAUNCH(residual_layernorm_k, rows, row_threads(H), y, threshold, keep, key, residual, g, b, out, xhat, rstd, H,
             eps);
  launched("residual_layernorm");
}

void layernorm_backward(const float* dy, const float* xhat, const float* rstd, const float* g, float* dx, float* dg,
                        float* db, int rows, int H) {
  XLT_LAUNCH(layernorm_params_k, blocks_for(H, 128), 128, dy, xhat, dg, db, rows, H);
  XLT_LAUNCH(layernorm_backward_k, rows, row_threads(H), dy, xhat, rstd, g, dx, H);
  launched("layernorm_backward");
}

void dropout(float* x, size_t n, double rate, uint32_t key, uint64_t base) {
  if (!(rate > 0.0) || n == 0) return;
  XLT_LAUNCH(dropout_k, blocks_for(n, kThreads), kThreads, x, n, dropout_threshold(rate), dropout_scale(rate), key,
             base);
  launched("dropout");
}

void add_bias(float* Y, const float* b, int N, int O) {
  const size_t n = (size_t)N * O;
  XLT_LAUNCH(add_bias_k, blocks_for(n, kThreads), kThreads, Y, b, n, O);
  launched("add_bias");
}

void bias_gelu(float* H1, const float* b, float* G, int N, int F) {
  const size_t n = (size_t)N * F;
  XLT_LAUNCH(bias_gelu_k, blocks_for(n, kThreads), kThreads, H1, b, G, n, F);
  launched("bias_gelu");
}

void gelu_backward(const float* x, float* dy, size_t n) {
  XLT_LAUNCH(gelu_backward_k, blocks_for(n, kThreads), kThreads, x, dy, n);
  launched("gelu_backward");
}

void column_sum(const float* dY, float* db, int N, int O) {
  XLT_LAUNCH(column_sum_k, blocks_for(O, 128), 128, dY, db, N, O);
  launched("column_sum");
}

void split_heads(const float* X, float* Xh, int B, int T, int nh, int d) {
  const size_t n = (size_t)B * T * nh * d;
  XLT_LAUNCH(heads_k, blocks_for(n, kThreads), kThreads, X, Xh, n, T, nh, d, false);
  launched("split_heads");
}

void merge_heads(const float* Xh, float* X, int B, int T, int nh, int d) {
  const size_t n = (size_t)B * T * nh * d;
  XLT_LAUNCH(heads_k, blocks_for(n, kThreads), kThreads, Xh, X, n, T, nh, d, true);
  launched("merge_heads");
}

void masked_softmax(float* S, const float* maskBias, int rows, int T, int nh, float scale) {
  XLT_LAUNCH(masked_softmax_k, rows, row_threads(T), S, maskBias, T, nh, scale);
  launched("masked_softmax");
}

void softmax_backward(float* dP, const float* P, int rows, int T, float scale) {
  XLT_LAUNCH(softmax_backward_k, rows, row_threads(T), dP, P, T, scale);
  launched("softmax_backward");
}

void embedding_backward(const float* d, const int32_t* ids, const int32_t* pos, const int32_t* types, float* gw,
                        float* gp, float* gt, int N, int H, int wordPad, int posPad) {
  XLT_LAUNCH(embedding_backward_k, blocks_for(H, 64), 64, d, ids, pos, types, gw, gp, gt, N, H, wordPad, posPad);
  launched("embedding_backward");
}

void adamw(float* p, const float* g, float* m, float* v, size_t n, float decayMul, float b1, float b2, float c1,
           float c2, float stepSize, float sqrtBc2, float eps) {
  if (n == 0) return;
  XLT_LAUNCH(adamw_k, blocks_for(n, kThreads), kThreads, p, g, m, v, n, decayMul, b1, b2, c1, c2, stepSize, sqrtBc2,
             eps);
  launched("adamw");
}

size_t sum_squares_scratch(size_t n) { return (n + kSquaresPerBlock - 1) / kSquaresPerBlock + 1; }

double sum_squares(const float* x, size_t n, double* scratch) {
  if (n == 0) return 0.0;
  const size_t parts = sum_squares_scratch(n) - 1;
  XLT_LAUNCH(sum_squares_k, (unsigned)parts, kThreads, x, n, scratch);
  XLT_LAUNCH(sum_partials_k, 1, kThreads, scratch, parts);
  launched("sum_squares");
  double r = 0.0;
  check(cudaMemcpy(&r, scratch + parts, sizeof(double), cudaMemcpyDeviceToHost), "sum_squares result");
  return r;
}

void scale(float* x, size_t n, float f) {
  if (n == 0) return;
  XLT_LAUNCH(scale_k, blocks_for(n, kThreads), kThreads, x, n, f);
  launched("scale");
}

void add(float* y, const float* x, size_t n) {
  XLT_LAUNCH(add_k, blocks_for(n, kThreads), kThreads, y, x, n);
  launched("add");
}

void to_bf16(const float* x, bf16* y, size_t n) {
  if (n == 0) return;
  XLT_LAUNCH(to_bf16_k, blocks_for(n, kThreads), kThreads, x, y, n);
  launched("to_bf16");
}

}  // namespace cuda
}  // namespace xlt
