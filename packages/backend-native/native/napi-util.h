// Plain C N-API helpers shared by the CPU addon (addon.cc) and the CUDA addon (cuda/addon.cc): argument conversion,
// the `this` encoder, and C++ exceptions turned into JavaScript errors.
#pragma once
#include <node_api.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "entry-checks.h"

namespace xlt {
namespace napi {

/** A JS error to throw: kind 0 Error, 1 TypeError, 2 RangeError. */
struct JsError {
  int kind;
  std::string message;
};

#define XLT_NAPI_CHECK(call)                                                         \
  do {                                                                               \
    if ((call) != napi_ok) throw ::xlt::napi::JsError{0, "N-API call failed: " #call}; \
  } while (0)

inline double num(napi_env env, napi_value v, const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) throw JsError{1, std::string(what) + ": expected a number"};
  return d;
}

inline bool boolean(napi_env env, napi_value v, const char* what) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) throw JsError{1, std::string(what) + ": expected a boolean"};
  return b;
}

inline napi_value object(napi_env env, napi_value v, const char* what) {
  napi_valuetype t;
  XLT_NAPI_CHECK(napi_typeof(env, v, &t));
  if (t != napi_object) throw JsError{1, std::string(what) + ": expected an object"};
  return v;
}

inline napi_value prop(napi_env env, napi_value obj, const char* name) {
  napi_value v;
  XLT_NAPI_CHECK(napi_get_named_property(env, obj, name, &v));
  return v;
}

/** A typed array of T's element type (a TypeError otherwise) and its length; entry-checks.h checks the length. */
template <class T>
T* typed(napi_env env, napi_value v, const char* what, size_t* length) {
  bool is;
  XLT_NAPI_CHECK(napi_is_typedarray(env, v, &is));
  if (!is) throw JsError{1, std::string(what) + ": expected a typed array"};
  napi_typedarray_type type;
  size_t len;
  void* data;
  XLT_NAPI_CHECK(napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr));
  const bool ok = (sizeof(T) == 8 && type == napi_float64_array) ||
                  (sizeof(T) == 4 && std::is_same<T, float>::value && type == napi_float32_array) ||
                  (sizeof(T) == 4 && std::is_same<T, int32_t>::value && type == napi_int32_array);
  if (!ok) throw JsError{1, std::string(what) + ": wrong typed array type"};
  *length = len;
  return static_cast<T*>(data);
}

/** One call: its arguments (missing ones undefined) and the wrapped encoder of type E behind `this`. */
template <class E>
struct Call {
  napi_env env;
  napi_value self;
  std::vector<napi_value> args;
  Call(napi_env e, napi_callback_info info) : env(e), args(10) {
    size_t argc = args.size();
    void* data;
    XLT_NAPI_CHECK(napi_get_cb_info(e, info, &argc, args.data(), &self, &data));
    args.resize(argc);
    napi_value undef;
    napi_get_undefined(e, &undef);
    args.resize(10, undef);
  }
  E& enc() {
    void* p;
    XLT_NAPI_CHECK(napi_unwrap(env, self, &p));
    auto* holder = static_cast<std::unique_ptr<E>*>(p);
    if (!*holder) throw JsError{0, "native encoder used after dispose()"};
    return **holder;
  }
  napi_value undefined() {
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  }
};

