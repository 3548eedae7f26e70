/*
 * What the addon's calls share (native/addon.c defines these): byte arguments, offsets and the
 * typed exceptions. Prefixed, and hidden by the build's -fvisibility=hidden, so nothing here can
 * meet a symbol of Node's own.
 */
#ifndef SECRET_GROUP_COMMON_H
#define SECRET_GROUP_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

typedef struct {
  uint8_t* data;
  size_t length;
} Bytes;

/* Throws a RangeError (range) or a TypeError with `message`; returns NULL for the call to return. */
napi_value sg_fail(napi_env env, int range, const char* message);
/* A Uint8Array's bytes (an empty one points at a harmless static byte); 0 if `value` is none. */
int sg_get_bytes(napi_env env, napi_value value, Bytes* out);
/* An integer offset in [0, 2^31); 0 if `value` is none. */
int sg_get_index(napi_env env, napi_value value, size_t* out);

/* native/aead.c */
napi_value sg_aead_open(napi_env env, napi_callback_info info);
napi_value sg_aead_seal(napi_env env, napi_callback_info info);
void sg_aead_free_thread(void);

/* native/hmac.c */
napi_value sg_hmac(napi_env env, napi_callback_info info);
void sg_hmac_free_thread(void);

/* native/ed25519.c */
napi_value sg_ed25519_run_open(napi_env env, napi_callback_info info);
napi_value sg_ed25519_run_add(napi_env env, napi_callback_info info);
napi_value sg_ed25519_run_take(napi_env env, napi_callback_info info);
napi_value sg_ed25519_run_close(napi_env env, napi_callback_info info);

#endif
