/*
 * A run of Ed25519 verifications shared between the calling thread and one thread of libuv's
 * pool, for src/mls/crypto/verifyRun.ts: a joiner checks a signature on every leaf of the tree
 * (1000 at 1000 members) and libsodium, on the calling thread, is the only other core's worth
 * of work nobody gives it.
 *
 * How a run goes: the caller adds items (key, message, signature; copied here) while it still
 * walks the tree; the pool thread takes them from the front as they come and checks each on the
 * OpenSSL that Node.js links (EVP_DigestVerify, ~80 us against libsodium's ~50 on the caller,
 * bench/results/NOTES.md session 31). When the caller has added them all it takes the rest from
 * the back and checks them itself, so the pool thread's share follows whatever core time it
 * gets: on a busy machine it gets little, and the caller does nearly all. Each item is taken
 * exactly once, under the run's lock.
 *
 * The pool thread leaves once nothing is left to take and the caller has closed the run, started
 * taking, or added nothing for IDLE_WAIT_NS: a run never holds a pool thread for long, and a
 * worker stopped in the middle of a run (no close ever comes) can still end (Node waits for its
 * pool work before it tears the worker down).
 *
 * No cryptography is ours, and neither is the acceptance rule: the caller applies libsodium's
 * rule before it adds an item (src/ed25519Verify.ts `passesEd25519Rule`), OpenSSL checks the rest as
 * node:crypto's verify does. An item OpenSSL could not check (no memory) is reported unchecked
 * and the caller checks it.
 *
 * Calls (a wrong argument throws a TypeError before anything changes):
 * - runOpen(done): a run; done(verdicts) is called once the pool thread has left, with one byte
 *   per item it took (items 0 .. n-1): 1 valid, 2 invalid, 0 unchecked;
 * - runAdd(run, key, message, signature): key 32 bytes, signature 64; not after take or close;
 * - runTake(run): the index of an item for the caller to check, or -1 when none is left;
 * - runClose(run): the caller is done (any later call throws).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include "common.h"

#define KEY_BYTES 32
#define SIGNATURE_BYTES 64
#define IDLE_WAIT_NS 10000000L /* 10 ms: a joiner adds a leaf every ~15 us while it walks the tree */
#define NONE SIZE_MAX

enum { UNCHECKED = 0, VALID = 1, INVALID = 2 };

typedef struct {
  uint8_t key[KEY_BYTES];
  uint8_t signature[SIGNATURE_BYTES];
  uint8_t verdict;
  size_t length;
  uint8_t message[];
} Item;

typedef struct {
  pthread_mutex_t lock;
  pthread_cond_t added;
  Item** items; /* items never move once added; only this array of pointers grows */
  size_t capacity;
  size_t count;
  size_t front; /* items [0, front) are the pool thread's */
  size_t back;  /* NONE until the caller takes; then items [back, count) are the caller's */
  int closed;
  napi_async_work work;
  napi_ref done;
  int refs; /* the caller's handle and the pool work; freed at 0 (both let go on the JS thread) */
} Run;

static void release(Run* run) {
  if (--run->refs > 0) return;
  for (size_t i = 0; i < run->count; i++) free(run->items[i]);
  free(run->items);
  pthread_mutex_destroy(&run->lock);
  pthread_cond_destroy(&run->added);
  free(run);
}

static uint8_t check(EVP_MD_CTX* ctx, const Item* item) {
  if (ctx == NULL) return UNCHECKED;
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, item->key, KEY_BYTES);
  uint8_t verdict = UNCHECKED;
  if (key != NULL && EVP_MD_CTX_reset(ctx) == 1 && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1) {
    int ok = EVP_DigestVerify(ctx, item->signature, SIGNATURE_BYTES, item->message, item->length);
    verdict = ok == 1 ? VALID : ok == 0 ? INVALID : UNCHECKED;
  }
  EVP_PKEY_free(key);
  ERR_clear_error(); /* a refused signature leaves its reason on this pool thread's queue */
  return verdict;
}

static size_t limit_of(const Run* run) {
  return run->back == NONE ? run->count : run->back;
}

static void deadline(struct timespec* at) {
  clock_gettime(CLOCK_MONOTONIC, at);
  at->tv_nsec += IDLE_WAIT_NS;
  if (at->tv_nsec >= 1000000000L) {
    at->tv_sec += 1;
    at->tv_nsec -= 1000000000L;
  }
}

static void run_execute(napi_env env, void* data) {
  (void)env;
  Run* run = data;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  pthread_mutex_lock(&run->lock);
  for (;;) {
    if (run->front < limit_of(run)) {
      Item* item = run->items[run->front++];
      pthread_mutex_unlock(&run->lock);
      item->verdict = check(ctx, item);
      pthread_mutex_lock(&run->lock);
      continue;
    }
    if (run->closed || run->back != NONE) break; /* nothing more comes to this side */
    struct timespec at;
    deadline(&at);
    if (pthread_cond_timedwait(&run->added, &run->lock, &at) == ETIMEDOUT && run->front >= limit_of(run)) break;
  }
  pthread_mutex_unlock(&run->lock);
  EVP_MD_CTX_free(ctx);
}

