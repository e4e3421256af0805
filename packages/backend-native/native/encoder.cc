#include "encoder.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace xlt {

Arena::Arena(size_t n) : size(n) {
  // calloc of a large block maps zero pages lazily: untouched gradient rows of a big vocabulary cost no memory.
  data = static_cast<float*>(std::calloc(n ? n : 1, sizeof(float)));
  if (!data) throw std::bad_alloc();
}
Arena::~Arena() { std::free(data); }

// Dropout sites of xlt's rule (kernels.h): embeddings 0, then three per layer (attention probabilities, attention
// output, FFN output).
static inline uint32_t stream_of(int layer, int site) { return 1 + 3 * (uint32_t)layer + (uint32_t)site; }
static const uint32_t kEmbeddingStream = 0;

Encoder::Encoder(const EncoderShape& s, size_t total, const EmbeddingOffsets& emb, const std::vector<LayerOffsets>& layers)
    : shape(s), emb_(emb), lay_(layers), total_(total) {
  if (s.hidden % s.heads) throw std::invalid_argument("hidden size must be divisible by the number of heads");
  params = std::make_shared<Arena>(total);
  touched_.assign(s.vocab, 0);
}

void Encoder::ensure_grads() {
  if (!grads) grads = std::make_shared<Arena>(total_);
}

void Encoder::ensure_moments() {
  if (!m) m = std::make_shared<Arena>(total_);
  if (!v) v = std::make_shared<Arena>(total_);
}

template <class V>
static inline void fit(V& vec, size_t n) {
  if (vec.size() != n) vec.resize(n);
}

static void add_inplace(float* y, const float* x, size_t n) {
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++) y[i] += x[i];
}

static void copy_par(float* y, const float* x, size_t n) {
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++) y[i] = x[i];
}

const float* Encoder::forward(const int32_t* ids, const int32_t* types, const int32_t* mask, const int32_t* pos, int B,
                              int T, bool training, uint64_t seed) {
  const int H = shape.hidden;
  const size_t N = (size_t)B * T;
  check_batch(shape, ids, types, mask, pos, N);
  B_ = B;
  T_ = T;
  seed_ = seed;
  trained_ = false;
  ids_.assign(ids, ids + N);
  types_.assign(types, types + N);
  pos_.assign(pos, pos + N);
  fit(maskBias_, N);
  // HF's extended attention mask: (1 - mask) * finfo(float32).min, added to the scaled scores.
  for (size_t i = 0; i < N; i++) maskBias_[i] = (1.f - (float)mask[i]) * -FLT_MAX;

  const float* P = params->data;
  fit(embOut_, N * H);
  fit(embXhat_, N * H);
  fit(embRstd_, N);
  {
    const float *W = P + emb_.word, *Pe = P + emb_.pos, *Te = P + emb_.type;
    float* e = embOut_.data();
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < N; i++) {
      const float *w = W + (size_t)ids_[i] * H, *p = Pe + (size_t)pos_[i] * H, *t = Te + (size_t)types_[i] * H;
      float* o = e + i * H;
      for (int j = 0; j < H; j++) o[j] = (w[j] + t[j]) + p[j];
    }
    layernorm_fwd(e, P + emb_.lng, P + emb_.lnb, e, training ? embXhat_.data() : nullptr, embRstd_.data(), (int)N, H,
                  shape.eps);
    if (training) dropout_apply(e, N * H, shape.hiddenDropout, seed, kEmbeddingStream);
  }
  const int L = shape.layers;
  if (acts_.size() < (size_t)(training ? L : std::min(L, 2))) acts_.resize(training ? L : std::min(L, 2));
  const float* x = embOut_.data();
  for (int l = 0; l < L; l++) {
    LayerActs& a = training ? acts_[l] : acts_[l % 2];
    layer_forward(l, x, a, training);
    x = a.y2.data();
  }
  trained_ = training;
  return x;
}

