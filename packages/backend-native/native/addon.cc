// N-API surface of the native backend (plain C N-API from Node's own headers, so building needs no npm package):
// one NativeEncoder class over xlt::Encoder. Parameter, gradient and moment arenas are handed to JS as external
// ArrayBuffers that keep their arena alive until the last view is collected, even after dispose().
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "encoder.h"

namespace {

using xlt::ArenaRef;

// A JS error to throw: kind 0 Error, 1 TypeError, 2 RangeError.
struct JsError {
  int kind;
  std::string message;
};

#define CHECK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) throw JsError{0, "N-API call failed: " #call}; \
  } while (0)

napi_value external(napi_env env, const ArenaRef& arena) {
  auto* hold = new ArenaRef(arena);
  napi_value ab;
  CHECK(napi_create_external_arraybuffer(
      env, arena->data, arena->size * sizeof(float),
      [](napi_env, void*, void* hint) { delete static_cast<ArenaRef*>(hint); }, hold, &ab));
  return ab;
}

double num(napi_env env, napi_value v, const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) throw JsError{1, std::string(what) + ": expected a number"};
  return d;
}

// A whole number in [lo, hi]: sizes and counts from JavaScript, checked before they index or size anything.
int whole(napi_env env, napi_value v, const char* what, double lo, double hi = 2147483647.0) {
  const double d = num(env, v, what);
  if (!(d >= lo && d <= hi && d == std::floor(d)))
    throw JsError{2, std::string(what) + ": expected a whole number in [" + std::to_string((long long)lo) + ", " + std::to_string((long long)hi) + "], found " + std::to_string(d)};
  return (int)d;
}

napi_value prop(napi_env env, napi_value obj, const char* name) {
  napi_value v;
  CHECK(napi_get_named_property(env, obj, name, &v));
  return v;
}

template <class T>
T* typed(napi_env env, napi_value v, size_t n, const char* what, size_t* length = nullptr) {
  bool is;
  CHECK(napi_is_typedarray(env, v, &is));
  if (!is) throw JsError{1, std::string(what) + ": expected a typed array"};
  napi_typedarray_type type;
  size_t len;
  void* data;
  CHECK(napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr));
  const bool ok = (sizeof(T) == 8 && type == napi_float64_array) || (sizeof(T) == 4 && std::is_same<T, float>::value && type == napi_float32_array) ||
                  (sizeof(T) == 4 && std::is_same<T, int32_t>::value && type == napi_int32_array);
  if (!ok) throw JsError{1, std::string(what) + ": wrong typed array type"};
  if (length) *length = len;
  else if (len != n)
    throw JsError{2, std::string(what) + ": expected " + std::to_string(n) + " elements, found " + std::to_string(len)};
  return static_cast<T*>(data);
}

struct Call {
  napi_env env;
  napi_value self;
  std::vector<napi_value> args;
  Call(napi_env e, napi_callback_info info) : env(e), args(10) {
    size_t argc = args.size();
    void* data;
    CHECK(napi_get_cb_info(e, info, &argc, args.data(), &self, &data));
    args.resize(argc);
    napi_value undef;
    napi_get_undefined(e, &undef);
    args.resize(10, undef);
  }
  xlt::Encoder& enc() {
    void* p;
    CHECK(napi_unwrap(env, self, &p));
    auto* holder = static_cast<std::unique_ptr<xlt::Encoder>*>(p);
    if (!*holder) throw JsError{0, "native encoder used after dispose()"};
    return **holder;
  }
  napi_value undefined() {
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  }
};