static void run_complete(napi_env env, napi_status status, void* data) {
  Run* run = data;
  napi_value done, buffer, verdicts, global;
  void* bytes = NULL;
  /* the pool thread has left: front and the verdicts below it are final */
  if (status == napi_ok && napi_get_reference_value(env, run->done, &done) == napi_ok && done != NULL &&
      napi_create_arraybuffer(env, run->front, &bytes, &buffer) == napi_ok &&
      napi_create_typedarray(env, napi_uint8_array, run->front, buffer, 0, &verdicts) == napi_ok && napi_get_global(env, &global) == napi_ok) {
    for (size_t i = 0; i < run->front; i++) ((uint8_t*)bytes)[i] = run->items[i]->verdict;
    napi_call_function(env, global, done, 1, &verdicts, NULL);
  }
  napi_delete_reference(env, run->done);
  napi_delete_async_work(env, run->work);
  release(run);
}

static void run_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  release(data);
}

static Run* get_run(napi_env env, napi_value value) {
  napi_valuetype type;
  void* data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external || napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return data;
}

napi_value sg_ed25519_run_open(napi_env env, napi_callback_info info) {
  napi_value argv[1], handle, name;
  size_t argc = 1;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function)
    return sg_fail(env, 0, "runOpen takes a function");
  Run* run = calloc(1, sizeof(Run));
  if (run == NULL) return sg_fail(env, 0, "out of memory");
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&run->added, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&run->lock, NULL);
  run->back = NONE;
  run->refs = 1;
  if (napi_create_external(env, run, run_finalize, NULL, &handle) != napi_ok) {
    release(run);
    return sg_fail(env, 0, "no handle for the run");
  }
  if (napi_create_reference(env, argv[0], 1, &run->done) != napi_ok) return sg_fail(env, 0, "no reference to the run's function");
  if (napi_create_string_utf8(env, "secret-group:ed25519", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, run_execute, run_complete, run, &run->work) != napi_ok) {
    napi_delete_reference(env, run->done);
    return sg_fail(env, 0, "no pool work for the run");
  }
  if (napi_queue_async_work(env, run->work) != napi_ok) {
    napi_delete_async_work(env, run->work);
    napi_delete_reference(env, run->done);
    return sg_fail(env, 0, "the run's pool work was not queued");
  }
  run->refs++; /* the pool work's: let go in run_complete, which runs on this thread, later */
  return handle;
}

napi_value sg_ed25519_run_add(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc = 4;
  Bytes key, message, signature;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return sg_fail(env, 0, "runAdd takes a run, a key, a message and a signature");
  Run* run = get_run(env, argv[0]);
  if (run == NULL) return sg_fail(env, 0, "not a run");
  if (!sg_get_bytes(env, argv[1], &key) || !sg_get_bytes(env, argv[2], &message) || !sg_get_bytes(env, argv[3], &signature)) return sg_fail(env, 0, "key, message and signature must be Uint8Arrays");
  if (key.length != KEY_BYTES || signature.length != SIGNATURE_BYTES) return sg_fail(env, 0, "an Ed25519 key is 32 bytes, a signature 64");
  Item* item = malloc(sizeof(Item) + message.length);
  if (item == NULL) return sg_fail(env, 0, "out of memory");
  memcpy(item->key, key.data, KEY_BYTES);
  memcpy(item->signature, signature.data, SIGNATURE_BYTES);
  memcpy(item->message, message.data, message.length);
  item->length = message.length;
  item->verdict = UNCHECKED;
  pthread_mutex_lock(&run->lock);
  const char* refused = run->closed ? "the run is closed" : run->back != NONE ? "the run is being taken" : NULL;
  if (refused == NULL && run->count == run->capacity) {
    size_t capacity = run->capacity == 0 ? 256 : run->capacity * 2;
    Item** items = realloc(run->items, capacity * sizeof(Item*));
    if (items == NULL) refused = "out of memory";
    else {
      run->items = items;
      run->capacity = capacity;
    }
  }
  if (refused == NULL) {
    run->items[run->count++] = item;
    pthread_cond_signal(&run->added);
  }
  pthread_mutex_unlock(&run->lock);
  if (refused != NULL) {
    free(item);
    return sg_fail(env, 0, refused);
  }
  return NULL;
}

/*
 * The one argument of runTake and runClose: an open run, returned with its lock held; NULL with a
 * TypeError thrown (and no lock held) if it is not a run or is closed.
 */
static Run* locked_open_run(napi_env env, napi_callback_info info, const char* usage) {
  napi_value argv[1];
  size_t argc = 1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
    sg_fail(env, 0, usage);
    return NULL;
  }
  Run* run = get_run(env, argv[0]);
  if (run == NULL) {
    sg_fail(env, 0, "not a run");
    return NULL;
  }
  pthread_mutex_lock(&run->lock);
  if (!run->closed) return run;
  pthread_mutex_unlock(&run->lock);
  sg_fail(env, 0, "the run is closed");
  return NULL;
}

napi_value sg_ed25519_run_take(napi_env env, napi_callback_info info) {
  Run* run = locked_open_run(env, info, "runTake takes a run");
  if (run == NULL) return NULL;
  if (run->back == NONE) {
    run->back = run->count;
    pthread_cond_signal(&run->added); /* a waiting pool thread has nothing more to wait for */
  }
  int64_t index = run->back > run->front ? (int64_t)--run->back : -1;
  pthread_mutex_unlock(&run->lock);
  napi_value result;
  napi_create_int64(env, index, &result);
  return result;
}

napi_value sg_ed25519_run_close(napi_env env, napi_callback_info info) {
  Run* run = locked_open_run(env, info, "runClose takes a run");
  if (run == NULL) return NULL;
  run->closed = 1;
  pthread_cond_signal(&run->added);
  pthread_mutex_unlock(&run->lock);
  return NULL;
}
