/*
 * The addon's module: its calls (the AEAD of native/aead.c, the HMAC of native/hmac.c, the
 * shared Ed25519 runs of native/ed25519.c), the argument helpers they share, and the end of a
 * thread's environment, when each thread's OpenSSL contexts (holding the last keys they used)
 * are freed and wiped.
 */
#include <limits.h>
#include "common.h"

napi_value sg_fail(napi_env env, int range, const char* message) {
  if (range) napi_throw_range_error(env, "ERR_SECRET_GROUP_NATIVE_RANGE", message);
  else napi_throw_type_error(env, "ERR_SECRET_GROUP_NATIVE_TYPE", message);
  return NULL;
}

int sg_get_bytes(napi_env env, napi_value value, Bytes* out) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void* data = NULL;
  if (napi_get_typedarray_info(env, value, &type, &out->length, &data, &buffer, &offset) != napi_ok || type != napi_uint8_array) return 0;
  /* an empty view may have no backing store: point at something harmless */
  static const uint8_t EMPTY[1] = {0};
  out->data = data != NULL ? (uint8_t*)data : (uint8_t*)EMPTY;
  return 1;
}

int sg_get_index(napi_env env, napi_value value, size_t* out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || !(d >= 0) || d > (double)INT_MAX || d != (double)(int64_t)d) return 0;
  *out = (size_t)d;
  return 1;
}

/* When a thread's environment ends (a worker exits, the process ends): its contexts go, wiped. */
static void free_thread_contexts(void* unused) {
  (void)unused;
  sg_aead_free_thread();
  sg_hmac_free_thread();
}

NAPI_MODULE_INIT() {
  if (napi_add_env_cleanup_hook(env, free_thread_contexts, NULL) != napi_ok) return NULL;
  napi_property_descriptor methods[] = {
      {"open", NULL, sg_aead_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seal", NULL, sg_aead_seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"hmac", NULL, sg_hmac, NULL, NULL, NULL, napi_enumerable, NULL},
      {"runOpen", NULL, sg_ed25519_run_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"runAdd", NULL, sg_ed25519_run_add, NULL, NULL, NULL, napi_enumerable, NULL},
      {"runTake", NULL, sg_ed25519_run_take, NULL, NULL, NULL, napi_enumerable, NULL},
      {"runClose", NULL, sg_ed25519_run_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]), methods) != napi_ok) return NULL;
  return exports;
}