void Encoder::layer_forward(int l, const float* x, LayerActs& a, bool training) {
  const int H = shape.hidden, F = shape.ffn;
  const int N = B_ * T_;
  const LayerOffsets& o = lay_[l];
  const float* P = params->data;
  fit(a.q, (size_t)N * H);
  fit(a.k, (size_t)N * H);
  fit(a.v, (size_t)N * H);
  fit(a.ctx, (size_t)N * H);
  fit(a.y1, (size_t)N * H);
  fit(a.rstd1, N);
  fit(a.h1, (size_t)N * F);
  fit(a.g, (size_t)N * F);
  fit(a.y2, (size_t)N * H);
  fit(a.rstd2, N);
  if (training) {
    fit(a.xhat1, (size_t)N * H);
    fit(a.xhat2, (size_t)N * H);
    fit(a.P, (size_t)B_ * shape.heads * T_ * T_);
  }
  linear_fwd(x, P + o.qW, P + o.qb, a.q.data(), N, H, H);
  linear_fwd(x, P + o.kW, P + o.kb, a.k.data(), N, H, H);
  linear_fwd(x, P + o.vW, P + o.vb, a.v.data(), N, H, H);
  attention_forward(l, a, training);
  float* y1 = a.y1.data();
  linear_fwd(a.ctx.data(), P + o.oW, P + o.ob, y1, N, H, H);
  if (training) dropout_apply(y1, (size_t)N * H, shape.hiddenDropout, seed_, stream_of(l, 1));
  add_inplace(y1, x, (size_t)N * H);
  layernorm_fwd(y1, P + o.ln1g, P + o.ln1b, y1, training ? a.xhat1.data() : nullptr, a.rstd1.data(), N, H, shape.eps);
  linear_fwd(y1, P + o.iW, P + o.ib, a.h1.data(), N, H, F);
  gelu_fwd(a.h1.data(), a.g.data(), (size_t)N * F);
  float* y2 = a.y2.data();
  linear_fwd(a.g.data(), P + o.fW, P + o.fb, y2, N, F, H);
  if (training) dropout_apply(y2, (size_t)N * H, shape.hiddenDropout, seed_, stream_of(l, 2));
  add_inplace(y2, y1, (size_t)N * H);
  layernorm_fwd(y2, P + o.ln2g, P + o.ln2b, y2, training ? a.xhat2.data() : nullptr, a.rstd2.data(), N, H, shape.eps);
}

namespace {

// The attention probabilities after dropout: P itself without dropout, else a masked copy in `scratch`. Forward and
// backward call it alike, so the mask is replayed from the key, never stored.
const float* dropped(const float* P, float* scratch, size_t n, double p, uint32_t key, uint64_t base) {
  if (!(p > 0.0)) return P;
  std::memcpy(scratch, P, n * sizeof(float));
  dropout_block(scratch, n, p, key, base);
  return scratch;
}

// Runs body(bh, b, off, scratch) for every (batch row b, head) pair in parallel: `off` is where the head's columns
// start in a [B*T, H] activation, `scratch` holds 2*T*T floats of the calling thread.
template <class Body>
void for_each_head(int B, int nh, int T, int H, Body body) {
  const int d = H / nh;
  const size_t TT = (size_t)T * T;
  // An exception must not leave an OpenMP region (that is std::terminate): a scratch block too large to allocate (a
  // long sequence) is reported after the region as std::bad_alloc, which the addon throws as an Error.
  bool outOfMemory = false;
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < B * nh; bh++) {
    static thread_local std::vector<float> scratch;
    bool ok = true;
    try {
      if (scratch.size() < 2 * TT) scratch.resize(2 * TT);
    } catch (const std::bad_alloc&) {
      ok = false;
    }
    if (!ok) {
#pragma omp atomic write
      outOfMemory = true;
      continue;
    }
    const int b = bh / nh, h = bh % nh;
    body(bh, b, (size_t)b * T * H + (size_t)h * d, scratch.data());
  }
  if (outOfMemory) throw std::bad_alloc();
}

}  // namespace

void Encoder::attention_forward(int l, LayerActs& a, bool training) {
  const int H = shape.hidden, nh = shape.heads, d = H / nh, T = T_;
  const float sq = (float)std::sqrt((double)d);
  const double pa = training ? shape.attnDropout : 0.0;
  const uint32_t key = dropout_key(seed_, stream_of(l, 0));
  const size_t TT = (size_t)T * T;
  for_each_head(B_, nh, T, H, [&](int bh, int b, size_t off, float* tmp) {
    float* S = training ? a.P.data() + bh * TT : tmp;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d, 1.f, a.q.data() + off, H, a.k.data() + off, H, 0.f, S,
                T);
    const float* mb = maskBias_.data() + (size_t)b * T;
    for (int i = 0; i < T; i++) softmax_row(S + (size_t)i * T, mb, T, sq);
    const float* Pd = dropped(S, tmp + TT, TT, pa, key, bh * TT);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, T, 1.f, Pd, T, a.v.data() + off, H, 0.f,
                a.ctx.data() + off, H);
  });
}

