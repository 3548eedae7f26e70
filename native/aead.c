/*
 * One-shot AEAD of the long-term ciphersuites (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305) on
 * the OpenSSL that Node.js itself links, for src/nativeAead.ts.
 *
 * Why: node:crypto's createDecipheriv costs ~4.3 us a value before any byte is deciphered (an
 * OpenSSL 3 cipher fetch, a new context, the JS objects around it), 5-8x the work of a 1 KiB
 * value. Here each thread fetches each cipher once and keeps one context per suite and direction;
 * a call sets key and nonce on it (EVP_*Init_ex with a NULL cipher keeps the fetched one) and runs
 * the usual update/final sequence. No cryptography is ours: this file only reuses the context.
 * A call with the key its context already holds sets only the nonce: OpenSSL keeps the key
 * schedule (and GCM's hash key) across inits with a NULL key, and re-keying was ~0.17 us of a
 * ~0.7 us 1 KiB open (bench/results/NOTES.md, session 36); a bulk batch runs on one key.
 *
 * Rules every call keeps:
 * - every offset and length is checked against its buffer before any byte is touched (a bad one
 *   throws a RangeError; a wrong type or key length a TypeError);
 * - open writes the plaintext into the caller's buffer, then checks the tag (EVP_DecryptFinal_ex,
 *   which compares in constant time); on a failure the written bytes are wiped before returning
 *   false, so no unauthenticated byte reaches JavaScript;
 * - the output may be the input itself (in place) but not overlap it otherwise.
 */
#include <limits.h>
#include <string.h>
#include "common.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define NONCE 12
#define TAG 16
#define SUITES 4 /* 1 AES-128-GCM, 2 AES-256-GCM, 3 ChaCha20-Poly1305 (src/constants.ts) */

static const char* const CIPHER_NAME[SUITES] = {NULL, "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
static const size_t KEY_SIZE[SUITES] = {0, 16, 32, 32};

/* Per thread (the main thread and each worker load this module): fetched ciphers and contexts,
 * freed when the thread's environment ends (free_thread_contexts). */
static _Thread_local EVP_CIPHER* fetched[SUITES];
static _Thread_local EVP_CIPHER_CTX* contexts[2][SUITES];
/* The key each context holds (valid while keyed[...] is set): the context's key schedule is the
 * same secret, so this copy is kept, and wiped, with it. */
static _Thread_local uint8_t held_key[2][SUITES][32];
static _Thread_local int keyed[2][SUITES];

static int get_suite(napi_env env, napi_value value, int32_t* out) {
  return napi_get_value_int32(env, value, out) == napi_ok && *out >= 1 && *out < SUITES;
}

/* The thread's context for a suite and direction, keyed with no key yet; NULL if OpenSSL refuses. */
static EVP_CIPHER_CTX* context_for(int encrypt, int32_t suite) {
  EVP_CIPHER_CTX* ctx = contexts[encrypt][suite];
  if (ctx != NULL) return ctx;
  if (fetched[suite] == NULL) fetched[suite] = EVP_CIPHER_fetch(NULL, CIPHER_NAME[suite], NULL);
  if (fetched[suite] == NULL) return NULL;
  ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) return NULL;
  if (EVP_CipherInit_ex(ctx, fetched[suite], NULL, NULL, NULL, encrypt) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return NULL;
  }
  contexts[encrypt][suite] = ctx;
  return ctx;
}

/* Sets the nonce on a suite's context, and the key unless the context holds it already; 0 if
 * OpenSSL refuses (the context is then taken as holding no key). */
static int set_key_and_nonce(EVP_CIPHER_CTX* ctx, int encrypt, int32_t suite, const Bytes* key, const uint8_t* nonce) {
  if (keyed[encrypt][suite] && CRYPTO_memcmp(held_key[encrypt][suite], key->data, key->length) == 0) {
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, encrypt) == 1) return 1;
  }
  keyed[encrypt][suite] = 0;
  if (EVP_CipherInit_ex(ctx, NULL, NULL, key->data, nonce, encrypt) != 1) return 0;
  memcpy(held_key[encrypt][suite], key->data, key->length);
  keyed[encrypt][suite] = 1;
  return 1;
}

/* Whether [a, a + n) and [b, b + n) overlap without being the same range. */
static int overlaps(const uint8_t* a, const uint8_t* b, size_t n) {
  return n > 0 && a != b && a < b + n && b < a + n;
}

/*
 * The arguments of a call taking `expected` of them, and its leading (suite, key, nonce), checked:
 * 0 once it has thrown.
 */
static int leading_args(napi_env env, napi_callback_info info, size_t expected, napi_value* argv, int32_t* suite, Bytes* key, Bytes* nonce) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != expected) return sg_fail(env, 0, "wrong number of arguments"), 0;
  if (!get_suite(env, argv[0], suite)) return sg_fail(env, 0, "unknown suite"), 0;
  if (!sg_get_bytes(env, argv[1], key) || !sg_get_bytes(env, argv[2], nonce)) return sg_fail(env, 0, "key and nonce must be Uint8Arrays"), 0;
  if (key->length != KEY_SIZE[*suite]) return sg_fail(env, 0, "wrong key length for the suite"), 0;
  if (nonce->length != NONCE) return sg_fail(env, 0, "nonce must be 12 bytes"), 0;
  return 1;
}

