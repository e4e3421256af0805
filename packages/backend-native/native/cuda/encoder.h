// The BERT / XLM-R encoder on a CUDA GPU: the same computation as the CPU encoder (../encoder.h), with parameters,
// gradients, AdamW moments and activations in device memory, matrix products through cuBLAS (blas.h) and the rest
// in ops.h's kernels. Parameters cross to the host only when asked for (checkpoints), one arena copy at a time.
#pragma once
#include <cstdint>
#include <vector>

#include "../encoder.h"
#include "blas.h"
#include "buffer.h"

namespace xlt {
namespace cuda {

/** Activations of one layer saved for backward (q, k, v in head layout [B, heads, T, d]). */
struct LayerActs {
  Buffer<float> qh, kh, vh, P, ctx, xhat1, rstd1, y1, h1, g, xhat2, rstd2, y2;
};

/** Which arena a host copy reads or writes. */
enum class Arena { parameters = 0, gradients = 1, firstMoments = 2, secondMoments = 3 };

class Encoder {
 public:
  Encoder(const EncoderShape& shape, size_t total, const EmbeddingOffsets& emb, const std::vector<LayerOffsets>& layers,
          Precision precision);

  const EncoderShape shape;
  const Precision precision;

  /** Copies a whole arena (total() floats) from host memory; moments and gradients are created on first use. */
  void upload(Arena which, const float* host);
  /** Copies floats offset .. offset + length of an arena to host memory (one tensor at a time for checkpoints). */
  void download(Arena which, size_t offset, size_t length, float* host);

  /** Writes the last hidden state [B*T*H] to `hidden` (host). Throws std::out_of_range on bad ids. */
  void forward(const int32_t* ids, const int32_t* types, const int32_t* mask, const int32_t* pos, int B, int T,
               bool training, uint64_t seed, float* hidden);
  /** Adds the gradients of sum(hidden * dHidden) for the last training forward (dHidden on the host). */
  void backward(const float* dHidden);

  void zero_grads();
  void scale_grads(float f);
  double grad_squared_norm();
  void adamw(const AdamW& a, const std::vector<size_t>& offsets, const std::vector<size_t>& lengths,
             const std::vector<uint8_t>& decay);
  bool has_training_forward() const { return trained_; }
  size_t expected_hidden_size() const { return (size_t)B_ * T_ * shape.hidden; }
  size_t total() const { return total_; }

 private:
  EmbeddingOffsets emb_;
  std::vector<LayerOffsets> lay_;
  size_t total_;
  Buffer<float> params_, grads_, m_, v_;
  // bf16 copy of the parameters, refreshed after every change (bf16 precision only).
  Buffer<bf16> params16_;
  // Last forward.
  int B_ = 0, T_ = 0;
  bool trained_ = false;
  uint64_t seed_ = 0;
  Buffer<int32_t> ids_, types_, pos_;
  Buffer<float> maskBias_, embXhat_, embRstd_, embOut_;
  std::vector<LayerActs> acts_;
  // Scratch: row-layout q/k/v, head-layout context, dropped probabilities, backward temporaries, bf16 operands.
  Buffer<float> q_, k_, vrow_, ctxh_, Pd_, S_, d1_, d2_, dA_, dF_, dC_, dCh_, dQh_, dKh_, dVh_, dP_, dQ_, dK_, dV_;
  Buffer<bf16> in16_[2];
  Buffer<double> norm_;

  float* P() { return params_.get(); }
  float* G() { return grads_.get(); }
  void ensure_grads();
  void ensure_moments();
  void refresh_bf16();
  /** A GEMM operand: `x` itself, or (bf16) its bf16 copy in slot `slot`. */
  const void* operand(const float* x, size_t n, int slot);
  /** A weight operand at parameter offset `off`: fp32 parameters, or their bf16 copy. */
  const void* weight(size_t off);
  void mm(bool ta, bool tb, int M, int N, int K, const void* A, int lda, long long sA, const void* B, int ldb,
          long long sB, float beta, float* C, int ldc, long long sC, int batch);
  void linear(const float* X, size_t W, size_t b, float* Y, int N, int I, int O);
  void linear_backward(const float* dY, const float* X, size_t W, size_t b, float* dX, int N, int I, int O,
                       bool accumulate);
  void layer_forward(int l, const float* x, LayerActs& a, bool training);
  void layer_backward(int l, const float* x, LayerActs& a, float* dy, float* dx);
  void attention_forward(int l, LayerActs& a, bool training);
  void attention_backward(int l, LayerActs& a, const float* dctx);
};

}  // namespace cuda
}  // namespace xlt
