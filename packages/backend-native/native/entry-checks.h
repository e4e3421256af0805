// Argument checks of the addon's entry points, in plain C++ (no N-API): addon.cc only turns JavaScript values into
// doubles, lengths and pointers and calls these, and the fuzz harness (fuzz/addon-entry-points.fuzz.cc) calls the very
// same functions with the raw doubles JavaScript could pass. A check that refuses throws ArgumentError, which the
// addon throws to JavaScript as a TypeError / RangeError / Error with the same message. Nothing here sizes, indexes
// or allocates anything with an unchecked value.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "encoder.h"
#include "kernels.h"

namespace xlt {

/** A refused argument: the only exception type a check throws. */
class ArgumentError : public std::exception {
 public:
  enum Kind { kError = 0, kTypeError = 1, kRangeError = 2 };
  ArgumentError(Kind k, std::string m) : kind(k), message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
  Kind kind;
  std::string message;
};

/** A whole number in [lo, hi] (sizes and counts from JavaScript), else a RangeError naming `what`. */
int checkWhole(double d, const char* what, double lo, double hi = 2147483647.0);

/** `elements` must equal `expected` (a typed array's length), else a RangeError naming `what`. */
void checkLength(const char* what, size_t expected, size_t elements);

/** The fields of the JS shape object, as numbers. */
struct ShapeArgs {
  double layers, hidden, heads, ffn, vocab, maxPos, typeVocab, eps, hiddenDropout, attnDropout, wordPad, posPad;
};
EncoderShape checkShape(const ShapeArgs& a);

/** The parameter arena's size in floats: a whole number in [1, 2^53 - 1]. */
size_t checkTotal(double total);

/** Offsets of the encoder's tensors, checked to lie wholly inside the arena. */
struct Layout {
  EmbeddingOffsets emb;
  std::vector<LayerOffsets> layers;
};
/** Elements of the layout array: 5 embedding offsets, then 16 per layer. */
size_t layoutLength(const EncoderShape& shape);
/** Floats of tensor i of the layout (in layout order). */
double layoutTensorSize(const EncoderShape& shape, size_t i);
Layout checkLayout(const EncoderShape& shape, size_t total, const double* offsets, size_t n);

/** forward(ids, types, mask, pos, B, T, training, seed): sizes, the four arrays' lengths and the seed (the ids and
 * the mask values are checked by Encoder::forward, which throws std::out_of_range). */
struct ForwardArgs {
  int batchSize, sequenceLength;
  size_t tokens;
  uint64_t seed;
};
ForwardArgs checkForward(const EncoderShape& shape, double batchSize, double sequenceLength, size_t nIds, size_t nTypes,
                         size_t nMask, size_t nPos, double seed);

/** backward(dHidden): needs a training forward and exactly its [B, T, H] elements. */
void checkBackward(bool trainingForward, size_t expected, size_t elements);

/** gemm(transA, transB, M, N, K, alpha, A, B, beta, C) over buffers of nA, nB, nC floats. */
struct GemmArgs {
  bool ta, tb;
  int M, N, K, lda, ldb, ldc;
  float alpha, beta;
};
GemmArgs checkGemm(bool ta, bool tb, double M, double N, double K, double alpha, double beta, size_t nA, size_t nB,
                   size_t nC);

/** gemm's C must not share memory with A or B (views of one ArrayBuffer): BLAS would read what it already wrote. */
void checkGemmBuffers(const float* A, size_t nA, const float* B, size_t nB, const float* C, size_t nC);

/** dropoutMask(seed, site, rate, out). */
struct DropoutArgs {
  uint64_t seed;
  uint32_t site;
  double rate;
};
DropoutArgs checkDropoutMask(double seed, double site, double rate);

/** adamw({lr, b1, b2, eps, wd, step}, segments): hyperparameters, then (offset, length, decay) triples. */
AdamW checkAdamw(double lr, double b1, double b2, double eps, double wd, double step);
struct Segments {
  std::vector<size_t> offsets, lengths;
  std::vector<uint8_t> decay;
};
Segments checkSegments(const double* segments, size_t n, size_t total);

/** setThreads(n). */
int checkThreads(double n);

}  // namespace xlt
