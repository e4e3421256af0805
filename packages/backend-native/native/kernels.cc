#include "kernels.h"

#include <cblas.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

extern "C" void openblas_set_num_threads(int);

namespace xlt {

static int g_threads = 1;

void set_threads(int n) {
  g_threads = std::max(1, n);
  openblas_set_num_threads(1);
  omp_set_num_threads(g_threads);
}

int threads() { return g_threads; }

// Splits [0, n) into `parts` ranges aligned to `align`; range i of thread t.
static inline void split(int n, int parts, int t, int align, int& lo, int& hi) {
  int chunk = (n + parts - 1) / parts;
  chunk = (chunk + align - 1) / align * align;
  lo = std::min(n, t * chunk);
  hi = std::min(n, lo + chunk);
}

void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
  const CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
  const int nt = g_threads;
  const double flops = 2.0 * M * N * K;
  if (nt == 1 || flops < 2e6) {
    cblas_sgemm(CblasRowMajor, TA, TB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const bool byRows = M >= N;
#pragma omp parallel num_threads(nt)
  {
    // Partition by the threads actually granted, so no slice is skipped if OpenMP gives fewer.
    const int t = omp_get_thread_num(), nth = omp_get_num_threads();
    int lo, hi;
    if (byRows) {
      split(M, nth, t, 16, lo, hi);
      if (hi > lo) {
        const float* a = ta ? A + lo : A + (size_t)lo * lda;
        cblas_sgemm(CblasRowMajor, TA, TB, hi - lo, N, K, alpha, a, lda, B, ldb, beta, C + (size_t)lo * ldc, ldc);
      }
    } else {
      split(N, nth, t, 16, lo, hi);
      if (hi > lo) {
        const float* b = tb ? B + (size_t)lo * ldb : B + lo;
        cblas_sgemm(CblasRowMajor, TA, TB, M, hi - lo, K, alpha, A, lda, b, ldb, beta, C + lo, ldc);
      }
    }
  }
}

void linear_fwd(const float* X, const float* W, const float* b, float* Y, int N, int I, int O) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; i++) std::memcpy(Y + (size_t)i * O, b, sizeof(float) * O);
  gemm(false, true, N, O, I, 1.f, X, I, W, I, 1.f, Y, O);
}

// db[j] += sum_i dY[i, j]; threads own column ranges, so the order is fixed whatever the thread count.
static void colsum_add(const float* dY, float* db, int N, int O) {
#pragma omp parallel
  {
    int lo, hi;
    split(O, omp_get_num_threads(), omp_get_thread_num(), 16, lo, hi);
    if (hi > lo) {
      std::vector<double> acc(hi - lo, 0.0);
      for (int i = 0; i < N; i++) {
        const float* r = dY + (size_t)i * O;
        for (int j = lo; j < hi; j++) acc[j - lo] += r[j];
      }
      for (int j = lo; j < hi; j++) db[j] += (float)acc[j - lo];
    }
  }
}

void linear_bwd(const float* dY, const float* X, const float* W, float* dW, float* db, float* dX, int N, int I, int O,
                bool accumulate) {
  gemm(true, false, O, I, N, 1.f, dY, O, X, I, 1.f, dW, I);
  colsum_add(dY, db, N, O);
  if (dX) gemm(false, false, N, I, O, 1.f, dY, O, W, I, accumulate ? 1.f : 0.f, dX, I);
}

void dropout_apply(float* x, size_t n, double p, uint64_t seed, uint32_t site) {
  if (p <= 0.0) return;
  const float keep = dropout_scale(p);
  const uint64_t threshold = dropout_threshold(p);
  const uint32_t key = dropout_key(seed, site);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++) x[i] = dropout_bits(key, i) >= threshold ? x[i] * keep : 0.f;
}

void dropout_mask(float* out, size_t n, double p, uint64_t seed, uint32_t site) {
  for (size_t i = 0; i < n; i++) out[i] = 1.f;
  dropout_apply(out, n, p, seed, site);
}

void layernorm_fwd(const float* x, const float* g, const float* b, float* y, float* xhat, float* rstd, int rows,
                   int H, float eps) {
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (size_t)r * H;
    // Float sums in 8 fixed SIMD lanes (deterministic); two passes keep the variance accurate.
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < H; j++) s += xr[j];
    const float mean = s / H;
    float q = 0;
