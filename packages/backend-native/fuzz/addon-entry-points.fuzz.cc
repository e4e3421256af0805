// libFuzzer harness over the native addon's entry points (issue #20): the fuzz input is decoded into one encoder
// construction and a sequence of calls, with the same raw doubles and typed-array lengths JavaScript could pass
// (negative, zero, huge, NaN, infinite and fractional numbers; arrays longer or shorter than declared; out-of-range
// ids). Every call first goes through the addon's own checks (native/entry-checks.h, the functions addon.cc calls);
// when they accept, the harness really runs the C++ behind the entry point on buffers of exactly the lengths the
// "JavaScript" side declared, so AddressSanitizer sees any read or write past them.
//
// What counts as a crash: an ASan or UBSan report, std::terminate, or any exception other than xlt::ArgumentError
// from a check (forward may also throw std::out_of_range for ids outside their tables, the encoder's own check, and
// only when the harness's independent model of the ids says one is out of range). Accepted calls must not throw.
//
// OpenBLAS is not instrumented, so cblas_sgemm is wrapped (-Wl,--wrap=cblas_sgemm): before the real call, every
// matrix it will read or write must be wholly unpoisoned memory, else the harness reads the first poisoned byte and
// ASan reports it with the allocation it overflows.
//
// Memory cap: calls the checks accept but whose buffers (arenas, activations) would exceed kMaxFloats floats, or
// whose work exceeds kMaxWork, end the input (return 0). The cap bounds the harness (fast execs, small RSS), not
// the product, which takes whatever the checks accept.
//
// Input format: byte 0 = number of calls k (mod 33), bytes 1..k = the calls (mod kOps), the rest = a parameter
// stream read in order. An exhausted stream reads as zero bytes, and a zero byte always picks the "typical" valid
// value, so a seed needs only a config and a list of calls (scripts/fuzz-addon.mjs writes the seed corpus).
#include <sanitizer/asan_interface.h>
#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#include "encoder.h"
#include "entry-checks.h"
#include "kernels.h"

