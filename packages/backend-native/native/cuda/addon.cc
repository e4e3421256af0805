// N-API surface of the CUDA backend: one CudaEncoder class over xlt::cuda::Encoder, and probe(). Unlike the CPU
// addon, arenas live on the GPU, so parameters, gradients and moments cross as copies (download / upload).
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>

#include "../entry-checks.h"
#include "../napi-util.h"
#include "encoder.h"

namespace {

using xlt::cuda::Encoder;
using xlt::napi::num;
using xlt::napi::typed;
using Call = xlt::napi::Call<Encoder>;

template <class F>
napi_value guard(napi_env env, napi_callback_info info, F body) {
  return xlt::napi::guard<Encoder>(env, info, body);
}

xlt::cuda::Arena arena_arg(napi_env env, napi_value v) {
  return (xlt::cuda::Arena)xlt::checkWhole(num(env, v, "arena"), "arena", 0, 3);
}

// A count of floats in [0, hi] (arenas may exceed 2^31 floats, beyond checkWhole's int).
size_t floats(double d, const char* what, double hi) {
  if (!(d >= 0 && d <= hi && d == std::floor(d)))
    throw xlt::ArgumentError(xlt::ArgumentError::kRangeError, std::string(what) + ": expected a whole number in [0, " +
                                                                 std::to_string((long long)hi) + "], found " + std::to_string(d));
  return (size_t)d;
}

// new CudaEncoder(shape, totalFloats, layout: Float64Array, precision: 0 fp32 | 1 tf32 | 2 bf16)
napi_value Construct(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    napi_env env = c.env;
    const xlt::EncoderShape sh = xlt::napi::shape_arg(env, c.args[0]);
    const size_t total = xlt::checkTotal(num(env, c.args[1], "total"));
    size_t nOff;
    const double* off = typed<double>(env, c.args[2], "layout", &nOff);
    const xlt::Layout layout = xlt::checkLayout(sh, total, off, nOff);
    const auto precision = (xlt::cuda::Precision)xlt::checkWhole(num(env, c.args[3], "precision"), "precision", 0, 2);
    xlt::napi::wrap(env, c.self, new Encoder(sh, total, layout.emb, layout.layers, precision));
    return c.self;
  });
}

// download(arena, offset, length) -> Float32Array of floats offset .. offset + length of the arena (a host copy)
napi_value Download(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    auto& e = c.enc();
    const auto which = arena_arg(c.env, c.args[0]);
    const double total = (double)e.total();
    const size_t offset = floats(num(c.env, c.args[1], "offset"), "offset", total);
    const size_t length = floats(num(c.env, c.args[2], "length"), "length", total - (double)offset);
    float* data;
    napi_value result = xlt::napi::float_array(c.env, length, &data);
    e.download(which, offset, length, data);
    return result;
  });
}

// upload(arena, Float32Array of totalFloats)
napi_value Upload(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    auto& e = c.enc();
    const auto which = arena_arg(c.env, c.args[0]);
    size_t n;
    const float* src = typed<float>(c.env, c.args[1], "values", &n);
    xlt::checkLength("values", e.total(), n);
    e.upload(which, src);
    return c.undefined();
  });
}

// forward(ids, types, mask, pos, B, T, training, seed) -> Float32Array [B*T*H]
napi_value Forward(napi_env env, napi_callback_info info) {
  return guard(env, info, [](Call& c) {
    auto& e = c.enc();
    const xlt::napi::ForwardInputs in = xlt::napi::forward_inputs(c, e.shape);
    const xlt::ForwardArgs& f = in.args;
    float* data;
    napi_value result = xlt::napi::float_array(c.env, f.tokens * e.shape.hidden, &data);
    e.forward(in.ids, in.types, in.mask, in.pos, f.batchSize, f.sequenceLength, in.training, f.seed, data);
    return result;
  });
}

// probe() -> { available, detail }: a visible GPU and a loadable cuBLAS, or why not.
napi_value Probe(napi_env env, napi_callback_info) {
  std::string detail;
  bool available = false;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    detail = std::string("no GPU visible: ") + cudaGetErrorString(e);
  } else if (count == 0) {
    detail = "no GPU visible: cudaGetDeviceCount found 0 devices";
  } else {
#ifdef XLT_CUDA_EMULATION
    detail = "CPU emulation of the CUDA kernels (for tests; slow)";
#else
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, 0) == cudaSuccess)
      detail = std::string(p.name) + ", sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
               std::to_string(p.totalGlobalMem >> 20) + " MiB";
#endif
    const std::string blas = xlt::cuda::blas_load();
    if (blas.empty()) available = true;
    else detail += (detail.empty() ? "" : "; ") + blas;
  }
  napi_value r, a, d;
  napi_create_object(env, &r);
  napi_get_boolean(env, available, &a);
  napi_create_string_utf8(env, detail.c_str(), detail.size(), &d);
  napi_set_named_property(env, r, "available", a);
  napi_set_named_property(env, r, "detail", d);
  return r;
}

napi_value Init(napi_env env, napi_value exports) {
  using xlt::napi::method;
  napi_property_descriptor methods[] = {
      method("download", Download),
      method("upload", Upload),
      method("forward", Forward),
      method("backward", xlt::napi::backward<Encoder>),
      method("zeroGradients", xlt::napi::zero_gradients<Encoder>),
      method("scaleGradients", xlt::napi::scale_gradients<Encoder>),
      method("gradientSquaredNorm", xlt::napi::gradient_squared_norm<Encoder>),
      method("adamw", xlt::napi::adamw<Encoder>),
      method("dispose", xlt::napi::dispose<Encoder>),
  };
  napi_value cls, fn, flag;
  napi_define_class(env, "CudaEncoder", NAPI_AUTO_LENGTH, Construct, nullptr, sizeof(methods) / sizeof(methods[0]),
                    methods, &cls);
  napi_set_named_property(env, exports, "CudaEncoder", cls);
  napi_create_function(env, "probe", NAPI_AUTO_LENGTH, Probe, nullptr, &fn);
  napi_set_named_property(env, exports, "probe", fn);
#ifdef XLT_CUDA_EMULATION
  napi_get_boolean(env, true, &flag);
#else
  napi_get_boolean(env, false, &flag);
#endif
  napi_set_named_property(env, exports, "emulated", flag);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