#pragma omp simd reduction(+ : q)
    for (int j = 0; j < H; j++) {
      const float d = xr[j] - mean;
      q += d * d;
    }
    const float rs = (float)(1.0 / std::sqrt((double)q / H + (double)eps));
    float* yr = y + (size_t)r * H;
    float* hr = xhat ? xhat + (size_t)r * H : nullptr;
    for (int j = 0; j < H; j++) {
      const float h = (xr[j] - mean) * rs;
      if (hr) hr[j] = h;
      yr[j] = h * g[j] + b[j];
    }
    if (rstd) rstd[r] = rs;
  }
}

void layernorm_bwd(const float* dy, const float* xhat, const float* rstd, const float* g, float* dx, float* dg,
                   float* db, int rows, int H) {
  // Parameter gradients first (dx may alias dy): threads own column ranges.
#pragma omp parallel
  {
    int lo, hi;
    split(H, omp_get_num_threads(), omp_get_thread_num(), 16, lo, hi);
    if (hi > lo) {
      std::vector<double> ag(hi - lo, 0.0), ab(hi - lo, 0.0);
      for (int r = 0; r < rows; r++) {
        const float* d = dy + (size_t)r * H;
        const float* h = xhat + (size_t)r * H;
        for (int j = lo; j < hi; j++) {
          ag[j - lo] += (double)d[j] * h[j];
          ab[j - lo] += d[j];
        }
      }
      for (int j = lo; j < hi; j++) {
        dg[j] += (float)ag[j - lo];
        db[j] += (float)ab[j - lo];
      }
    }
  }
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; r++) {
    const float* d = dy + (size_t)r * H;
    const float* h = xhat + (size_t)r * H;
    float s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
    for (int j = 0; j < H; j++) {
      const float dyg = d[j] * g[j];
      s1 += dyg;
      s2 += dyg * h[j];
    }
    const float m1 = s1 / H, m2 = s2 / H, rs = rstd[r];
    float* o = dx + (size_t)r * H;
    for (int j = 0; j < H; j++) o[j] = rs * (d[j] * g[j] - m1 - h[j] * m2);
  }
}

static const float kInvSqrt2 = 0.70710678118654752f;
static const float kInvSqrt2Pi = 0.39894228040143268f;

// erf over 8 floats: glibc's libmvec AVX2 variant (glibc >= 2.35, accurate to a few ulp like scalar erff), else scalar.
#if defined(XLT_LIBMVEC) && defined(__AVX2__)
extern "C" __m256 _ZGVdN8v_erff(__m256);
extern "C" __m256 _ZGVdN8v_expf(__m256);
static inline void erf8(const float* in, float* out) { _mm256_storeu_ps(out, _ZGVdN8v_erff(_mm256_loadu_ps(in))); }
static inline void exp8(const float* in, float* out) { _mm256_storeu_ps(out, _ZGVdN8v_expf(_mm256_loadu_ps(in))); }
#else
static inline void erf8(const float* in, float* out) {
  for (int k = 0; k < 8; k++) out[k] = std::erf(in[k]);
}
static inline void exp8(const float* in, float* out) {
  for (int k = 0; k < 8; k++) out[k] = std::exp(in[k]);
}
#endif

void softmax_row(float* r, const float* bias, int n, float scale_div) {
  float mx = -INFINITY;
  for (int j = 0; j < n; j++) {
    r[j] = r[j] / scale_div + bias[j];
    mx = std::max(mx, r[j]);
  }
  float sum = 0.f;
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    float a[8];
    for (int k = 0; k < 8; k++) a[k] = r[j + k] - mx;
    exp8(a, r + j);
  }
  for (; j < n; j++) r[j] = std::exp(r[j] - mx);
  for (int k = 0; k < n; k++) sum += r[k];
  const float inv = 1.f / sum;
  for (int k = 0; k < n; k++) r[k] *= inv;
}

void gelu_fwd(const float* x, float* y, size_t n) {
  const size_t blocks = (n + 7) / 8;
#pragma omp parallel for schedule(static)
  for (size_t b = 0; b < blocks; b++) {
    const size_t o = b * 8, m = std::min<size_t>(8, n - o);
    float a[8] = {0}, e[8];
    for (size_t k = 0; k < m; k++) a[k] = x[o + k] * kInvSqrt2;
    erf8(a, e);
    for (size_t k = 0; k < m; k++) y[o + k] = 0.5f * x[o + k] * (1.f + e[k]);
  }
}

