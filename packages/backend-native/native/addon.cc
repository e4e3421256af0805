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
#include "napi-util.h"

namespace {

using xlt::ArenaRef;
using xlt::napi::boolean;
using xlt::napi::JsError;
using xlt::napi::num;
using xlt::napi::typed;
using Call = xlt::napi::Call<xlt::Encoder>;

template <class F>
napi_value guard(napi_env env, napi_callback_info info, F body) {
  return xlt::napi::guard<xlt::Encoder>(env, info, body);
}

#define CHECK(call) XLT_NAPI_CHECK(call)

napi_value external(napi_env env, const ArenaRef& arena) {
  auto* hold = new ArenaRef(arena);
  napi_value ab;
  CHECK(napi_create_external_arraybuffer(
      env, arena->data, arena->size * sizeof(float),
      [](napi_env, void*, void* hint) { delete static_cast<ArenaRef*>(hint); }, hold, &ab));
  return ab;
}

// new NativeEncoder(shape, totalFloats, layout: Float64Array [5 embedding + 16 per layer offsets])
napi_value Construct(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    napi_env env = c.env;
    const xlt::EncoderShape sh = xlt::napi::shape_arg(env, c.args[0]);
    const size_t total = xlt::checkTotal(num(env, c.args[1], "total"));
    size_t nOff;
    const double* off = typed<double>(env, c.args[2], "layout", &nOff);
    const xlt::Layout layout = xlt::checkLayout(sh, total, off, nOff);
    xlt::napi::wrap(env, c.self, new xlt::Encoder(sh, total, layout.emb, layout.layers));
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
    auto& e = c.enc();
    const xlt::napi::ForwardInputs in = xlt::napi::forward_inputs(c, e.shape);
    const xlt::ForwardArgs& f = in.args;
    const float* out = e.forward(in.ids, in.types, in.mask, in.pos, f.batchSize, f.sequenceLength, in.training, f.seed);
    const size_t n = f.tokens * e.shape.hidden;
    float* data;
    napi_value result = xlt::napi::float_array(c.env, n, &data);
    std::memcpy(data, out, n * sizeof(float));
    return result;
  });
}

napi_value TouchAllRows(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    c.enc().touch_all_rows();
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
      {"backward", nullptr, xlt::napi::backward<xlt::Encoder>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"zeroGradients", nullptr, xlt::napi::zero_gradients<xlt::Encoder>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"scaleGradients", nullptr, xlt::napi::scale_gradients<xlt::Encoder>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gradientSquaredNorm", nullptr, xlt::napi::gradient_squared_norm<xlt::Encoder>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"touchAllRows", nullptr, TouchAllRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamw", nullptr, xlt::napi::adamw<xlt::Encoder>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dispose", nullptr, xlt::napi::dispose<xlt::Encoder>, nullptr, nullptr, nullptr, napi_default, nullptr},
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
