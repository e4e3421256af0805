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
#include "entry-checks.h"

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

bool boolean(napi_env env, napi_value v, const char* what) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) throw JsError{1, std::string(what) + ": expected a boolean"};
  return b;
}

napi_value object(napi_env env, napi_value v, const char* what) {
  napi_valuetype t;
  CHECK(napi_typeof(env, v, &t));
  if (t != napi_object) throw JsError{1, std::string(what) + ": expected an object"};
  return v;
}

napi_value prop(napi_env env, napi_value obj, const char* name) {
  napi_value v;
  CHECK(napi_get_named_property(env, obj, name, &v));
  return v;
}

// A typed array of T's element type (a TypeError otherwise) and its length; entry-checks.h checks the length.
template <class T>
T* typed(napi_env env, napi_value v, const char* what, size_t* length) {
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
  *length = len;
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
  } catch (const xlt::ArgumentError& e) {
    if (e.kind == xlt::ArgumentError::kTypeError) napi_throw_type_error(env, nullptr, e.message.c_str());
    else if (e.kind == xlt::ArgumentError::kRangeError) napi_throw_range_error(env, nullptr, e.message.c_str());
    else napi_throw_error(env, nullptr, e.message.c_str());
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
    napi_value s = object(env, c.args[0], "shape");
    const xlt::ShapeArgs args{num(env, prop(env, s, "layers"), "layers"),     num(env, prop(env, s, "hidden"), "hidden"),
                              num(env, prop(env, s, "heads"), "heads"),       num(env, prop(env, s, "ffn"), "ffn"),
                              num(env, prop(env, s, "vocab"), "vocab"),       num(env, prop(env, s, "maxPos"), "maxPos"),
                              num(env, prop(env, s, "typeVocab"), "typeVocab"), num(env, prop(env, s, "eps"), "eps"),
                              num(env, prop(env, s, "hiddenDropout"), "hiddenDropout"),
                              num(env, prop(env, s, "attnDropout"), "attnDropout"),
                              num(env, prop(env, s, "wordPad"), "wordPad"),   num(env, prop(env, s, "posPad"), "posPad")};
    const xlt::EncoderShape sh = xlt::checkShape(args);
    const size_t total = xlt::checkTotal(num(env, c.args[1], "total"));
    size_t nOff;
    const double* off = typed<double>(env, c.args[2], "layout", &nOff);
    const xlt::Layout layout = xlt::checkLayout(sh, total, off, nOff);
    auto* holder = new std::unique_ptr<xlt::Encoder>(new xlt::Encoder(sh, total, layout.emb, layout.layers));
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
    const double B = num(env, c.args[4], "batchSize"), T = num(env, c.args[5], "sequenceLength");
    size_t nIds, nTypes, nMask, nPos;
    const int32_t* ids = typed<int32_t>(env, c.args[0], "inputIds", &nIds);
    const int32_t* types = typed<int32_t>(env, c.args[1], "tokenTypeIds", &nTypes);
    const int32_t* mask = typed<int32_t>(env, c.args[2], "attentionMask", &nMask);
    const int32_t* pos = typed<int32_t>(env, c.args[3], "positionIds", &nPos);
    const bool training = boolean(env, c.args[6], "training");
    const xlt::ForwardArgs f = xlt::checkForward(e.shape, B, T, nIds, nTypes, nMask, nPos, num(env, c.args[7], "seed"));
    const float* out = e.forward(ids, types, mask, pos, f.batchSize, f.sequenceLength, training, f.seed);
    const size_t n = f.tokens * e.shape.hidden;
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
    if (!e.has_training_forward()) xlt::checkBackward(false, 0, 0);  // this error first, whatever dHidden is
    size_t len;
    const float* d = typed<float>(c.env, c.args[0], "dHidden", &len);
    xlt::checkBackward(e.has_training_forward(), e.expected_hidden_size(), len);
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
    napi_value h = object(env, c.args[0], "step");
    auto& e = c.enc();
    const xlt::AdamW a = xlt::checkAdamw(num(env, prop(env, h, "lr"), "lr"), num(env, prop(env, h, "b1"), "b1"),
                                         num(env, prop(env, h, "b2"), "b2"), num(env, prop(env, h, "eps"), "eps"),
                                         num(env, prop(env, h, "wd"), "wd"), num(env, prop(env, h, "step"), "step"));
    size_t n;
    const double* seg = typed<double>(env, c.args[1], "segments", &n);
    const xlt::Segments s = xlt::checkSegments(seg, n, e.total());
    e.adamw(a, s.offsets, s.lengths, s.decay);
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
    const bool ta = boolean(env, c.args[0], "transA"), tb = boolean(env, c.args[1], "transB");
    const double M = num(env, c.args[2], "M"), N = num(env, c.args[3], "N"), K = num(env, c.args[4], "K");
    const double alpha = num(env, c.args[5], "alpha"), beta = num(env, c.args[8], "beta");
    size_t nA, nB, nC;
    const float* A = typed<float>(env, c.args[6], "A", &nA);
    const float* B = typed<float>(env, c.args[7], "B", &nB);
    float* C = typed<float>(env, c.args[9], "C", &nC);
    const xlt::GemmArgs g = xlt::checkGemm(ta, tb, M, N, K, alpha, beta, nA, nB, nC);
    xlt::checkGemmBuffers(A, nA, B, nB, C, nC);
    xlt::gemm(g.ta, g.tb, g.M, g.N, g.K, g.alpha, A, g.lda, B, g.ldb, g.beta, C, g.ldc);
    return c.undefined();
  });
}

// dropoutMask(seed, site, rate, out: Float32Array): the multipliers of xlt's dropout rule (kernels.h), for the
// test that the C++ port agrees with @xlt/plugin-api's TypeScript one.
napi_value DropoutMask(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    const xlt::DropoutArgs d =
        xlt::checkDropoutMask(num(c.env, c.args[0], "seed"), num(c.env, c.args[1], "site"), num(c.env, c.args[2], "rate"));
    size_t n = 0;
    float* out = typed<float>(c.env, c.args[3], "out", &n);
    xlt::dropout_mask(out, n, d.rate, d.seed, d.site);
    return c.undefined();
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    xlt::set_threads(xlt::checkThreads(num(c.env, c.args[0], "threads")));
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
