#include "entry-checks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace xlt {

namespace {

[[noreturn]] void range(std::string message) { throw ArgumentError(ArgumentError::kRangeError, std::move(message)); }

}  // namespace

int checkWhole(double d, const char* what, double lo, double hi) {
  if (!(d >= lo && d <= hi && d == std::floor(d)))
    range(std::string(what) + ": expected a whole number in [" + std::to_string((long long)lo) + ", " + std::to_string((long long)hi) +
          "], found " + std::to_string(d));
  return (int)d;
}

void checkLength(const char* what, size_t expected, size_t elements) {
  if (elements != expected) range(std::string(what) + ": expected " + std::to_string(expected) + " elements, found " + std::to_string(elements));
}

EncoderShape checkShape(const ShapeArgs& a) {
  EncoderShape sh{};
  sh.layers = checkWhole(a.layers, "layers", 0, 1024);
  sh.hidden = checkWhole(a.hidden, "hidden", 1, 1 << 16);
  sh.heads = checkWhole(a.heads, "heads", 1, sh.hidden);
  if (sh.hidden % sh.heads != 0) range("heads: must divide hidden (" + std::to_string(sh.hidden) + "), found " + std::to_string(sh.heads));
  sh.ffn = checkWhole(a.ffn, "ffn", 1, 1 << 20);
  sh.vocab = checkWhole(a.vocab, "vocab", 1);
  sh.maxPos = checkWhole(a.maxPos, "maxPos", 1, 1 << 20);
  sh.typeVocab = checkWhole(a.typeVocab, "typeVocab", 1, 1 << 16);
  sh.eps = (float)a.eps;
  if (!(sh.eps > 0 && sh.eps <= std::numeric_limits<float>::max())) range("eps: must be positive and finite as a float32, found " + std::to_string(a.eps));
  sh.hiddenDropout = a.hiddenDropout;
  sh.attnDropout = a.attnDropout;
  if (!(sh.hiddenDropout >= 0 && sh.hiddenDropout < 1 && sh.attnDropout >= 0 && sh.attnDropout < 1)) range("dropout rates must be in [0, 1)");
  sh.wordPad = checkWhole(a.wordPad, "wordPad", -1, sh.vocab - 1);
  sh.posPad = checkWhole(a.posPad, "posPad", -1, sh.maxPos - 1);
  return sh;
}

size_t checkTotal(double total) {
  if (!(total >= 1 && total <= 9007199254740991.0 && total == std::floor(total))) range("total: expected a whole number of floats >= 1");
  return (size_t)total;
}

size_t layoutLength(const EncoderShape& shape) { return 5 + 16 * (size_t)shape.layers; }

double layoutTensorSize(const EncoderShape& shape, size_t i) {
  const double H = shape.hidden, F = shape.ffn;
  const double embSizes[5] = {shape.vocab * H, shape.maxPos * H, shape.typeVocab * H, H, H};
  const double layerSizes[16] = {H * H, H, H * H, H, H * H, H, H * H, H, H, H, F * H, F, H * F, H, H, H};
  return i < 5 ? embSizes[i] : layerSizes[(i - 5) % 16];
}

Layout checkLayout(const EncoderShape& shape, size_t total, const double* off, size_t n) {
  const size_t nOff = layoutLength(shape);
  checkLength("layout", nOff, n);
  // Every tensor must lie wholly inside the arena: a large vocabulary over a small buffer must not reach past it.
  for (size_t i = 0; i < nOff; i++) {
    const double size = layoutTensorSize(shape, i);
    if (!(off[i] >= 0 && off[i] == std::floor(off[i]) && off[i] + size <= (double)total))
      range("layout[" + std::to_string(i) + "]: a tensor of " + std::to_string((long long)size) + " floats at offset " + std::to_string(off[i]) +
            " does not fit in the parameter arena of " + std::to_string(total) + " floats");
  }
  // No two tensors may share floats: the word table's gradient rows are zeroed, scaled and summed by the rows a batch
  // touched, so another tensor inside it would silently keep stale gradients (and AdamW would update shared floats twice).
  std::vector<std::pair<double, size_t>> order(nOff);
  for (size_t i = 0; i < nOff; i++) order[i] = {off[i], i};
  std::sort(order.begin(), order.end());
  for (size_t k = 1; k < nOff; k++) {
    const size_t a = order[k - 1].second, b = order[k].second;
    if (off[a] + layoutTensorSize(shape, a) > off[b])
      range("layout[" + std::to_string(std::min(a, b)) + "] and layout[" + std::to_string(std::max(a, b)) + "]: tensors at offsets " +
            std::to_string((long long)off[a]) + " (" + std::to_string((long long)layoutTensorSize(shape, a)) + " floats) and " +
            std::to_string((long long)off[b]) + " overlap");
  }
  Layout out;
  out.emb = EmbeddingOffsets{(size_t)off[0], (size_t)off[1], (size_t)off[2], (size_t)off[3], (size_t)off[4]};
  out.layers.resize(shape.layers);
  for (int l = 0; l < shape.layers; l++) {
    size_t* dst = reinterpret_cast<size_t*>(&out.layers[l]);
    for (int k = 0; k < 16; k++) dst[k] = (size_t)off[5 + 16 * l + k];
  }
  return out;
}