// Runs a callback body, turning C++ exceptions into JS ones.
template <class F>
napi_value guard(napi_env env, napi_callback_info info, F body) {
  try {
    Call c(env, info);
    return body(c);
  } catch (const JsError& e) {
    if (e.kind == 1) napi_throw_type_error(env, nullptr, e.message.c_str());
    else if (e.kind == 2) napi_throw_range_error(env, nullptr, e.message.c_str());
    else napi_throw_error(env, nullptr, e.message.c_str());
  } catch (const std::out_of_range& e) {
    napi_throw_range_error(env, nullptr, e.what());
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, nullptr, "native backend: out of memory");
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

// new NativeEncoder(shape, totalFloats, layout: Float64Array [5 embedding + 16 per layer offsets])
napi_value Construct(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    napi_env env = c.env;
    napi_value s = c.args[0];
    xlt::EncoderShape sh{};
    sh.layers = whole(env, prop(env, s, "layers"), "layers", 0, 1024);
    sh.hidden = whole(env, prop(env, s, "hidden"), "hidden", 1, 1 << 16);
    sh.heads = whole(env, prop(env, s, "heads"), "heads", 1, sh.hidden);
    if (sh.hidden % sh.heads != 0) throw JsError{2, "heads: must divide hidden (" + std::to_string(sh.hidden) + "), found " + std::to_string(sh.heads)};
    sh.ffn = whole(env, prop(env, s, "ffn"), "ffn", 1, 1 << 20);
    sh.vocab = whole(env, prop(env, s, "vocab"), "vocab", 1);
    sh.maxPos = whole(env, prop(env, s, "maxPos"), "maxPos", 1, 1 << 20);
    sh.typeVocab = whole(env, prop(env, s, "typeVocab"), "typeVocab", 1, 1 << 16);
    sh.eps = (float)num(env, prop(env, s, "eps"), "eps");
    if (!(sh.eps > 0)) throw JsError{2, "eps: must be positive"};
    sh.hiddenDropout = num(env, prop(env, s, "hiddenDropout"), "hiddenDropout");
    sh.attnDropout = num(env, prop(env, s, "attnDropout"), "attnDropout");
    if (!(sh.hiddenDropout >= 0 && sh.hiddenDropout < 1 && sh.attnDropout >= 0 && sh.attnDropout < 1)) throw JsError{2, "dropout rates must be in [0, 1)"};
    sh.wordPad = whole(env, prop(env, s, "wordPad"), "wordPad", -1, sh.vocab - 1);
    sh.posPad = whole(env, prop(env, s, "posPad"), "posPad", -1, sh.maxPos - 1);
    const double totalIn = num(env, c.args[1], "total");
    if (!(totalIn >= 1 && totalIn <= 9007199254740991.0 && totalIn == std::floor(totalIn))) throw JsError{2, "total: expected a whole number of floats >= 1"};
    const size_t total = (size_t)totalIn;
    const size_t nOff = 5 + 16 * (size_t)sh.layers;
    const double* off = typed<double>(env, c.args[2], nOff, "layout");
    // Every tensor must lie wholly inside the arena: a large vocabulary over a small buffer must not reach past it.
    const double H = sh.hidden, F = sh.ffn;
    const double embSizes[5] = {sh.vocab * H, sh.maxPos * H, sh.typeVocab * H, H, H};
    const double layerSizes[16] = {H * H, H, H * H, H, H * H, H, H * H, H, H, H, F * H, F, H * F, H, H, H};
    for (size_t i = 0; i < nOff; i++) {
      const double size = i < 5 ? embSizes[i] : layerSizes[(i - 5) % 16];
      if (!(off[i] >= 0 && off[i] == std::floor(off[i]) && off[i] + size <= (double)total))
        throw JsError{2, "layout[" + std::to_string(i) + "]: a tensor of " + std::to_string((long long)size) + " floats at offset " + std::to_string(off[i]) +
                             " does not fit in the parameter arena of " + std::to_string(total) + " floats"};
    }
    xlt::EmbeddingOffsets emb{(size_t)off[0], (size_t)off[1], (size_t)off[2], (size_t)off[3], (size_t)off[4]};
    std::vector<xlt::LayerOffsets> layers(sh.layers);
    for (int l = 0; l < sh.layers; l++) {
      size_t* dst = reinterpret_cast<size_t*>(&layers[l]);
      for (int k = 0; k < 16; k++) dst[k] = (size_t)off[5 + 16 * l + k];
    }
    auto* holder = new std::unique_ptr<xlt::Encoder>(new xlt::Encoder(sh, total, emb, layers));
    napi_status st = napi_wrap(
        env, c.self, holder, [](napi_env, void* p, void*) { delete static_cast<std::unique_ptr<xlt::Encoder>*>(p); },
        nullptr, nullptr);
    if (st != napi_ok) {
      delete holder;
      throw JsError{0, "napi_wrap failed"};
    }
    return c.self;
  });
}

