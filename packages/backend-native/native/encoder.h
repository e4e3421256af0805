// A BERT / XLM-R encoder (post-LN, exact GELU) with hand-written forward and backward over one parameter arena.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels.h"

namespace xlt {

/** Shapes and rates of the encoder (HF config fields). */
struct EncoderShape {
  int layers, hidden, heads, ffn, vocab, maxPos, typeVocab;
  float eps;
  /** Dropout rates as given (double: the rule's threshold floor(p * 2^32) must match JS's). */
  double hiddenDropout, attnDropout;
  /** Rows whose embedding gets no gradient (nn.Embedding padding_idx), -1 for none. */
  int wordPad, posPad;
};

/**
 * Throws std::out_of_range naming the first bad element: ids, token types and positions outside their tables, or a
 * mask value other than 0 and 1. Every backend of the addon checks a batch with it before using it.
 */
void check_batch(const EncoderShape& shape, const int32_t* ids, const int32_t* types, const int32_t* mask,
                 const int32_t* pos, size_t N);

/** Offsets (in floats) of one layer's tensors inside the arena. */
struct LayerOffsets {
  size_t qW, qb, kW, kb, vW, vb, oW, ob, ln1g, ln1b, iW, ib, fW, fb, ln2g, ln2b;
};

/** Offsets of the embedding tensors inside the arena. */
struct EmbeddingOffsets {
  size_t word, pos, type, lng, lnb;
};

/** A zero-initialised float block that lives until its last holder (the encoder or a JS view) lets go. */
struct Arena {
  float* data = nullptr;
  size_t size = 0;
  explicit Arena(size_t n);
  ~Arena();
};
using ArenaRef = std::shared_ptr<Arena>;

/** Activations of one layer saved for backward. */
struct LayerActs {
  std::vector<float> q, k, v, P, ctx, xhat1, rstd1, y1, h1, g, xhat2, rstd2, y2;
};

/** One encoder: parameters, gradients, AdamW moments and the activations of the last training forward. */
class Encoder {
 public:
  Encoder(const EncoderShape& shape, size_t total, const EmbeddingOffsets& emb, const std::vector<LayerOffsets>& layers);

  const EncoderShape shape;
  ArenaRef params, grads, m, v;

  /** Allocates gradients (zero) on first use. */
  void ensure_grads();
  void ensure_moments();

  /** Returns the last hidden state [B*T*H]. Throws std::out_of_range on bad ids. */
  const float* forward(const int32_t* ids, const int32_t* types, const int32_t* mask, const int32_t* pos, int B, int T,
                       bool training, uint64_t seed);
  /** Adds the gradients of sum(hidden * dHidden) for the last training forward. */
  void backward(const float* dHidden);

  void zero_grads();
  void scale_grads(float f);
  double grad_squared_norm();
  /** segments: (offset, length, decay) triples covering the parameters to update. */
  void adamw(const AdamW& a, const std::vector<size_t>& offsets, const std::vector<size_t>& lengths,
             const std::vector<uint8_t>& decay);
  /** Marks every word-embedding row as possibly having a gradient (after gradients were written from outside). */
  void touch_all_rows();
  /** Whether the last forward ran with training (backward needs its activations). */
  bool has_training_forward() const { return trained_; }
  /** Elements of the last forward's hidden state (B*T*H). */
  size_t expected_hidden_size() const { return (size_t)B_ * T_ * shape.hidden; }
  /** Floats in each arena. */
  size_t total() const { return total_; }

 private:
  EmbeddingOffsets emb_;
  std::vector<LayerOffsets> lay_;
  size_t total_;
  std::vector<uint8_t> touched_;
  // Last forward.
  int B_ = 0, T_ = 0;
  bool trained_ = false;
  uint64_t seed_ = 0;
  std::vector<int32_t> ids_, types_, pos_;
  std::vector<float> maskBias_;
  std::vector<float> embXhat_, embRstd_, embOut_;
  std::vector<LayerActs> acts_;
  // Backward scratch.
  std::vector<float> d1_, d2_, dA_, dX_, dF_, dQ_, dK_, dV_, dC_;

  void layer_forward(int l, const float* x, LayerActs& a, bool training);
  void layer_backward(int l, const float* x, LayerActs& a, float* dy, float* dx);
  void attention_forward(int l, LayerActs& a, bool training);
  void attention_backward(int l, LayerActs& a, const float* dctx);
};

}  // namespace xlt
