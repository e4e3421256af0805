#include "encoder.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <stdexcept>
#include <string>

#include "../kernels.h"
#include "ops.h"

namespace xlt {
namespace cuda {

namespace {
// Dropout sites of xlt's rule (../kernels.h), as on the CPU: embeddings 0, then three per layer.
inline uint32_t site(int layer, int s) { return 1 + 3 * (uint32_t)layer + (uint32_t)s; }

void copy(float* dst, const float* src, size_t n) {
  check(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice), "cudaMemcpy device to device");
}
}  // namespace

Encoder::Encoder(const EncoderShape& s, size_t total, const EmbeddingOffsets& emb,
                 const std::vector<LayerOffsets>& layers, Precision p)
    : shape(s), precision(p), emb_(emb), lay_(layers), total_(total) {
  if (s.hidden % s.heads) throw std::invalid_argument("hidden size must be divisible by the number of heads");
  const std::string blas = blas_load();
  if (!blas.empty()) throw std::runtime_error(blas);
  params_.fit(total);
  params_.zero();
  refresh_bf16();
}

void Encoder::ensure_grads() {
  if (grads_.empty()) {
    grads_.fit(total_);
    grads_.zero();
  }
}

void Encoder::ensure_moments() {
  if (m_.empty()) {
    m_.fit(total_);
    m_.zero();
  }
  if (v_.empty()) {
    v_.fit(total_);
    v_.zero();
  }
}

void Encoder::refresh_bf16() {
  if (precision != Precision::bf16) return;
  params16_.fit(total_);
  to_bf16(params_.get(), params16_.get(), total_);
}

static Buffer<float>& arena_of(Arena which, Buffer<float>& p, Buffer<float>& g, Buffer<float>& m, Buffer<float>& v) {
  switch (which) {
    case Arena::parameters: return p;
    case Arena::gradients: return g;
    case Arena::firstMoments: return m;
    default: return v;
  }
}

void Encoder::upload(Arena which, const float* host) {
  if (which == Arena::gradients) ensure_grads();
  if (which == Arena::firstMoments || which == Arena::secondMoments) ensure_moments();
  Buffer<float>& b = arena_of(which, params_, grads_, m_, v_);
  check(cudaMemcpy(b.get(), host, total_ * sizeof(float), cudaMemcpyHostToDevice), "upload");
  if (which == Arena::parameters) refresh_bf16();
}

void Encoder::download(Arena which, size_t offset, size_t length, float* host) {
  if (offset > total_ || length > total_ - offset) throw std::out_of_range("download: range outside the arena");
  if (which == Arena::gradients) ensure_grads();
  if (which == Arena::firstMoments || which == Arena::secondMoments) ensure_moments();
  Buffer<float>& b = arena_of(which, params_, grads_, m_, v_);
  check(cudaMemcpy(host, b.get() + offset, length * sizeof(float), cudaMemcpyDeviceToHost), "download");
}

const void* Encoder::operand(const float* x, size_t n, int slot) {
  if (precision != Precision::bf16) return x;
  bf16* y = in16_[slot].fit(n);
  to_bf16(x, y, n);
  return y;
}

const void* Encoder::weight(size_t off) {
  if (precision != Precision::bf16) return params_.get() + off;
  return params16_.get() + off;
}

void Encoder::mm(bool ta, bool tb, int M, int N, int K, const void* A, int lda, long long sA, const void* B, int ldb,
                 long long sB, float beta, float* C, int ldc, long long sC, int batch) {
  gemm(ta, tb, M, N, K, 1.f, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, batch, precision == Precision::bf16, precision);
}

// Y[N,O] = X[N,I] W[O,I]^T + b (HF's linear layout).
void Encoder::linear(const float* X, size_t W, size_t b, float* Y, int N, int I, int O) {
  mm(false, true, N, O, I, operand(X, (size_t)N * I, 0), I, 0, weight(W), I, 0, 0.f, Y, O, 0, 1);
  add_bias(Y, P() + b, N, O);
}

// dW += dY^T X, db += colsum(dY), dX (=, or += when accumulate) dY W.
void Encoder::linear_backward(const float* dY, const float* X, size_t W, size_t b, float* dX, int N, int I, int O,
                              bool accumulate) {
  const void* dy = operand(dY, (size_t)N * O, 0);
  mm(true, false, O, I, N, dy, O, 0, operand(X, (size_t)N * I, 1), I, 0, 1.f, G() + W, I, 0, 1);
  column_sum(dY, G() + b, N, O);
  mm(false, false, N, I, O, dy, O, 0, weight(W), I, 0, accumulate ? 1.f : 0.f, dX, I, 0, 1);
}

void Encoder::forward(const int32_t* ids, const int32_t* types, const int32_t* mask, const int32_t* pos, int B, int T,
                      bool training, uint64_t seed, float* hidden) {
  const int H = shape.hidden;
  const size_t N = (size_t)B * T;
  check_batch(shape, ids, types, mask, pos, N);
  B_ = B;
  T_ = T;
  seed_ = seed;
  trained_ = false;
  check(cudaMemcpy(ids_.fit(N), ids, N * sizeof(int32_t), cudaMemcpyHostToDevice), "upload ids");
  check(cudaMemcpy(types_.fit(N), types, N * sizeof(int32_t), cudaMemcpyHostToDevice), "upload token types");
  check(cudaMemcpy(pos_.fit(N), pos, N * sizeof(int32_t), cudaMemcpyHostToDevice), "upload positions");
  // HF's extended attention mask: (1 - mask) * finfo(float32).min, added to the scaled scores.
  std::vector<float> bias(N);
  for (size_t i = 0; i < N; i++) bias[i] = (1.f - (float)mask[i]) * -FLT_MAX;
  check(cudaMemcpy(maskBias_.fit(N), bias.data(), N * sizeof(float), cudaMemcpyHostToDevice), "upload mask");

  float* e = embOut_.fit(N * H);
  embed(ids_.get(), types_.get(), pos_.get(), P() + emb_.word, P() + emb_.pos, P() + emb_.type, e, (int)N, H);
  residual_layernorm(e, 0.0, 0, nullptr, P() + emb_.lng, P() + emb_.lnb, e, training ? embXhat_.fit(N * H) : nullptr,
                     embRstd_.fit(N), (int)N, H, shape.eps);
  if (training) dropout(e, N * H, shape.hiddenDropout, dropout_key(seed, 0), 0);
  const int L = shape.layers;
  const size_t keep = training ? (size_t)L : (size_t)std::min(L, 2);
  if (acts_.size() < keep) acts_.resize(keep);
  const float* x = e;
  for (int l = 0; l < L; l++) {
    LayerActs& a = training ? acts_[l] : acts_[l % 2];
    layer_forward(l, x, a, training);
    x = a.y2.get();
  }
  check(cudaMemcpy(hidden, x, N * H * sizeof(float), cudaMemcpyDeviceToHost), "download hidden state");
  trained_ = training;
}

void Encoder::layer_forward(int l, const float* x, LayerActs& a, bool training) {
  const int H = shape.hidden, F = shape.ffn, N = B_ * T_;
  const size_t NH = (size_t)N * H;
  const LayerOffsets& o = lay_[l];
  const double pd = training ? shape.hiddenDropout : 0.0;
  linear(x, o.qW, o.qb, q_.fit(NH), N, H, H);
  linear(x, o.kW, o.kb, k_.fit(NH), N, H, H);
  linear(x, o.vW, o.vb, vrow_.fit(NH), N, H, H);
  attention_forward(l, a, training);
  float* y1 = a.y1.fit(NH);
  linear(a.ctx.get(), o.oW, o.ob, y1, N, H, H);
  residual_layernorm(y1, pd, dropout_key(seed_, site(l, 1)), x, P() + o.ln1g, P() + o.ln1b, y1,
                     training ? a.xhat1.fit(NH) : nullptr, a.rstd1.fit(N), N, H, shape.eps);
  float* h1 = a.h1.fit((size_t)N * F);
  mm(false, true, N, F, H, operand(y1, NH, 0), H, 0, weight(o.iW), H, 0, 0.f, h1, F, 0, 1);
  bias_gelu(h1, P() + o.ib, a.g.fit((size_t)N * F), N, F);
  float* y2 = a.y2.fit(NH);
  linear(a.g.get(), o.fW, o.fb, y2, N, F, H);
  residual_layernorm(y2, pd, dropout_key(seed_, site(l, 2)), y1, P() + o.ln2g, P() + o.ln2b, y2,
                     training ? a.xhat2.fit(NH) : nullptr, a.rstd2.fit(N), N, H, shape.eps);
}

void Encoder::attention_forward(int l, LayerActs& a, bool training) {
  const int H = shape.hidden, nh = shape.heads, d = H / nh, T = T_, B = B_, BH = B * nh;
  const size_t NH = (size_t)B * T * H, TT = (size_t)T * T, Td = (size_t)T * d;
  split_heads(q_.get(), a.qh.fit(NH), B, T, nh, d);
  split_heads(k_.get(), a.kh.fit(NH), B, T, nh, d);
  split_heads(vrow_.get(), a.vh.fit(NH), B, T, nh, d);
  float* S = training ? a.P.fit(BH * TT) : S_.fit(BH * TT);
  mm(false, true, T, T, d, operand(a.qh.get(), NH, 0), d, Td, operand(a.kh.get(), NH, 1), d, Td, 0.f, S, T, TT, BH);
  masked_softmax(S, maskBias_.get(), BH * T, T, nh, (float)std::sqrt((double)d));
  const double pa = training ? shape.attnDropout : 0.0;
  const float* Pd = S;
  if (pa > 0.0) {
    copy(Pd_.fit(BH * TT), S, BH * TT);
    dropout(Pd_.get(), BH * TT, pa, dropout_key(seed_, site(l, 0)), 0);
    Pd = Pd_.get();
  }
  float* ctxh = ctxh_.fit(NH);
  mm(false, false, T, d, T, operand(Pd, BH * TT, 0), T, TT, operand(a.vh.get(), NH, 1), d, Td, 0.f, ctxh, d, Td, BH);
  merge_heads(ctxh, a.ctx.fit(NH), B, T, nh, d);
}

void Encoder::backward(const float* dHidden) {
  if (!trained_) throw std::logic_error("backward needs a preceding forward with training: true");
  ensure_grads();
  const int H = shape.hidden, L = shape.layers;
  const size_t N = (size_t)B_ * T_, NH = N * H;
  float* d1 = d1_.fit(NH);
  float* d2 = d2_.fit(NH);
  check(cudaMemcpy(d1, dHidden, NH * sizeof(float), cudaMemcpyHostToDevice), "upload dHidden");
  dA_.fit(NH);
  dC_.fit(NH);
  dQ_.fit(NH);
  dK_.fit(NH);
  dV_.fit(NH);
  dF_.fit(N * shape.ffn);
  for (int l = L - 1; l >= 0; l--) {
    const float* x = l == 0 ? embOut_.get() : acts_[l - 1].y2.get();
    layer_backward(l, x, acts_[l], d1, d2);
    std::swap(d1, d2);
  }
  // Embeddings: dropout, LayerNorm, then the token-ordered scatter-add into the three tables.
  dropout(d1, NH, shape.hiddenDropout, dropout_key(seed_, 0), 0);
  layernorm_backward(d1, embXhat_.get(), embRstd_.get(), P() + emb_.lng, d1, G() + emb_.lng, G() + emb_.lnb, (int)N, H);
  embedding_backward(d1, ids_.get(), pos_.get(), types_.get(), G() + emb_.word, G() + emb_.pos, G() + emb_.type,
                     (int)N, H, shape.wordPad, shape.posPad);
}

void Encoder::layer_backward(int l, const float* x, LayerActs& a, float* dy, float* dx) {
  const int H = shape.hidden, F = shape.ffn, N = B_ * T_;
  const size_t NH = (size_t)N * H;
  const LayerOffsets& o = lay_[l];
  const double pd = shape.hiddenDropout;
  // Output block: y2 = LN(y1 + Dropout(gelu(y1 W1) W2)).
  layernorm_backward(dy, a.xhat2.get(), a.rstd2.get(), P() + o.ln2g, dy, G() + o.ln2g, G() + o.ln2b, N, H);
  copy(dA_.get(), dy, NH);
  dropout(dA_.get(), NH, pd, dropout_key(seed_, site(l, 2)), 0);
  linear_backward(dA_.get(), a.g.get(), o.fW, o.fb, dF_.get(), N, F, H, false);
  gelu_backward(a.h1.get(), dF_.get(), (size_t)N * F);
  linear_backward(dF_.get(), a.y1.get(), o.iW, o.ib, dy, N, H, F, true);
  // Attention block: y1 = LN(x + Dropout(Attn(x) Wo)).
  layernorm_backward(dy, a.xhat1.get(), a.rstd1.get(), P() + o.ln1g, dy, G() + o.ln1g, G() + o.ln1b, N, H);
  copy(dx, dy, NH);
  copy(dA_.get(), dy, NH);
  dropout(dA_.get(), NH, pd, dropout_key(seed_, site(l, 1)), 0);
  linear_backward(dA_.get(), a.ctx.get(), o.oW, o.ob, dC_.get(), N, H, H, false);
  attention_backward(l, a, dC_.get());
  linear_backward(dQ_.get(), x, o.qW, o.qb, dx, N, H, H, true);
  linear_backward(dK_.get(), x, o.kW, o.kb, dx, N, H, H, true);
  linear_backward(dV_.get(), x, o.vW, o.vb, dx, N, H, H, true);
}

void Encoder::attention_backward(int l, LayerActs& a, const float* dctx) {
  const int H = shape.hidden, nh = shape.heads, d = H / nh, T = T_, B = B_, BH = B * nh;
  const size_t NH = (size_t)B * T * H, TT = (size_t)T * T, Td = (size_t)T * d;
  const double pa = shape.attnDropout;
  const uint32_t key = dropout_key(seed_, site(l, 0));
  const float* Pr = a.P.get();
  const float* Pd = Pr;
  if (pa > 0.0) {
    // The dropped probabilities are replayed from the key, never stored.
    copy(Pd_.fit(BH * TT), Pr, BH * TT);
    dropout(Pd_.get(), BH * TT, pa, key, 0);
    Pd = Pd_.get();
  }
  float* dCh = dCh_.fit(NH);
  split_heads(dctx, dCh, B, T, nh, d);
  // dV = Pd^T dctx; dPd = dctx V^T.
  const void* dc = operand(dCh, NH, 0);
  mm(true, false, T, d, T, operand(Pd, BH * TT, 1), T, TT, dc, d, Td, 0.f, dVh_.fit(NH), d, Td, BH);
  float* dP = dP_.fit(BH * TT);
  mm(false, true, T, T, d, dc, d, Td, operand(a.vh.get(), NH, 1), d, Td, 0.f, dP, T, TT, BH);
  dropout(dP, BH * TT, pa, key, 0);
  softmax_backward(dP, Pr, BH * T, T, (float)std::sqrt((double)d));
  const void* dp = operand(dP, BH * TT, 0);
  mm(false, false, T, d, T, dp, T, TT, operand(a.kh.get(), NH, 1), d, Td, 0.f, dQh_.fit(NH), d, Td, BH);
  mm(true, false, T, d, T, dp, T, TT, operand(a.qh.get(), NH, 1), d, Td, 0.f, dKh_.fit(NH), d, Td, BH);
  merge_heads(dQh_.get(), dQ_.get(), B, T, nh, d);
  merge_heads(dKh_.get(), dK_.get(), B, T, nh, d);
  merge_heads(dVh_.get(), dV_.get(), B, T, nh, d);
}

void Encoder::zero_grads() {
  if (!grads_.empty()) grads_.zero();
}

void Encoder::scale_grads(float f) {
  if (!grads_.empty()) scale(G(), total_, f);
}

double Encoder::grad_squared_norm() {
  if (grads_.empty()) return 0.0;
  return sum_squares(G(), total_, norm_.fit(sum_squares_scratch(total_)));
}

void Encoder::adamw(const AdamW& a, const std::vector<size_t>& offsets, const std::vector<size_t>& lengths,
                    const std::vector<uint8_t>& decay) {
  ensure_grads();
  ensure_moments();
  const double bc1 = 1.0 - std::pow(a.b1, a.step), bc2 = 1.0 - std::pow(a.b2, a.step);
  const float stepSize = (float)(a.lr / bc1), sqrtBc2 = (float)std::sqrt(bc2);
  const float b1 = (float)a.b1, b2 = (float)a.b2, c1 = (float)(1.0 - a.b1), c2 = (float)(1.0 - a.b2), eps = (float)a.eps;
  for (size_t s = 0; s < offsets.size(); s++) {
    const size_t o = offsets[s], n = lengths[s];
    if (o > total_ || n > total_ - o) throw std::out_of_range("AdamW segment outside the parameter arena");
    const float decayMul = decay[s] ? (float)(1.0 - a.lr * a.wd) : 1.f;
    cuda::adamw(P() + o, G() + o, m_.get() + o, v_.get() + o, n, decayMul, b1, b2, c1, c2, stepSize, sqrtBc2, eps);
  }
  refresh_bf16();
}

}  // namespace cuda
}  // namespace xlt