napi_value Parameters(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) { return external(c.env, c.enc().params); });
}

napi_value Gradients(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    auto& e = c.enc();
    e.ensure_grads();
    return external(c.env, e.grads);
  });
}

napi_value Moments(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    auto& e = c.enc();
    e.ensure_moments();
    napi_value arr;
    CHECK(napi_create_array_with_length(c.env, 2, &arr));
    CHECK(napi_set_element(c.env, arr, 0, external(c.env, e.m)));
    CHECK(napi_set_element(c.env, arr, 1, external(c.env, e.v)));
    return arr;
  });
}

// forward(ids, types, mask, pos, B, T, training, seed) -> Float32Array [B*T*H] (a copy)
napi_value Forward(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    napi_env env = c.env;
    auto& e = c.enc();
    const int B = whole(env, c.args[4], "batchSize", 1), T = whole(env, c.args[5], "sequenceLength", 1);
    const size_t N = (size_t)B * T;
    const int32_t* ids = typed<int32_t>(env, c.args[0], N, "inputIds");
    const int32_t* types = typed<int32_t>(env, c.args[1], N, "tokenTypeIds");
    const int32_t* mask = typed<int32_t>(env, c.args[2], N, "attentionMask");
    const int32_t* pos = typed<int32_t>(env, c.args[3], N, "positionIds");
    bool training;
    CHECK(napi_get_value_bool(env, c.args[6], &training));
    const uint64_t seed = (uint64_t)num(env, c.args[7], "seed");
    const float* out = e.forward(ids, types, mask, pos, B, T, training, seed);
    const size_t n = N * e.shape.hidden;
    void* data;
    napi_value ab, result;
    CHECK(napi_create_arraybuffer(env, n * sizeof(float), &data, &ab));
    std::memcpy(data, out, n * sizeof(float));
    CHECK(napi_create_typedarray(env, napi_float32_array, n, ab, 0, &result));
    return result;
  });
}

napi_value Backward(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    auto& e = c.enc();
    if (!e.has_training_forward()) throw JsError{0, "backward needs a preceding forward with training: true"};
    size_t len;
    const float* d = typed<float>(c.env, c.args[0], 0, "dHidden", &len);
    if (len != e.expected_hidden_size())
      throw JsError{2, "dHidden: expected " + std::to_string(e.expected_hidden_size()) + " elements (the last forward's [B, T, H]), found " +
                           std::to_string(len)};
    e.backward(d);
    return c.undefined();
  });
}

napi_value ZeroGradients(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    c.enc().zero_grads();
    return c.undefined();
  });
}

napi_value ScaleGradients(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    c.enc().scale_grads((float)num(c.env, c.args[0], "factor"));
    return c.undefined();
  });
}

napi_value GradientSquaredNorm(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    napi_value r;
    CHECK(napi_create_double(c.env, c.enc().grad_squared_norm(), &r));
    return r;
  });
}

napi_value TouchAllRows(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    c.enc().touch_all_rows();
    return c.undefined();
  });
}

// adamw({lr,b1,b2,eps,wd,step}, segments: Float64Array of (offset, length, decay) triples)
napi_value Adamw(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    napi_env env = c.env;
    napi_value h = c.args[0];
    xlt::AdamW a{num(env, prop(env, h, "lr"), "lr"), num(env, prop(env, h, "b1"), "b1"),
                 num(env, prop(env, h, "b2"), "b2"), num(env, prop(env, h, "eps"), "eps"),
                 num(env, prop(env, h, "wd"), "wd"), num(env, prop(env, h, "step"), "step")};
    size_t n;
    const double* seg = typed<double>(env, c.args[1], 0, "segments", &n);
    std::vector<size_t> off(n / 3), len(n / 3);
    std::vector<uint8_t> dec(n / 3);
    for (size_t i = 0; i < n / 3; i++) {
      off[i] = (size_t)seg[3 * i];
      len[i] = (size_t)seg[3 * i + 1];
      dec[i] = seg[3 * i + 2] != 0;
    }
    c.enc().adamw(a, off, len, dec);
    return c.undefined();
  });
}

napi_value Dispose(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    void* p;
    CHECK(napi_unwrap(c.env, c.self, &p));
    static_cast<std::unique_ptr<xlt::Encoder>*>(p)->reset();
    return c.undefined();
  });
}