void Encoder::backward(const float* dHidden) {
  if (!trained_) throw std::logic_error("backward needs a preceding forward with training: true");
  ensure_grads();
  const int H = shape.hidden, L = shape.layers;
  const size_t N = (size_t)B_ * T_;
  fit(d1_, N * H);
  fit(d2_, N * H);
  std::memcpy(d1_.data(), dHidden, sizeof(float) * N * H);
  std::vector<float>& d1 = d1_;
  std::vector<float>& d2 = d2_;
  fit(dA_, N * H);
  fit(dC_, N * H);
  fit(dQ_, N * H);
  fit(dK_, N * H);
  fit(dV_, N * H);
  fit(dF_, N * shape.ffn);
  for (int l = L - 1; l >= 0; l--) {
    const float* x = l == 0 ? embOut_.data() : acts_[l - 1].y2.data();
    layer_backward(l, x, acts_[l], d1.data(), d2.data());
    std::swap(d1, d2);
  }
  // Embeddings: dropout, LayerNorm, then scatter-add into the three tables.
  float* G = grads->data;
  const float* P = params->data;
  float* d = d1.data();
  dropout_apply(d, N * H, shape.hiddenDropout, seed_, kEmbeddingStream);
  layernorm_bwd(d, embXhat_.data(), embRstd_.data(), P + emb_.lng, d, G + emb_.lng, G + emb_.lnb, (int)N, H);
  for (size_t i = 0; i < N; i++)
    if (ids_[i] != shape.wordPad) touched_[ids_[i]] = 1;
  float *gw = G + emb_.word, *gp = G + emb_.pos, *gt = G + emb_.type;
#pragma omp parallel
  {
    // Threads own column ranges, so duplicate ids add up race-free and in token order.
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int chunk = (H + nt - 1) / nt, lo = std::min(H, t * chunk), hi = std::min(H, lo + chunk);
    for (size_t i = 0; i < N; i++) {
      const float* r = d + i * H;
      if (ids_[i] != shape.wordPad) {
        float* w = gw + (size_t)ids_[i] * H;
        for (int j = lo; j < hi; j++) w[j] += r[j];
      }
      if (pos_[i] != shape.posPad) {
        float* p = gp + (size_t)pos_[i] * H;
        for (int j = lo; j < hi; j++) p[j] += r[j];
      }
      float* tt = gt + (size_t)types_[i] * H;
      for (int j = lo; j < hi; j++) tt[j] += r[j];
    }
  }
}

static void dropout_copy(float* dst, const float* src, size_t n, double p, uint64_t seed, uint32_t stream) {
  copy_par(dst, src, n);
  dropout_apply(dst, n, p, seed, stream);
}

void Encoder::layer_backward(int l, const float* x, LayerActs& a, float* dy, float* dx) {
  const int H = shape.hidden, F = shape.ffn;
  const int N = B_ * T_;
  const size_t NH = (size_t)N * H;
  const LayerOffsets& o = lay_[l];
  const float* P = params->data;
  float* G = grads->data;
  const double pd = shape.hiddenDropout;
  // Output block: y2 = LN(y1 + Dropout(gelu(y1 W1) W2)).
  layernorm_bwd(dy, a.xhat2.data(), a.rstd2.data(), P + o.ln2g, dy, G + o.ln2g, G + o.ln2b, N, H);
  dropout_copy(dA_.data(), dy, NH, pd, seed_, stream_of(l, 2));
  linear_bwd(dA_.data(), a.g.data(), P + o.fW, G + o.fW, G + o.fb, dF_.data(), N, F, H, false);
  gelu_bwd(a.h1.data(), dF_.data(), (size_t)N * F);
  linear_bwd(dF_.data(), a.y1.data(), P + o.iW, G + o.iW, G + o.ib, dy, N, H, F, true);
  // Attention block: y1 = LN(x + Dropout(Attn(x) Wo)).
  layernorm_bwd(dy, a.xhat1.data(), a.rstd1.data(), P + o.ln1g, dy, G + o.ln1g, G + o.ln1b, N, H);
  copy_par(dx, dy, NH);
  dropout_copy(dA_.data(), dy, NH, pd, seed_, stream_of(l, 1));
  linear_bwd(dA_.data(), a.ctx.data(), P + o.oW, G + o.oW, G + o.ob, dC_.data(), N, H, H, false);
  attention_backward(l, a, dC_.data());
  linear_bwd(dQ_.data(), x, P + o.qW, G + o.qW, G + o.qb, dx, N, H, H, true);
  linear_bwd(dK_.data(), x, P + o.kW, G + o.kW, G + o.kb, dx, N, H, H, true);
  linear_bwd(dV_.data(), x, P + o.vW, G + o.vW, G + o.vb, dx, N, H, H, true);
}