ForwardArgs checkForward(const EncoderShape& shape, double batchSize, double sequenceLength, size_t nIds, size_t nTypes,
                         size_t nMask, size_t nPos, double seed) {
  ForwardArgs f;
  f.batchSize = checkWhole(batchSize, "batchSize", 1);
  f.sequenceLength = checkWhole(sequenceLength, "sequenceLength", 1);
  f.tokens = (size_t)f.batchSize * f.sequenceLength;
  // The encoder counts tokens and (batch row, head) pairs in int.
  if (f.tokens > 2147483647u || (size_t)f.batchSize * shape.heads > 2147483647u)
    range("batchSize * sequenceLength: " + std::to_string(f.tokens) + " tokens (" + std::to_string(shape.heads) +
          " heads) exceed what the encoder indexes with 32-bit integers");
  checkLength("inputIds", f.tokens, nIds);
  checkLength("tokenTypeIds", f.tokens, nTypes);
  checkLength("attentionMask", f.tokens, nMask);
  checkLength("positionIds", f.tokens, nPos);
  // The dropout seed: a non-negative safe integer, as the TS runtime requires (found by the fuzzer: a negative or NaN
  // seed used to be cast to uint64_t unchecked, which is undefined behaviour).
  if (!(seed >= 0 && seed <= 9007199254740991.0 && seed == std::floor(seed)))
    range("seed: expected a non-negative safe integer, found " + std::to_string(seed));
  f.seed = (uint64_t)seed;
  return f;
}

void checkBackward(bool trainingForward, size_t expected, size_t elements) {
  if (!trainingForward) throw ArgumentError(ArgumentError::kError, "backward needs a preceding forward with training: true");
  if (elements != expected)
    range("dHidden: expected " + std::to_string(expected) + " elements (the last forward's [B, T, H]), found " + std::to_string(elements));
}

GemmArgs checkGemm(bool ta, bool tb, double M, double N, double K, double alpha, double beta, size_t nA, size_t nB,
                   size_t nC) {
  GemmArgs g;
  g.ta = ta;
  g.tb = tb;
  // Whole numbers in [1, 2^31 - 1] before any cast (found by the fuzzer: a NaN, fractional or huge size used to be cast
  // to int unchecked, undefined behaviour and sizes other than the ones JavaScript passed).
  const auto size = [](double d) { return d >= 1 && d <= 2147483647.0 && d == std::floor(d); };
  if (!(size(M) && size(N) && size(K)))
    range("gemm: M, N and K must be positive whole numbers (at most 2147483647), found M = " + std::to_string(M) + ", N = " +
          std::to_string(N) + ", K = " + std::to_string(K));
  g.M = (int)M;
  g.N = (int)N;
  g.K = (int)K;
  g.alpha = (float)alpha;
  g.beta = (float)beta;
  checkLength("A", (size_t)g.M * g.K, nA);
  checkLength("B", (size_t)g.K * g.N, nB);
  checkLength("C", (size_t)g.M * g.N, nC);
  g.lda = ta ? g.M : g.K;
  g.ldb = tb ? g.K : g.N;
  g.ldc = g.N;
  return g;
}

void checkGemmBuffers(const float* A, size_t nA, const float* B, size_t nB, const float* C, size_t nC) {
  const auto overlap = [](const float* x, size_t nx, const float* y, size_t ny) {
    const uintptr_t x0 = (uintptr_t)x, x1 = x0 + nx * sizeof(float), y0 = (uintptr_t)y, y1 = y0 + ny * sizeof(float);
    return nx > 0 && ny > 0 && x0 < y1 && y0 < x1;
  };
  if (overlap(C, nC, A, nA)) range("gemm: C shares memory with A (views of one buffer); pass separate arrays");
  if (overlap(C, nC, B, nB)) range("gemm: C shares memory with B (views of one buffer); pass separate arrays");
}

