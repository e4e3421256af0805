// libFuzzer driver for JavaScript targets: a tiny N-API addon that hands a JS-filled Uint8Array to libFuzzer as
// inline 8-bit counters and runs libFuzzer's loop inside one synchronous N-API call. Because the loop runs on the
// main thread inside that call, the napi_env stays valid and the JS callback can be called directly per input.
#include <node_api.h>

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" {
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *data, size_t size));
void __sanitizer_cov_8bit_counters_init(uint8_t *start, uint8_t *stop);
void __sanitizer_cov_pcs_init(const uintptr_t *pcs_beg, const uintptr_t *pcs_end);

// libFuzzer looks these up in a sanitizer runtime and warns when there is none. There is nothing to sanitize in
// JS, and the useful stack (the JS one) is printed before the abort, so trivial versions silence the warnings.
int __sanitizer_acquire_crash_state() {
  static std::atomic<bool> taken{false};
  return !taken.exchange(true);
}
void __sanitizer_print_stack_trace() {}
void __sanitizer_set_death_callback(void (*)(void)) {}
}

namespace {

napi_env g_env;
napi_ref g_callback;
// libFuzzer keeps pointers to these for the whole run: they must outlive the call.
std::vector<uintptr_t> g_pcs;
std::vector<std::string> g_args;
std::vector<char *> g_argv;

std::string ToUtf8(napi_env env, napi_value v) {
  napi_value s;
  if (napi_coerce_to_string(env, v, &s) != napi_ok) return "<unprintable>";
  size_t n = 0;
  napi_get_value_string_utf8(env, s, nullptr, 0, &n);
  std::string out(n, '\0');
  napi_get_value_string_utf8(env, s, out.data(), n + 1, &n);
  return out;
}

// A JS exception is the target's "crash": print it, then abort so that libFuzzer's SIGABRT handler writes the
// input as a crash artifact (-artifact_prefix) and exits non-zero, exactly as for a native crash.
[[noreturn]] void CrashOnException(napi_env env) {
  napi_value error;
  napi_get_and_clear_last_exception(env, &error);
  std::string text = ToUtf8(env, error);
  napi_valuetype type;
  if (napi_typeof(env, error, &type) == napi_ok && type == napi_object) {
    napi_value stack;
    bool has = false;
    if (napi_has_named_property(env, error, "stack", &has) == napi_ok && has &&
        napi_get_named_property(env, error, "stack", &stack) == napi_ok) {
      napi_valuetype st;
      napi_typeof(env, stack, &st);
      if (st == napi_string) text = ToUtf8(env, stack);
    }
  }
  fprintf(stderr, "\n==%d== Uncaught JavaScript exception in the fuzz target:\n%s\n", static_cast<int>(getpid()),
          text.c_str());
  fflush(stderr);
  abort();
}

int TestOneInput(const uint8_t *data, size_t size) {
  napi_env env = g_env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, undefined, buf, result;
  napi_get_reference_value(env, g_callback, &fn);
  napi_get_undefined(env, &undefined);
  // A copy, because libFuzzer reuses its buffer and a target may keep the Buffer.
  void *copy;
  napi_create_buffer_copy(env, size, size ? data : reinterpret_cast<const uint8_t *>(""), &copy, &buf);
  napi_status status = napi_call_function(env, undefined, fn, 1, &buf, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (status != napi_ok || pending) CrashOnException(env);
  napi_close_handle_scope(env, scope);
  return 0;
}

napi_value Throw(napi_env env, const char *message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

// runFuzzer(argv: string[], testOneInput: (data: Buffer) => void, counters: Uint8Array): number
napi_value RunFuzzer(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc != 3) return Throw(env, "runFuzzer(argv, testOneInput, counters) takes 3 arguments");

  bool is_array = false;
  napi_is_array(env, args[0], &is_array);
  if (!is_array) return Throw(env, "argv must be an array of strings");
  uint32_t n = 0;
  napi_get_array_length(env, args[0], &n);
  g_args.clear();
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    napi_get_element(env, args[0], i, &item);
    g_args.push_back(ToUtf8(env, item));
  }
  g_argv.clear();
  for (auto &a : g_args) g_argv.push_back(a.data());
  g_argv.push_back(nullptr);

  napi_valuetype type;
  napi_typeof(env, args[1], &type);
  if (type != napi_function) return Throw(env, "testOneInput must be a function");

  bool is_typed = false;
  napi_is_typedarray(env, args[2], &is_typed);
  if (!is_typed) return Throw(env, "counters must be a Uint8Array");
  napi_typedarray_type ta_type;
  size_t length;
  void *data;
  napi_get_typedarray_info(env, args[2], &ta_type, &length, &data, nullptr, nullptr);
  if (ta_type != napi_uint8_array || length == 0) return Throw(env, "counters must be a non-empty Uint8Array");

  // The counters are JS memory (an ArrayBuffer's backing store never moves); the PC table is fake but must have
  // one {pc, flags} pair per counter, or libFuzzer refuses the module. PCs are distinct and non-zero.
  auto *counters = static_cast<uint8_t *>(data);
  g_pcs.assign(2 * length, 0);
  for (size_t i = 0; i < length; i++) g_pcs[2 * i] = i + 1;
  __sanitizer_cov_8bit_counters_init(counters, counters + length);
  __sanitizer_cov_pcs_init(g_pcs.data(), g_pcs.data() + g_pcs.size());

  g_env = env;
  napi_create_reference(env, args[1], 1, &g_callback);
  int fuzz_argc = static_cast<int>(g_args.size());
  char **fuzz_argv = g_argv.data();
  // Returns only for modes that do not exit the process themselves; normal ends call exit().
  int rc = LLVMFuzzerRunDriver(&fuzz_argc, &fuzz_argv, TestOneInput);
  napi_delete_reference(env, g_callback);
  napi_value out;
  napi_create_int32(env, rc, &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "runFuzzer", NAPI_AUTO_LENGTH, RunFuzzer, nullptr, &fn);
  napi_set_named_property(env, exports, "runFuzzer", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