void Encoder::attention_backward(int l, LayerActs& a, const float* dctx) {
  const int H = shape.hidden, nh = shape.heads, d = H / nh, T = T_;
  const float sq = (float)std::sqrt((double)d);
  const double pa = shape.attnDropout;
  const uint32_t key = dropout_key(seed_, stream_of(l, 0));
  const size_t TT = (size_t)T * T;
  for_each_head(B_, nh, T, H, [&](int bh, int, size_t off, float* tmp) {
    const float* Pr = a.P.data() + bh * TT;
    const float* Pd = dropped(Pr, tmp + TT, TT, pa, key, bh * TT);
    float* dP = tmp;
    // dV = Pd^T dctx; dPd = dctx V^T.
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, d, T, 1.f, Pd, T, dctx + off, H, 0.f, dV_.data() + off, H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d, 1.f, dctx + off, H, a.v.data() + off, H, 0.f, dP, T);
    if (pa > 0.0) dropout_block(dP, TT, pa, key, bh * TT);
    // Softmax backward, then the 1/sqrt(d) scaling of the scores.
    for (int i = 0; i < T; i++) {
      float* g = dP + (size_t)i * T;
      const float* p = Pr + (size_t)i * T;
      float dot = 0.f;
      for (int j = 0; j < T; j++) dot += g[j] * p[j];
      for (int j = 0; j < T; j++) g[j] = p[j] * (g[j] - dot) / sq;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, T, 1.f, dP, T, a.k.data() + off, H, 0.f,
                dQ_.data() + off, H);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, d, T, 1.f, dP, T, a.q.data() + off, H, 0.f,
                dK_.data() + off, H);
  });
}

void Encoder::zero_grads() {
  if (!grads) return;
  const int H = shape.hidden;
  float* G = grads->data;
  const size_t w0 = emb_.word, w1 = emb_.word + (size_t)shape.vocab * H;
  scale(G, w0, 0.f);
  scale(G + w1, total_ - w1, 0.f);
  for (int r = 0; r < shape.vocab; r++)
    if (touched_[r]) {
      std::memset(G + w0 + (size_t)r * H, 0, sizeof(float) * H);
      touched_[r] = 0;
    }
}

void Encoder::touch_all_rows() { std::fill(touched_.begin(), touched_.end(), 1); }

void Encoder::scale_grads(float f) {
  if (!grads) return;
  const int H = shape.hidden;
  float* G = grads->data;
  const size_t w0 = emb_.word, w1 = emb_.word + (size_t)shape.vocab * H;
  scale(G, w0, f);
  scale(G + w1, total_ - w1, f);
  for (int r = 0; r < shape.vocab; r++)
    if (touched_[r]) for (int j = 0; j < H; j++) G[w0 + (size_t)r * H + j] *= f;
}

double Encoder::grad_squared_norm() {
  if (!grads) return 0.0;
  const int H = shape.hidden;
  const float* G = grads->data;
  const size_t w0 = emb_.word, w1 = emb_.word + (size_t)shape.vocab * H;
  double s = sum_squares(G, w0) + sum_squares(G + w1, total_ - w1);
  for (int r = 0; r < shape.vocab; r++)
    if (touched_[r])
      for (int j = 0; j < H; j++) {
        const double x = G[w0 + (size_t)r * H + j];
        s += x * x;
      }
  return s;
}

void Encoder::adamw(const AdamW& a, const std::vector<size_t>& offsets, const std::vector<size_t>& lengths,
                    const std::vector<uint8_t>& decay) {
  ensure_grads();
  ensure_moments();
  float *P = params->data, *G = grads->data, *M = m->data, *V = v->data;
  for (size_t s = 0; s < offsets.size(); s++) {
    const size_t o = offsets[s], n = lengths[s];
    if (o > total_ || n > total_ - o) throw std::out_of_range("AdamW segment outside the parameter arena");
    if (o == emb_.word && n == (size_t)shape.vocab * shape.hidden)
      adamw_rows(P + o, G + o, M + o, V + o, touched_.data(), shape.vocab, shape.hidden, a, decay[s] != 0);
    else
      adamw_dense(P + o, G + o, M + o, V + o, n, a, decay[s] != 0);
  }
}

}  // namespace xlt