DropoutArgs checkDropoutMask(double seed, double site, double rate) {
  if (!(seed >= 0 && seed <= 9007199254740991.0 && seed == std::floor(seed))) range("dropoutMask: seed must be a non-negative safe integer");
  if (!(site >= 0 && site <= 4294967295.0 && site == std::floor(site))) range("dropoutMask: site must be a 32-bit unsigned integer");
  if (!(rate >= 0 && rate < 1)) range("dropoutMask: rate must be in [0, 1)");
  return DropoutArgs{(uint64_t)seed, (uint32_t)site, rate};
}

// torch.optim.AdamW's own checks (lr, eps, weight decay >= 0, betas in [0, 1)), all finite, and a 1-based step: a step
// of 0 divides by a zero bias correction, NaN or infinite values silently turn every parameter into NaN.
AdamW checkAdamw(double lr, double b1, double b2, double eps, double wd, double step) {
  const auto finite = [](const char* what, double d) {
    if (!(d >= 0 && d <= std::numeric_limits<double>::max())) range(std::string("adamw: ") + what + " must be a finite number >= 0, found " + std::to_string(d));
  };
  finite("lr", lr);
  if (!(b1 >= 0 && b1 < 1)) range("adamw: b1 must be in [0, 1), found " + std::to_string(b1));
  if (!(b2 >= 0 && b2 < 1)) range("adamw: b2 must be in [0, 1), found " + std::to_string(b2));
  finite("eps", eps);
  finite("wd", wd);
  if (!(step >= 1 && step <= 9007199254740991.0 && step == std::floor(step)))
    range("adamw: step must be a whole number >= 1, found " + std::to_string(step));
  return AdamW{lr, b1, b2, eps, wd, step};
}

// (offset, length, decay) triples, each segment wholly inside the arena. Found by the fuzzer: offsets and lengths
// used to be cast to size_t unchecked (undefined behaviour for negative, NaN or huge values), and an offset and a
// length near 2^64 wrapped around the encoder's `offset + length > total` test, so AdamW wrote far outside the arenas.
Segments checkSegments(const double* seg, size_t n, size_t total) {
  if (n % 3 != 0) range("segments: expected (offset, length, decay) triples, found " + std::to_string(n) + " elements");
  Segments s;
  s.offsets.resize(n / 3);
  s.lengths.resize(n / 3);
  s.decay.resize(n / 3);
  for (size_t i = 0; i < n / 3; i++) {
    const double o = seg[3 * i], len = seg[3 * i + 1], decay = seg[3 * i + 2];
    if (!(o >= 0 && o == std::floor(o) && len >= 0 && len == std::floor(len) && o <= (double)total && len <= (double)total - o))
      range("segments[" + std::to_string(i) + "]: " + std::to_string(len) + " floats at offset " + std::to_string(o) +
            " do not fit in the parameter arena of " + std::to_string(total) + " floats");
    if (!(decay == 0 || decay == 1)) range("segments[" + std::to_string(i) + "]: decay must be 0 or 1, found " + std::to_string(decay));
    s.offsets[i] = (size_t)o;
    s.lengths[i] = (size_t)len;
    s.decay[i] = decay == 1;
  }
  return s;
}

// A whole number of OpenMP threads (found by the fuzzer: NaN or huge counts used to be cast to int unchecked; a
// count of millions would also size per-thread buffers and spawn that many threads).
int checkThreads(double n) { return checkWhole(n, "threads", 1, 4096); }

void check_batch(const EncoderShape& shape, const int32_t* ids, const int32_t* types, const int32_t* mask,
                 const int32_t* pos, size_t N) {
  for (size_t i = 0; i < N; i++) {
    if (ids[i] < 0 || ids[i] >= shape.vocab)
      throw std::out_of_range("inputIds[" + std::to_string(i) + "] = " + std::to_string(ids[i]) +
                              " is outside the vocabulary [0, " + std::to_string(shape.vocab) + ")");
    if (types[i] < 0 || types[i] >= shape.typeVocab)
      throw std::out_of_range("tokenTypeIds[" + std::to_string(i) + "] = " + std::to_string(types[i]) +
                              " is outside [0, " + std::to_string(shape.typeVocab) + ")");
    // HF's mask is 0 or 1; other values would give a bias of (1 - mask) * -FLT_MAX, so 2 meant "+FLT_MAX" here but
    // "attend" on the TF.js backends, which read any nonzero value as 1.
    if (mask[i] != 0 && mask[i] != 1)
      throw std::out_of_range("attentionMask[" + std::to_string(i) + "] = " + std::to_string(mask[i]) + ": expected 0 or 1");
    if (pos[i] < 0 || pos[i] >= shape.maxPos)
      throw std::out_of_range("positionIds[" + std::to_string(i) + "] = " + std::to_string(pos[i]) +
                              " is outside [0, " + std::to_string(shape.maxPos) + ")");
  }
}

}  // namespace xlt