// gemm(transA, transB, M, N, K, alpha, A, B, beta, C): row-major C = alpha op(A) op(B) + beta C over Float32Arrays,
// threaded like the encoder's GEMMs (for task heads that run next to the encoder).
napi_value Gemm(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    napi_env env = c.env;
    bool ta, tb;
    CHECK(napi_get_value_bool(env, c.args[0], &ta));
    CHECK(napi_get_value_bool(env, c.args[1], &tb));
    const int M = (int)num(env, c.args[2], "M"), N = (int)num(env, c.args[3], "N"), K = (int)num(env, c.args[4], "K");
    if (M <= 0 || N <= 0 || K <= 0) throw JsError{2, "gemm: M, N and K must be positive"};
    const float alpha = (float)num(env, c.args[5], "alpha"), beta = (float)num(env, c.args[8], "beta");
    const float* A = typed<float>(env, c.args[6], (size_t)M * K, "A");
    const float* B = typed<float>(env, c.args[7], (size_t)K * N, "B");
    float* C = typed<float>(env, c.args[9], (size_t)M * N, "C");
    xlt::gemm(ta, tb, M, N, K, alpha, A, ta ? M : K, B, tb ? K : N, beta, C, N);
    return c.undefined();
  });
}

// dropoutMask(seed, site, rate, out: Float32Array): the multipliers of xlt's dropout rule (kernels.h), for the
// test that the C++ port agrees with @xlt/plugin-api's TypeScript one.
napi_value DropoutMask(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    const double seed = num(c.env, c.args[0], "seed"), site = num(c.env, c.args[1], "site"), p = num(c.env, c.args[2], "rate");
    if (!(seed >= 0 && seed <= 9007199254740991.0 && seed == std::floor(seed))) throw JsError{2, "dropoutMask: seed must be a non-negative safe integer"};
    if (!(site >= 0 && site <= 4294967295.0 && site == std::floor(site))) throw JsError{2, "dropoutMask: site must be a 32-bit unsigned integer"};
    if (!(p >= 0 && p < 1)) throw JsError{2, "dropoutMask: rate must be in [0, 1)"};
    size_t n = 0;
    float* out = typed<float>(c.env, c.args[3], 0, "out", &n);
    xlt::dropout_mask(out, n, p, (uint64_t)seed, (uint32_t)site);
    return c.undefined();
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    xlt::set_threads((int)num(c.env, c.args[0], "threads"));
    return c.undefined();
  });
}

napi_value Threads(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    napi_value r;
    CHECK(napi_create_int32(c.env, xlt::threads(), &r));
    return r;
  });
}

napi_value Init(napi_env env, napi_value exports) {
  xlt::set_threads(1);
  napi_property_descriptor methods[] = {
      {"parameters", nullptr, Parameters, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gradients", nullptr, Gradients, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"moments", nullptr, Moments, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"forward", nullptr, Forward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"backward", nullptr, Backward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"zeroGradients", nullptr, ZeroGradients, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"scaleGradients", nullptr, ScaleGradients, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gradientSquaredNorm", nullptr, GradientSquaredNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"touchAllRows", nullptr, TouchAllRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamw", nullptr, Adamw, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dispose", nullptr, Dispose, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value cls, fn;
  napi_define_class(env, "NativeEncoder", NAPI_AUTO_LENGTH, Construct, nullptr, sizeof(methods) / sizeof(methods[0]),
                    methods, &cls);
  napi_set_named_property(env, exports, "NativeEncoder", cls);
  napi_create_function(env, "setThreads", NAPI_AUTO_LENGTH, SetThreads, nullptr, &fn);
  napi_set_named_property(env, exports, "setThreads", fn);
  napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, Gemm, nullptr, &fn);
  napi_set_named_property(env, exports, "gemm", fn);
  napi_create_function(env, "dropoutMask", NAPI_AUTO_LENGTH, DropoutMask, nullptr, &fn);
  napi_set_named_property(env, exports, "dropoutMask", fn);
  napi_create_function(env, "threads", NAPI_AUTO_LENGTH, Threads, nullptr, &fn);
  napi_set_named_property(env, exports, "threads", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