namespace {

constexpr size_t kMaxFloats = size_t(4) << 20;  // 4 Mi floats per buffer: the harness's cap, not the product's.
constexpr double kMaxWork = 4e7;                 // about 0.1 s of arithmetic per call at most.

[[noreturn]] void crash(const char* what) {
  std::fprintf(stderr, "addon-entry-points: %s\n", what);
  std::abort();
}

// XLT_FUZZ_TRACE=1 prints each call and each refusal (to see what a reproducer does).
bool g_trace = false;
void note(const xlt::ArgumentError& e) {
  if (g_trace) std::fprintf(stderr, "  refused (%s): %s\n", e.kind == xlt::ArgumentError::kTypeError ? "TypeError" : e.kind == xlt::ArgumentError::kRangeError ? "RangeError" : "Error", e.what());
}

struct Input {
  const uint8_t* p;
  size_t n, at = 0;
  uint8_t u8() { return at < n ? p[at++] : 0; }
  uint32_t u16() { return u8() | (uint32_t)u8() << 8; }
  double f64() {
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) bits |= (uint64_t)u8() << (8 * i);
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
};

const double kSpecial[32] = {
    std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
    -0.0, 0.5, -0.5, 1e-300, 1e300, 2147483647.0, 2147483648.0, 4294967295.0, 4294967296.0, 9007199254740991.0,
    9007199254740992.0, 9007199254740994.0, 9223372036854775808.0, 18446744073709551616.0, 1.8e19, -1.0, -2147483648.0,
    -2147483649.0, 65536.0, 65537.0, 1048576.0, 1048577.0, 1024.0, 1025.0, 0.9999999999999999, 1.0,
    4.9406564584124654e-324, std::numeric_limits<double>::max(), -9007199254740991.0};

// A number as JavaScript could pass it: mostly the typical (valid) value, else near it, a small literal, a special
// value, raw bits, half-way off or scaled up.
double pick(Input& in, double typical) {
  const uint8_t s = in.u8();
  switch (s >> 5) {
    case 0:
    case 1:
    case 2:
      return typical;
    case 3:
      return typical + (double)((int)(s & 31) - 16);
    case 4:
      return (double)(s & 31) - 2;
    case 5:
      return kSpecial[s & 31];
    case 6:
      return in.f64();
    default:
      return (s & 1) ? typical + 0.5 : typical * (double)(1u << ((s & 31) >> 1));
  }
}

// The length of a typed array the JavaScript side made: mostly the typical one, else near it or small.
size_t length(Input& in, size_t typical) {
  const uint8_t s = in.u8();
  if (s < 200) return typical;
  if (s < 230) {
    const long long v = (long long)typical + (s - 215);
    return v < 0 ? 0 : (size_t)v;
  }
  return s - 230;
}

// JavaScript's ToInt32, as storing a number into an Int32Array does.
int32_t toInt32(double d) {
  if (!std::isfinite(d)) return 0;
  double m = std::fmod(std::trunc(d), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return (int32_t)(uint32_t)m;
}

template <class T>
std::unique_ptr<T[]> buffer(size_t n) {
  // Exactly n elements (one when n is 0, never read: a zero-length typed array): ASan's redzones start right after.
  return std::unique_ptr<T[]>(new T[n ? n : 1]());
}

float smallFloat(uint32_t i) { return (float)((int)((i * 2654435761u) >> 24) - 128) / 512.f; }

enum Op { kForwardEval, kForwardTrain, kBackward, kZero, kScale, kNorm, kTouch, kMoments, kAdamw, kGemm, kDropout, kThreads, kDispose, kOps };

struct Harness {
  Input in;
  xlt::EncoderShape sh{};
  std::vector<double> offsets;  // the layout array as passed
  std::unique_ptr<xlt::Encoder> enc;
  xlt::ArenaRef jsParams, jsGrads, jsM, jsV;  // what JavaScript's external ArrayBuffers keep alive
  int adamSteps = 0;

  /** False when the harness's cap ends the input; a refused shape or layout leaves `enc` empty. */
  bool construct();
  bool call(int op);
  bool forward(bool training);
  void backward();
  void adamw();
  bool gemm();
  void dropout();
  void threads();
};

bool Harness::construct() {
  // Typical values: a small encoder whose fields depend on the first parameter bytes.
  const int L = (in.u8() + 1) % 4, heads = 1 + (in.u8() + 1) % 4, headDim = 1 + (in.u8() + 3) % 8;
  const int ffn = 1 + (in.u8() + 15) % 32, vocab = 1 + (in.u8() + 19) % 48, maxPos = 1 + (in.u8() + 11) % 24,
            typeVocab = 1 + (in.u8() + 1) % 3;
  const uint8_t pads = in.u8();
  const int hidden = heads * headDim;
  const int wordPad = pads % 3 == 0 ? 0 : pads % 3 == 1 ? -1 : vocab - 1;
  const int posPad = (pads / 3) % 3 == 0 ? -1 : (pads / 3) % 3 == 1 ? 1 % maxPos : maxPos - 1;
  const xlt::ShapeArgs args{pick(in, L),      pick(in, hidden), pick(in, heads), pick(in, ffn),   pick(in, vocab),   pick(in, maxPos),
                            pick(in, typeVocab), pick(in, 1e-12), pick(in, 0.1),   pick(in, 0.1),   pick(in, wordPad), pick(in, posPad)};
  // The layout JavaScript builds from its own config: every tensor 16-float aligned, in layout order.
  xlt::EncoderShape typ{L, hidden, heads, ffn, vocab, maxPos, typeVocab, 1e-12f, 0.1, 0.1, wordPad, posPad};
  const size_t nTyp = xlt::layoutLength(typ);
  std::vector<double> typOff(nTyp);
  double totalTyp = 0;
  for (size_t i = 0; i < nTyp; i++) {
    typOff[i] = totalTyp;
    totalTyp += std::ceil(xlt::layoutTensorSize(typ, i) / 16) * 16 + 16 * (double)(i == 4 ? 2 : 0);  // a gap, as the pooler leaves
  }
  const double total = pick(in, totalTyp + 16);
  offsets.assign(length(in, nTyp), 0.0);
  for (size_t i = 0; i < offsets.size() && i < nTyp; i++) offsets[i] = typOff[i];
  for (int k = in.u8() < 192 ? 0 : (in.u8() & 3) + 1; k > 0 && !offsets.empty(); k--) {
    const size_t i = in.u16() % offsets.size();
    offsets[i] = pick(in, offsets[i]);
  }
  std::vector<double> layoutArray(offsets);  // exactly its length, so reading past it is an ASan report
  size_t n;
  xlt::Layout layout;
  try {
    sh = xlt::checkShape(args);
    n = xlt::checkTotal(total);
    layout = xlt::checkLayout(sh, n, layoutArray.data(), layoutArray.size());
  } catch (const xlt::ArgumentError& e) {
    note(e);
    return true;  // refused: no encoder, the module's own calls still run
  }
  if (n > kMaxFloats || (size_t)sh.vocab > kMaxFloats) return false;  // the harness's cap
  enc.reset(new xlt::Encoder(sh, n, layout.emb, layout.layers));
  jsParams = enc->params;
  for (size_t i = 0; i < n; i++) jsParams->data[i] = smallFloat((uint32_t)i);
  return true;
}

bool Harness::forward(bool training) {
  const int Bt = 1 + (in.u8() + 1) % 3, Tt = 1 + (in.u8() + 4) % 8;
  const double B = pick(in, Bt), T = pick(in, Tt), seed = pick(in, in.u8());
  const size_t Nt = (size_t)Bt * Tt;
  const size_t nIds = length(in, Nt), nTypes = length(in, Nt), nMask = length(in, Nt), nPos = length(in, Nt);
  auto ids = buffer<int32_t>(nIds), types = buffer<int32_t>(nTypes), mask = buffer<int32_t>(nMask), pos = buffer<int32_t>(nPos);
  const uint32_t salt = in.u8();
  for (size_t i = 0; i < nIds; i++) ids[i] = (int32_t)((i * 7 + salt) % (uint32_t)sh.vocab);
  for (size_t i = 0; i < nTypes; i++) types[i] = (int32_t)((i / 3 + salt) % (uint32_t)sh.typeVocab);
  for (size_t i = 0; i < nMask; i++) mask[i] = (i * 5 + salt) % 7 == 6 ? 0 : 1;
  for (size_t i = 0; i < nPos; i++) pos[i] = (int32_t)std::min<size_t>(i % Tt, (size_t)sh.maxPos - 1);
  // Pokes: single elements set to any number (as JS's Int32Array stores it).
  for (int k = in.u8() < 224 ? 0 : (in.u8() & 3) + 1; k > 0; k--) {
    const uint8_t which = in.u8() % 4;
    const size_t len = which == 0 ? nIds : which == 1 ? nTypes : which == 2 ? nMask : nPos;
    int32_t* a = which == 0 ? ids.get() : which == 1 ? types.get() : which == 2 ? mask.get() : pos.get();
    const size_t i = in.u16();
    if (len) a[i % len] = toInt32(pick(in, a[i % len]));
  }
  xlt::ForwardArgs f;
  try {
    f = xlt::checkForward(sh, B, T, nIds, nTypes, nMask, nPos, seed);
  } catch (const xlt::ArgumentError& e) {
    note(e);
    return true;
  }
  // The harness's cap on activations and work.
  const double N = (double)f.tokens, H = sh.hidden, F = sh.ffn, Lf = sh.layers, TT = (double)f.sequenceLength * f.sequenceLength;
  const double scores = (double)f.batchSize * sh.heads * TT;
  if (Lf * (8 * N * H + 2 * N * F + scores) + 10 * N * H + N * F + 2 * TT > (double)kMaxFloats) return false;
  if (3 * (2 * N * Lf * (4 * H * H + 2 * H * F) + 4 * scores * (H / sh.heads) * Lf) + N * H * 20 > kMaxWork) return false;
  // Independent model of the encoder's id and mask checks.
  bool bad = false;
  for (size_t i = 0; i < f.tokens; i++)
    bad = bad || ids[i] < 0 || ids[i] >= sh.vocab || types[i] < 0 || types[i] >= sh.typeVocab || (mask[i] != 0 && mask[i] != 1) || pos[i] < 0 || pos[i] >= sh.maxPos;
  const float* out;
  try {
    out = enc->forward(ids.get(), types.get(), mask.get(), pos.get(), f.batchSize, f.sequenceLength, training, f.seed);
  } catch (const std::out_of_range&) {
    if (!bad) crash("forward refused ids and a mask that are in range");
    return true;
  }
  if (bad) crash("forward accepted an id outside its table or a mask value other than 0 and 1");
  // The addon copies [B, T, H] floats out (memcpy is checked by ASan).
  const size_t n = f.tokens * sh.hidden;
  auto copy = buffer<float>(n);
  std::memcpy(copy.get(), out, n * sizeof(float));
  return true;
}

void Harness::backward() {
  const size_t expected = enc->expected_hidden_size();
  const size_t n = length(in, expected);
  auto d = buffer<float>(n);
  const uint8_t special = in.u8();
  for (size_t i = 0; i < n; i++) d[i] = smallFloat((uint32_t)i + special);
  if (special >= 240 && n) d[special % n] = (float)kSpecial[special & 31];
  try {
    xlt::checkBackward(enc->has_training_forward(), enc->expected_hidden_size(), n);
  } catch (const xlt::ArgumentError& e) {
    note(e);
    return;
  }
  enc->backward(d.get());
  jsGrads = enc->grads;
}

void Harness::adamw() {
  const double lr = pick(in, 1e-3), b1 = pick(in, 0.9), b2 = pick(in, 0.999), eps = pick(in, 1e-8), wd = pick(in, 0.01),
               step = pick(in, adamSteps + 1);
  // The segments JavaScript builds from its layout: one (offset, length, decay) triple per tensor.
  std::vector<double> typ;
  for (size_t i = 0; i < offsets.size(); i++) {
    typ.push_back(offsets[i]);
    typ.push_back(xlt::layoutTensorSize(sh, i));
    typ.push_back(i % 2);
  }
  const size_t n = length(in, typ.size());
  auto seg = buffer<double>(n);
  for (size_t i = 0; i < n && i < typ.size(); i++) seg[i] = typ[i];
  for (int k = in.u8() < 192 ? 0 : (in.u8() & 3) + 1; k > 0 && n; k--) {
    const size_t i = in.u16() % n;
    seg[i] = pick(in, seg[i]);
  }
  xlt::AdamW a;
  xlt::Segments s;
  try {
    a = xlt::checkAdamw(lr, b1, b2, eps, wd, step);
    s = xlt::checkSegments(seg.get(), n, enc->total());
  } catch (const xlt::ArgumentError& e) {
    note(e);
    return;
  }
  enc->adamw(a, s.offsets, s.lengths, s.decay);
  jsGrads = enc->grads;
  jsM = enc->m;
  jsV = enc->v;
  adamSteps++;
}

bool Harness::gemm() {
  const uint8_t t = in.u8();
  const int Mt = 1 + (in.u8() + 5) % 24, Nt = 1 + (in.u8() + 5) % 24, Kt = 1 + (in.u8() + 5) % 24;
  const double M = pick(in, Mt), N = pick(in, Nt), K = pick(in, Kt), alpha = pick(in, 1), beta = pick(in, 0);
  const size_t nA = length(in, (size_t)Mt * Kt), nB = length(in, (size_t)Kt * Nt), nC = length(in, (size_t)Mt * Nt);
  auto A = buffer<float>(nA), B = buffer<float>(nB), C = buffer<float>(nC);
  for (size_t i = 0; i < nA; i++) A[i] = smallFloat((uint32_t)i);
  for (size_t i = 0; i < nB; i++) B[i] = smallFloat((uint32_t)i + 7);
  for (size_t i = 0; i < nC; i++) C[i] = smallFloat((uint32_t)i + 13);
  // Bit 2: A and C are views of one buffer (C at element o of it), as JavaScript can pass two views of one ArrayBuffer.
  float *a = A.get(), *c = C.get();
  std::unique_ptr<float[]> shared;
  if ((t & 4) && nA && nC) {
    const size_t o = (t >> 3) % (nA + 1);
    shared = buffer<float>(nA + nC);
    std::memcpy(shared.get(), a, nA * sizeof(float));
    a = shared.get();
    c = shared.get() + o;
  }
  xlt::GemmArgs g;
  try {
    g = xlt::checkGemm(t & 1, t & 2, M, N, K, alpha, beta, nA, nB, nC);
    xlt::checkGemmBuffers(a, nA, B.get(), nB, c, nC);
  } catch (const xlt::ArgumentError& e) {
    note(e);
    return true;
  }
  if (2.0 * g.M * g.N * g.K > kMaxWork) return false;
  xlt::gemm(g.ta, g.tb, g.M, g.N, g.K, g.alpha, a, g.lda, B.get(), g.ldb, g.beta, c, g.ldc);
  return true;
}

void Harness::dropout() {
  const double seed = pick(in, in.u8() * 16777259.0), site = pick(in, in.u8() % 8), rate = pick(in, 0.1);
  const size_t n = length(in, 1 + in.u8() % 64);
  auto out = buffer<float>(n);
  xlt::DropoutArgs d;
  try {
    d = xlt::checkDropoutMask(seed, site, rate);
  } catch (const xlt::ArgumentError& e) {
    note(e);
    return;
  }
  xlt::dropout_mask(out.get(), n, d.rate, d.seed, d.site);
  const float keep = xlt::dropout_scale(d.rate);
  for (size_t i = 0; i < n; i++)
    if (out[i] != 0.f && out[i] != keep) crash("dropoutMask wrote a value that is neither 0 nor 1/(1-p)");
}

void Harness::threads() {
  const double n = pick(in, 1 + in.u8() % 4);
  int t;
  try {
    t = xlt::checkThreads(n);
  } catch (const xlt::ArgumentError& e) {
    note(e);
    return;
  }
  xlt::set_threads(t);
}

const char* const kOpNames[kOps] = {"forward(eval)", "forward(training)", "backward", "zeroGradients", "scaleGradients",
                                    "gradientSquaredNorm", "touchAllRows", "moments", "adamw", "gemm", "dropoutMask",
                                    "setThreads", "dispose"};

bool Harness::call(int op) {
  if (g_trace) std::fprintf(stderr, "%s%s\n", kOpNames[op], enc || op == kGemm || op == kDropout || op == kThreads ? "" : " (no encoder)");
  // Calls on the module (gemm, dropoutMask, setThreads) work without an encoder; the others after dispose() get
  // the addon's "used after dispose()" error, which needs no check here.
  switch (op) {
    case kGemm:
      return gemm();
    case kDropout:
      dropout();
      return true;
    case kThreads:
      threads();
      return true;
    default:
      break;
  }
  if (!enc) {
    // What JavaScript can still do after dispose(): write through its views (they keep their arenas alive).
    for (auto* a : {&jsParams, &jsGrads, &jsM, &jsV})
      if (*a) (*a)->data[(*a)->size - 1] += 1.f;
    return true;
  }
  switch (op) {
    case kForwardEval:
      return forward(false);
    case kForwardTrain:
      return forward(true);
    case kBackward:
      backward();
      break;
    case kZero:
      enc->zero_grads();
      break;
    case kScale:
      enc->scale_grads((float)pick(in, 0.5));
      break;
    case kNorm:
      (void)enc->grad_squared_norm();
      break;
    case kTouch: {
      // JavaScript writes gradients through its view (a task head's), then marks every row.
      enc->ensure_grads();
      jsGrads = enc->grads;
      const size_t i = in.u16() % jsGrads->size;
      jsGrads->data[i] += 1.f;
      enc->touch_all_rows();
      break;
    }
    case kMoments:
      enc->ensure_moments();
      jsM = enc->m;
      jsV = enc->v;
      break;
    case kAdamw:
      adamw();
      break;
    case kDispose:
      enc.reset();
      break;
  }
  return true;
}

}  // namespace

// OpenBLAS is not instrumented: check every matrix cblas_sgemm will touch against ASan's shadow first.
extern "C" void __real_cblas_sgemm(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE, const blasint,
                                   const blasint, const blasint, const float, const float*, const blasint, const float*,
                                   const blasint, const float, float*, const blasint);

static void checkMatrix(const float* p, long rows, long cols, long ld) {
  if (rows <= 0 || cols <= 0) return;
  if (ld < cols) crash("cblas_sgemm: leading dimension smaller than the row");
  const size_t bytes = ((size_t)(rows - 1) * ld + cols) * sizeof(float);
  if (void* bad = __asan_region_is_poisoned(const_cast<float*>(p), bytes)) {
    std::fprintf(stderr, "addon-entry-points: cblas_sgemm would touch poisoned memory (%zu bytes from %p)\n", bytes, (const void*)p);
    (void)*static_cast<volatile const char*>(bad);  // ASan reports this read with the allocation it overflows
    crash("cblas_sgemm over poisoned memory");
  }
}

extern "C" void __wrap_cblas_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb,
                                   const blasint M, const blasint N, const blasint K, const float alpha, const float* A,
                                   const blasint lda, const float* B, const blasint ldb, const float beta, float* C,
                                   const blasint ldc) {
  if (order != CblasRowMajor) crash("cblas_sgemm: the encoder only uses row-major");
  checkMatrix(A, ta == CblasNoTrans ? M : K, ta == CblasNoTrans ? K : M, lda);
  checkMatrix(B, tb == CblasNoTrans ? K : N, tb == CblasNoTrans ? N : K, ldb);
  checkMatrix(C, M, N, ldc);
  __real_cblas_sgemm(order, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  xlt::set_threads(1);
  const char* trace = std::getenv("XLT_FUZZ_TRACE");
  g_trace = trace && *trace && *trace != '0';
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  xlt::set_threads(1);  // setThreads from the previous input must not leak into this one
  const size_t k = std::min<size_t>(data[0] % 33, size - 1);
  Harness h{Input{data + 1 + k, size - 1 - k}};
  if (g_trace) std::fprintf(stderr, "new NativeEncoder\n");
  if (!h.construct()) return 0;
  for (size_t i = 0; i < k; i++)
    if (!h.call(data[1 + i] % kOps)) break;
  h.enc.reset();
  // After the encoder is gone, the JavaScript views still hold their arenas.
  for (auto* a : {&h.jsParams, &h.jsGrads, &h.jsM, &h.jsV})
    if (*a) (*a)->data[0] += 1.f;
  return 0;
}