/** Runs a callback body, turning C++ exceptions into JS ones. */
template <class E, class F>
napi_value guard(napi_env env, napi_callback_info info, F body) {
  try {
    Call<E> c(env, info);
    return body(c);
  } catch (const ArgumentError& e) {
    if (e.kind == ArgumentError::kTypeError) napi_throw_type_error(env, nullptr, e.message.c_str());
    else if (e.kind == ArgumentError::kRangeError) napi_throw_range_error(env, nullptr, e.message.c_str());
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

/** The JS shape object ({layers, hidden, ...}), checked. */
inline EncoderShape shape_arg(napi_env env, napi_value v) {
  napi_value s = object(env, v, "shape");
  const ShapeArgs args{num(env, prop(env, s, "layers"), "layers"),     num(env, prop(env, s, "hidden"), "hidden"),
                       num(env, prop(env, s, "heads"), "heads"),       num(env, prop(env, s, "ffn"), "ffn"),
                       num(env, prop(env, s, "vocab"), "vocab"),       num(env, prop(env, s, "maxPos"), "maxPos"),
                       num(env, prop(env, s, "typeVocab"), "typeVocab"), num(env, prop(env, s, "eps"), "eps"),
                       num(env, prop(env, s, "hiddenDropout"), "hiddenDropout"),
                       num(env, prop(env, s, "attnDropout"), "attnDropout"),
                       num(env, prop(env, s, "wordPad"), "wordPad"),   num(env, prop(env, s, "posPad"), "posPad")};
  return checkShape(args);
}

/** The JS AdamW step object ({lr, b1, b2, eps, wd, step}), checked. */
inline AdamW adamw_arg(napi_env env, napi_value v) {
  napi_value h = object(env, v, "step");
  return checkAdamw(num(env, prop(env, h, "lr"), "lr"), num(env, prop(env, h, "b1"), "b1"),
                    num(env, prop(env, h, "b2"), "b2"), num(env, prop(env, h, "eps"), "eps"),
                    num(env, prop(env, h, "wd"), "wd"), num(env, prop(env, h, "step"), "step"));
}

/** Wraps a new encoder into `self` (deleted when the JS object is collected). */
template <class E>
void wrap(napi_env env, napi_value self, E* encoder) {
  auto* holder = new std::unique_ptr<E>(encoder);
  if (napi_wrap(env, self, holder, [](napi_env, void* p, void*) { delete static_cast<std::unique_ptr<E>*>(p); },
                nullptr, nullptr) != napi_ok) {
    delete holder;
    throw JsError{0, "napi_wrap failed"};
  }
}

/** dispose(): drops the encoder (its memory) now; later calls say it was disposed. */
template <class E>
napi_value dispose(napi_env env, napi_callback_info info) {
  return guard<E>(env, info, [](Call<E>& c) {
    void* p;
    XLT_NAPI_CHECK(napi_unwrap(c.env, c.self, &p));
    static_cast<std::unique_ptr<E>*>(p)->reset();
    return c.undefined();
  });
}

/** The arguments of forward(ids, types, mask, pos, B, T, training, seed), converted and checked. */
struct ForwardInputs {
  const int32_t *ids, *types, *mask, *pos;
  bool training;
  ForwardArgs args;
};

template <class E>
ForwardInputs forward_inputs(Call<E>& c, const EncoderShape& shape) {
  napi_env env = c.env;
  const double B = num(env, c.args[4], "batchSize"), T = num(env, c.args[5], "sequenceLength");
  size_t nIds, nTypes, nMask, nPos;
  ForwardInputs in;
  in.ids = typed<int32_t>(env, c.args[0], "inputIds", &nIds);
  in.types = typed<int32_t>(env, c.args[1], "tokenTypeIds", &nTypes);
  in.mask = typed<int32_t>(env, c.args[2], "attentionMask", &nMask);
  in.pos = typed<int32_t>(env, c.args[3], "positionIds", &nPos);
  in.training = boolean(env, c.args[6], "training");
  in.args = checkForward(shape, B, T, nIds, nTypes, nMask, nPos, num(env, c.args[7], "seed"));
  return in;
}

/** A new Float32Array of n floats; *data points at its storage. */
inline napi_value float_array(napi_env env, size_t n, float** data) {
  void* raw;
  napi_value ab, result;
  XLT_NAPI_CHECK(napi_create_arraybuffer(env, n * sizeof(float), &raw, &ab));
  XLT_NAPI_CHECK(napi_create_typedarray(env, napi_float32_array, n, ab, 0, &result));
  *data = static_cast<float*>(raw);
  return result;
}

// The entry points both addons share: their encoders have the same training interface (CPU arenas or GPU memory).

/** backward(dHidden: Float32Array of the last training forward's [B, T, H]). */
template <class E>
napi_value backward(napi_env env, napi_callback_info info) {
  return guard<E>(env, info, [](Call<E>& c) {
    auto& e = c.enc();
    if (!e.has_training_forward()) checkBackward(false, 0, 0);  // this error first, whatever dHidden is
    size_t len;
    const float* d = typed<float>(c.env, c.args[0], "dHidden", &len);
    checkBackward(e.has_training_forward(), e.expected_hidden_size(), len);
    e.backward(d);
    return c.undefined();
  });
}

template <class E>
napi_value zero_gradients(napi_env env, napi_callback_info info) {
  return guard<E>(env, info, [](Call<E>& c) {
    c.enc().zero_grads();
    return c.undefined();
  });
}

template <class E>
napi_value scale_gradients(napi_env env, napi_callback_info info) {
  return guard<E>(env, info, [](Call<E>& c) {
    c.enc().scale_grads((float)num(c.env, c.args[0], "factor"));
    return c.undefined();
  });
}

template <class E>
napi_value gradient_squared_norm(napi_env env, napi_callback_info info) {
  return guard<E>(env, info, [](Call<E>& c) {
    napi_value r;
    XLT_NAPI_CHECK(napi_create_double(c.env, c.enc().grad_squared_norm(), &r));
    return r;
  });
}

/** adamw({lr, b1, b2, eps, wd, step}, segments: Float64Array of (offset, length, decay) triples). */
template <class E>
napi_value adamw(napi_env env, napi_callback_info info) {
  return guard<E>(env, info, [](Call<E>& c) {
    auto& e = c.enc();
    const AdamW a = adamw_arg(c.env, c.args[0]);
    size_t n;
    const double* seg = typed<double>(c.env, c.args[1], "segments", &n);
    const Segments s = checkSegments(seg, n, e.total());
    e.adamw(a, s.offsets, s.lengths, s.decay);
    return c.undefined();
  });
}

/** A method descriptor for napi_define_class. */
inline napi_property_descriptor method(const char* name, napi_callback fn) {
  return {name, nullptr, fn, nullptr, nullptr, nullptr, napi_default, nullptr};
}

}  // namespace napi
}  // namespace xlt
