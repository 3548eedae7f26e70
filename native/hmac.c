/*
 * HMAC with SHA-256, SHA-384 or SHA-512 on the OpenSSL that Node.js links, for the MLS
 * provider's HMAC and HKDF (src/mls/crypto/hash.ts, src/mls/crypto/hpkeCore.ts).
 *
 * Why: createHmac costs ~3.1 us a call (an OpenSSL 3 fetch, a new context, the JS objects) for
 * ~0.3 us of hashing, and an owner's commit at 1000 members makes thousands of HMACs. Here each
 * thread keeps one EVP_MAC_CTX per hash, made once, and re-keys it per call (EVP_MAC_init with
 * the key): ~0.5 us (bench/results/NOTES.md, session 27). No cryptography is ours.
 *
 * hmac(hash, key, target, a, b?, c?, d?) writes HMAC(key, a || b || c || d) into
 * target[0, size): hash 1, 2, 3 is SHA-256, SHA-384, SHA-512 (size 32, 48, 64); a part may be
 * undefined (left out). A wrong type or hash throws a TypeError, a target shorter than the MAC a
 * RangeError, before any byte is touched.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include "common.h"

#define HASHES 4 /* 1 SHA-256, 2 SHA-384, 3 SHA-512 (src/mls/crypto/hash.ts HASHES) */
#define MAX_PARTS 4

static const char* const DIGEST_NAME[HASHES] = {NULL, "SHA256", "SHA384", "SHA512"};
static const size_t DIGEST_SIZE[HASHES] = {0, 32, 48, 64};

/* Per thread: one HMAC context per hash, its digest set once (freed by sg_hmac_free_thread). */
static _Thread_local EVP_MAC_CTX* contexts[HASHES];

static EVP_MAC_CTX* context_for(int32_t hash) {
  if (contexts[hash] != NULL) return contexts[hash];
  EVP_MAC* mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  if (mac == NULL) return NULL;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac); /* the context keeps its own reference */
  if (ctx == NULL) return NULL;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char*)DIGEST_NAME[hash], 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return NULL;
  }
  contexts[hash] = ctx;
  return ctx;
}

napi_value sg_hmac(napi_env env, napi_callback_info info) {
  napi_value argv[3 + MAX_PARTS];
  size_t argc = 3 + MAX_PARTS;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || argc > 3 + MAX_PARTS) return sg_fail(env, 0, "wrong number of arguments");
  int32_t hash;
  if (napi_get_value_int32(env, argv[0], &hash) != napi_ok || hash < 1 || hash >= HASHES) return sg_fail(env, 0, "unknown hash");
  Bytes key, target, parts[MAX_PARTS];
  if (!sg_get_bytes(env, argv[1], &key) || !sg_get_bytes(env, argv[2], &target)) return sg_fail(env, 0, "key and target must be Uint8Arrays");
  size_t count = 0;
  for (size_t i = 3; i < argc; i++) {
    napi_valuetype type;
    if (napi_typeof(env, argv[i], &type) == napi_ok && type == napi_undefined) continue;
    if (!sg_get_bytes(env, argv[i], &parts[count++])) return sg_fail(env, 0, "parts must be Uint8Arrays or undefined");
  }
  size_t size = DIGEST_SIZE[hash];
  if (target.length < size) return sg_fail(env, 1, "target shorter than the MAC");

  EVP_MAC_CTX* ctx = context_for(hash);
  int ok = ctx != NULL && EVP_MAC_init(ctx, key.data, key.length, NULL) == 1;
  for (size_t i = 0; ok && i < count; i++) ok = EVP_MAC_update(ctx, parts[i].data, parts[i].length) == 1;
  size_t written = 0;
  ok = ok && EVP_MAC_final(ctx, target.data, &written, size) == 1 && written == size;
  if (!ok) {
    OPENSSL_cleanse(target.data, size);
    return sg_fail(env, 0, "OpenSSL refused the HMAC");
  }
  return NULL;
}

/* The thread's HMAC contexts, freed and wiped (each holds the last key's inner and outer state). */
void sg_hmac_free_thread(void) {
  for (int hash = 1; hash < HASHES; hash++) {
    EVP_MAC_CTX_free(contexts[hash]);
    contexts[hash] = NULL;
  }
}