/*
 * open(suite, key, nonce, source, ctAt, end, aad, target, targetAt) -> boolean
 * Opens source[ctAt, end - 16) with the tag source[end - 16, end) into
 * target[targetAt, targetAt + end - 16 - ctAt). False (the target range wiped) when the tag fails.
 */
napi_value sg_aead_open(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int32_t suite;
  Bytes key, nonce, source, aad, target;
  size_t ct_at, end, target_at;
  if (!leading_args(env, info, 9, argv, &suite, &key, &nonce)) return NULL;
  if (!sg_get_bytes(env, argv[3], &source) || !sg_get_bytes(env, argv[6], &aad) || !sg_get_bytes(env, argv[7], &target)) return sg_fail(env, 0, "source, aad and target must be Uint8Arrays");
  if (!sg_get_index(env, argv[4], &ct_at) || !sg_get_index(env, argv[5], &end) || !sg_get_index(env, argv[8], &target_at)) return sg_fail(env, 1, "offsets must be integers in [0, 2^31)");
  if (end > source.length || ct_at > end || end - ct_at < TAG) return sg_fail(env, 1, "ciphertext outside the source");
  size_t length = end - TAG - ct_at;
  if (target_at > target.length || target.length - target_at < length) return sg_fail(env, 1, "plaintext does not fit the target");
  if (aad.length > INT_MAX) return sg_fail(env, 1, "aad too long");
  uint8_t* out = target.data + target_at;
  const uint8_t* in = source.data + ct_at;
  if (overlaps(out, in, length)) return sg_fail(env, 1, "target overlaps the ciphertext");

  EVP_CIPHER_CTX* ctx = context_for(0, suite);
  int ok = ctx != NULL;
  int written = 0;
  ok = ok && set_key_and_nonce(ctx, 0, suite, &key, nonce.data);
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG, (void*)(source.data + end - TAG)) == 1;
  ok = ok && (aad.length == 0 || EVP_DecryptUpdate(ctx, NULL, &written, aad.data, (int)aad.length) == 1);
  ok = ok && (length == 0 || EVP_DecryptUpdate(ctx, out, &written, in, (int)length) == 1);
  /* GCM and ChaCha20-Poly1305 write nothing at final: it only checks the tag */
  ok = ok && EVP_DecryptFinal_ex(ctx, out + length, &written) == 1;
  if (!ok) OPENSSL_cleanse(out, length);
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

/*
 * seal(suite, key, nonce, plaintext, aad, target, targetAt) -> undefined
 * Writes ciphertext || 16-byte tag into target[targetAt, targetAt + plaintext.length + 16).
 */
napi_value sg_aead_seal(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int32_t suite;
  Bytes key, nonce, plaintext, aad, target;
  size_t target_at;
  if (!leading_args(env, info, 7, argv, &suite, &key, &nonce)) return NULL;
  if (!sg_get_bytes(env, argv[3], &plaintext) || !sg_get_bytes(env, argv[4], &aad) || !sg_get_bytes(env, argv[5], &target)) return sg_fail(env, 0, "plaintext, aad and target must be Uint8Arrays");
  if (!sg_get_index(env, argv[6], &target_at)) return sg_fail(env, 1, "offsets must be integers in [0, 2^31)");
  if (plaintext.length > INT_MAX - TAG || aad.length > INT_MAX) return sg_fail(env, 1, "plaintext or aad too long");
  size_t length = plaintext.length;
  if (target_at > target.length || target.length - target_at < length + TAG) return sg_fail(env, 1, "ciphertext does not fit the target");
  uint8_t* out = target.data + target_at;
  if (overlaps(out, plaintext.data, length)) return sg_fail(env, 1, "target overlaps the plaintext");

  EVP_CIPHER_CTX* ctx = context_for(1, suite);
  int ok = ctx != NULL;
  int written = 0;
  ok = ok && set_key_and_nonce(ctx, 1, suite, &key, nonce.data);
  ok = ok && (aad.length == 0 || EVP_EncryptUpdate(ctx, NULL, &written, aad.data, (int)aad.length) == 1);
  ok = ok && (length == 0 || EVP_EncryptUpdate(ctx, out, &written, plaintext.data, (int)length) == 1);
  ok = ok && EVP_EncryptFinal_ex(ctx, out + length, &written) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG, out + length) == 1;
  if (!ok) {
    OPENSSL_cleanse(out, length + TAG);
    return sg_fail(env, 0, "OpenSSL refused to seal");
  }
  return NULL;
}

/* The thread's contexts and fetched ciphers, freed (the contexts wiped) at its environment's end. */
void sg_aead_free_thread(void) {
  for (int encrypt = 0; encrypt < 2; encrypt++) {
    for (int suite = 1; suite < SUITES; suite++) {
      EVP_CIPHER_CTX_free(contexts[encrypt][suite]); /* cleanses the key schedule */
      contexts[encrypt][suite] = NULL;
      keyed[encrypt][suite] = 0;
    }
  }
  OPENSSL_cleanse(held_key, sizeof held_key);
  for (int suite = 1; suite < SUITES; suite++) {
    EVP_CIPHER_free(fetched[suite]);
    fetched[suite] = NULL;
  }
}