void gelu_bwd(const float* x, float* dy, size_t n) {
  const size_t blocks = (n + 7) / 8;
#pragma omp parallel for schedule(static)
  for (size_t b = 0; b < blocks; b++) {
    const size_t o = b * 8, m = std::min<size_t>(8, n - o);
    float a[8] = {0}, e[8], q[8] = {0}, ex[8];
    for (size_t k = 0; k < m; k++) {
      a[k] = x[o + k] * kInvSqrt2;
      q[k] = -0.5f * x[o + k] * x[o + k];
    }
    erf8(a, e);
    exp8(q, ex);
    for (size_t k = 0; k < m; k++) dy[o + k] *= 0.5f * (1.f + e[k]) + x[o + k] * kInvSqrt2Pi * ex[k];
  }
}

double sum_squares(const float* x, size_t n) {
  const int nt = g_threads;
  std::vector<double> part(nt, 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), nth = omp_get_num_threads();
    const size_t chunk = (n + nth - 1) / nth, lo = std::min(n, t * chunk), hi = std::min(n, lo + chunk);
    double s = 0;
    for (size_t i = lo; i < hi; i++) s += (double)x[i] * x[i];
    part[t] = s;
  }
  double s = 0;
  for (double p : part) s += p;
  return s;
}

void scale(float* x, size_t n, float f) {
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++) x[i] *= f;
}

// One element, in torch.optim.AdamW's order: decay, moments, then p -= (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps).
static inline void adamw_one(float& p, float g, float& m, float& v, float decayMul, float b1, float b2, float c1,
                             float c2, float stepSize, float sqrtBc2, float eps) {
  p *= decayMul;
  m = m * b1 + g * c1;
  v = v * b2 + g * g * c2;
  p -= stepSize * (m / (std::sqrt(v) / sqrtBc2 + eps));
}

void adamw_dense(float* p, const float* g, float* m, float* v, size_t n, const AdamW& a, bool decay) {
  const double bc1 = 1.0 - std::pow(a.b1, a.step), bc2 = 1.0 - std::pow(a.b2, a.step);
  const float decayMul = decay ? (float)(1.0 - a.lr * a.wd) : 1.f;
  const float stepSize = (float)(a.lr / bc1), sqrtBc2 = (float)std::sqrt(bc2);
  const float b1 = (float)a.b1, b2 = (float)a.b2, c1 = (float)(1.0 - a.b1), c2 = (float)(1.0 - a.b2), eps = (float)a.eps;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++) adamw_one(p[i], g[i], m[i], v[i], decayMul, b1, b2, c1, c2, stepSize, sqrtBc2, eps);
}

void adamw_rows(float* p, const float* g, float* m, float* v, const uint8_t* touched, size_t rows, int H,
                const AdamW& a, bool decay) {
  const double bc1 = 1.0 - std::pow(a.b1, a.step), bc2 = 1.0 - std::pow(a.b2, a.step);
  const float decayMul = decay ? (float)(1.0 - a.lr * a.wd) : 1.f;
  const float stepSize = (float)(a.lr / bc1), sqrtBc2 = (float)std::sqrt(bc2);
  const float b1 = (float)a.b1, b2 = (float)a.b2, c1 = (float)(1.0 - a.b1), c2 = (float)(1.0 - a.b2), eps = (float)a.eps;
#pragma omp parallel for schedule(static, 256)
  for (size_t r = 0; r < rows; r++) {
    const size_t o = r * H;
    if (touched[r]) {
      for (int j = 0; j < H; j++)
        adamw_one(p[o + j], g[o + j], m[o + j], v[o + j], decayMul, b1, b2, c1, c2, stepSize, sqrtBc2, eps);
    } else {
      // The gradient row is zero: skip reading it (dense AdamW still moves p through decay and the old moments).
      for (int j = 0; j < H; j++)
        adamw_one(p[o + j], 0.f, m[o + j], v[o + j], decayMul, b1, b2, c1, c2, stepSize, sqrtBc2, eps);
    }
  }
}

}  // namespace xlt
