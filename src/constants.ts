/**
 * Every protocol label, size, limit and default of secret-group is reached from here. The
 * protocol's own (exporter labels, wire values, key package lifetimes, id sizes) are in
 * src/constants/protocol.ts and re-exported below; storage labels, limits and engine defaults
 * follow.
 *
 * @module
 */
import { LTS_TAG_SIZE } from "./constants/protocol.js";

export * from "./constants/protocol.js";

/** Format version byte in front of every stored value (inside the seal, for sealed sublevels). */
export const STORAGE_VERSION = 1;
/** Bytes of that version byte: what a value stored already `versioned` weighs more than its content. */
export const STORAGE_VERSION_BYTES = 1;

/**
 * Most callers' synced batches written together in one synced LevelDB batch (group commit,
 * src/engine/store/store.ts): bounds one write's size while joins of many groups share an fsync.
 *
 * @example
 * ```ts
 * queue.splice(0, SYNC_GROUP_MAX_WRITES)
 * ```
 */
export const SYNC_GROUP_MAX_WRITES = 256;

/**
 * Bytes of values from which a step's first writes are prepared (put into a LevelDB batch of
 * their own while its worker runs, src/engine/store/prepared.ts). A prepared batch starts its own
 * synced write in the group commit (two LevelDB batches cannot merge), so a small one cost an
 * fsync of its own for puts of microseconds: a 3-member group's join (its commit document and a
 * few index records, ~3 KB) took one fdatasync each. From this size (a receiver's commit at 1000
 * members: 83 KB; a joiner's: 720 KB) the puts moved out of the step's critical path are worth
 * it. Session 16, groupsDev (300 groups of 3 a round): fdatasync calls 641 -> 316 in 3 rounds.
 *
 * @example
 * ```ts
 * store.prepare(ops) // undefined when the values hold fewer than PREPARE_MIN_BYTES
 * ```
 */
export const PREPARE_MIN_BYTES = 16 * 1024;

/**
 * How long destroyed own keys gather before the keyring file is written again without them
 * (src/engine/store/store.ts): each write replaces the whole file (every live key package's key,
 * sealed, fsync'ed, renamed), ~1-2 ms of CPU at 500-1,500 keys, so a busy ingest that consumes a
 * key package per join shares one write among its joins of this window instead of one write per
 * fsync round. `close` does not wait for it.
 *
 * @example
 * ```ts
 * setTimeout(flush, KEYRING_SHRED_COALESCE_MS)
 * ```
 */
export const KEYRING_SHRED_COALESCE_MS = 100;
/**
 * Entries a store scan reads per LevelDB round trip (iterator `nextv`, src/engine/store/reads.ts).
 *
 * @example
 * ```ts
 * await iterator.nextv(STORE_SCAN_PAGE)
 * ```
 */
export const STORE_SCAN_PAGE = 1000;
/**
 * Bytes a store scan reads per LevelDB round trip (classic-level's iterator `highWaterMarkBytes`,
 * 16 KiB by default, which ends a `nextv` page early). A scan collects every entry anyway, so a
 * larger page holds no more in memory; at the default a 1000-member group's state (35 parts,
 * 322 KB) came in ~20 round trips, 4.3-4.5 ms, against 2.6-3.1 ms in one (session 23, recvDev).
 *
 * @example
 * ```ts
 * db.iterator({ gte, lt, highWaterMarkBytes: STORE_SCAN_BYTES })
 * ```
 */
export const STORE_SCAN_BYTES = 4 * 1024 * 1024;
/**
 * Version byte of a sealed stored value (src/engine/store/sealedValue.ts): the AEAD envelope
 * around a {@link STORAGE_VERSION} value, in the sublevels src/engine/store/sublevels.ts declares
 * sealed.
 */
export const SEALED_STORAGE_VERSION = 2;
/** Bytes of a sealed value's salt: its session's, from which its subkey is derived. @example `SEALED_SALT // 16` */
export const SEALED_SALT = 16;
/** Bytes of a sealed value's AES-256-GCM nonce: 4 zero bytes, then its session's 64-bit counter. @example `SEALED_NONCE // 12` */
export const SEALED_NONCE = 12;
/** Bytes of a sealed value's AES-256-GCM tag. @example `SEALED_TAG // 16` */
export const SEALED_TAG = 16;
/** Size of the storage key (`SecretGroupEngine.open({ storageKey })`) and of every per-secret key. @example `storageKey.length === STORAGE_KEY_SIZE // 32` */
export const STORAGE_KEY_SIZE = 32;
/**
 * HKDF-SHA256 `info` deriving the storage key from the identity's 32-byte Ed25519 secret key
 * when the caller gives none: `HKDF(ikm = secretKey, salt = "", info = label, 32)`.
 *
 * @example `hkdf("SHA-256", identity.secretKey, new Uint8Array(0), utf8(STORAGE_KEY_LABEL), STORAGE_KEY_SIZE)`
 */
export const STORAGE_KEY_LABEL = "secret-group storage key v1";
/** HKDF-SHA256 `info` of a sealing session's subkey: `HKDF(ikm = key, salt = session salt, info = label, 32)`. */
export const STORAGE_SESSION_LABEL = "secret-group storage session v1";
/** Prefix of every sealed value's AEAD associated data (then sublevel, key and the value's header). */
export const STORAGE_AAD_LABEL = "secret-group sealed value v1";
/** Plaintext of the storage key check value (`meta/keycheck`): opens only under the right key. */
export const STORAGE_KEY_CHECK = "secret-group storage key check v1";
/** File (inside the database folder, beside LevelDB's files) holding the per-secret keys. */
export const KEYRING_FILE = "SECRET-GROUP-KEYRING";
/** Values re-sealed per batch by storage key rotation and the sealing migration. */
export const RESEAL_BATCH = 512;


// ---------------------------------------------------------------------------------------------
// Limits. Everything a peer's input can make this package decode, hold or compute is bounded
// by one of these (README "Limits" lists each with its default and the error when exceeded).
// Decoders refuse input beyond a limit with DECODE_ERROR; API callers get INVALID_ARGUMENT; a
// received commit beyond a limit is LIMIT_EXCEEDED; pending input beyond an EngineLimits value
// is dropped, oldest first, and counted in `engine.stats().dropped`.
// ---------------------------------------------------------------------------------------------

/**
 * Largest encoded document (envelope included): 16 MiB. Bounds every field and vector a peer
 * sends in a document. Sized for {@link MAX_MEMBERS_PER_COMMIT}: a commit adding 9,999 members
 * carries their key packages (about 3.6 MB) and a Welcome with one encrypted secret each plus the
 * group info (about 4 MB more); at 4 MiB such a group could not be created (full bench run, issue 12).
 * @example `bytes.length <= MAX_DOCUMENT_SIZE`
 */
export const MAX_DOCUMENT_SIZE = 16 * 1024 * 1024;

/**
 * Largest signed payload whose Ed25519 check `decodeDocumentDeferred` runs on the calling thread
 * (still after its gate, still as a promise): 8 KiB. A check on libuv's thread pool costs this
 * thread its dispatch and the pool a wake-up, more CPU in all than the check (~60 us) for the
 * small documents of many groups (3 a group); a larger one (a commit at 1000 members: 83 KB to
 * hash) still goes to the pool, beside this thread's routing.
 * @example `payload.length <= SYNC_VERIFY_MAX_BYTES`
 */
export const SYNC_VERIFY_MAX_BYTES = 8 * 1024;

/** Most fields a document may have. @example `Object.keys(fields).length <= MAX_FIELDS` */
export const MAX_FIELDS = 64;
/** Largest MLS key package a key_package_v1 document may carry: 64 KiB. @example `MAX_KEY_PACKAGE_SIZE` */
export const MAX_KEY_PACKAGE_SIZE = 64 * 1024;
/** Largest field value accepted for encryption or decryption: 64 MiB (a value received in a document is bounded by {@link MAX_DOCUMENT_SIZE} first). @example `plaintext.length <= MAX_PLAINTEXT_SIZE` */
export const MAX_PLAINTEXT_SIZE = 64 * 1024 * 1024;
/** Largest long-term ciphertext (tag included) the codec accepts: the largest plaintext plus the tag. */
export const MAX_CIPHERTEXT_SIZE = MAX_PLAINTEXT_SIZE + LTS_TAG_SIZE;
/** Largest number of long-term secrets a commit may carry. */
export const MAX_LONG_TERM_SECRETS = 1_000_000;

/**
 * Long-term batches of at least this many values of one group open in the worker pool, split
 * over its threads (fewer open on the main thread: a worker round trip costs more than it
 * saves). Measured crossover on the 2-core machine: see bench/bulk.ts and README.
 */
export const POOL_DECRYPT_MIN_VALUES = 64;
/** Or this many ciphertext bytes (large values pay a round trip sooner). */
export const POOL_DECRYPT_MIN_BYTES = 256 * 1024;
/**
 * With the AEAD addon (src/nativeAead.ts) a value opens for ~1 us on the main thread, less than
 * the pool's packing and hand-out cost a value, so only batches whose values average at least
 * this many ciphertext bytes (and {@link POOL_DECRYPT_MIN_BYTES} in all) go to the pool. Measured
 * (bench/bulkDev.ts, session 26): at 16 KiB the main thread alone read 1.18 / 1.45 / 1.36x the raw
 * loop against the pool's 0.90 / 1.44 / 1.32x; at 64 KiB 0.50 / 0.41 / 0.67x against 0.55 / 0.64
 * / 0.65x (fresh pages for the plaintexts, faulted in by the workers there, bound both). Session
 * 27, the pool opening large values in place: the main thread alone took 0.87-0.93x the pool's
 * time at 64 KiB, ~1x at 256 KiB, 0.95-1.38x at 32 KiB: within this machine's spread, kept.
 */
export const NATIVE_POOL_MIN_MEAN_BYTES = 32 * 1024;
/** Bytes of long-term keys one worker keeps for bulk decryption (least recently used go first). */
export const LONG_TERM_KEY_CACHE_BYTES = 1024 * 1024;
/** Packed bytes per pool task of bulk long-term decryption (a batch splits into more chunks than threads above it, so the workers start sooner and buffers stay reusable). */
export const POOL_CHUNK_BYTES = 2 * 1024 * 1024;
/**
 * Plaintexts of at least this many bytes come back from a worker without a copy: opened in place
 * in their packed segment (the addon), or in buffers of their own (node:crypto); smaller ones are
 * opened into one buffer per packed segment, handed out as views into it (a few transfers per
 * chunk beat one per value).
 */
export const POOL_OWN_BUFFER_BYTES = 8 * 1024;
/**
 * Largest segment (packed message bytes) of a chunk of bulk long-term decryption: a worker copies
 * its small plaintexts into one buffer and the engine hands them out as views into it
 * (src/engine/poolOutput.ts), so a caller keeping one keeps at most this much alive. Below
 * glibc's default mmap threshold (128 KiB), so that buffer comes from the worker's malloc arena
 * and reuses memory that earlier results freed; one buffer per chunk (~0.5 MiB at 1 KiB values)
 * was mapped fresh each time, and on this VM a fresh page costs as much as several 1 KiB
 * decryptions (bench/bulkDev.ts prints page faults by thread). Above
 * {@link POOL_OWN_BUFFER_BYTES} plus a message's header, so a small value fits one.
 */
export const POOL_OUTPUT_SEGMENT_BYTES = 64 * 1024;
/** Chunks of one batch in flight per pool thread (one being opened, one waiting in the worker's queue). */
export const POOL_CHUNKS_IN_FLIGHT_PER_THREAD = 2;
/**
 * Share (by ciphertext bytes) of a pooled long-term batch that the main thread opens itself while
 * the pool's chunks run (the batch's tail). Paired with main in one process at 64 KiB values
 * (bench A/B, 2 cores under load ~4), a half beat a third on all three suites (1.16-1.33x vs
 * 1.14-1.26x main's wall time) and 0.15 (1.03-1.06x).
 */
export const POOL_MAIN_SHARE = 0.5;
/**
 * The main thread takes its share only of batches whose values average at least this many
 * message bytes: there the pool's per-value cost (a plaintext buffer of its own, moved back)
 * exceeds the main thread's direct open. For small values the main thread's open (the library
 * path) costs about twice a worker's, and taking a share measured 0.75-0.82x slower at 1 KiB.
 */
export const MAIN_SHARE_MIN_MEAN_BYTES = 8 * 1024;
/** The main share opens in slices of at most this many values, yielding to the event loop between them (worker replies get handled). */
export const MAIN_SLICE_VALUES = 128;
/** Or this many ciphertext bytes (about a millisecond of AEAD on the main thread). */
export const MAIN_SLICE_BYTES = 512 * 1024;
/** Bytes of packing buffers (segments that came back holding no plaintext) kept for reuse by bulk long-term decryption: fresh pages cost more than copying into used ones. */
export const SPARE_PACK_BYTES = 16 * 1024 * 1024;
/** Group epochs per pool whose key sends the engine remembers (beyond, a worker's miss asks again). */
export const SENT_KEYS_TRACKED = 4096;

/**
 * Default bound on the estimated bytes of the live group actors (besides their count): a group
 * of 10,000 members holds its member list in its actor, a group of 3 almost nothing.
 */
export const DEFAULT_LIVE_ACTOR_BYTES = 64 * 1024 * 1024;
/** Estimated bytes of a live actor besides its members and secrets (measured on Node 20: 0.6 KiB of heap and about 31 KiB of RSS per actor of a 3-member group). */
export const ACTOR_BASE_BYTES = 16 * 1024;
/** Estimated bytes per member in a live actor's group record (measured: about 250 B of heap per member at 1000 members). */
export const ACTOR_MEMBER_BYTES = 256;
/** Estimated bytes per long-term secret a live actor holds. */
export const ACTOR_SECRET_BYTES = 160;

/** Default bound on the decoded MLS states each worker keeps (`workerCacheSize`; the byte bound below usually binds first for large groups). */
export const DEFAULT_WORKER_CACHE_ENTRIES = 64;
/**
 * Default bound on the stored bytes of the decoded MLS states each worker keeps
 * (`workerCacheBytes`): a state weighs the sum of its storage parts (src/engine/worker/stateCache.ts).
 * A decoded state takes 8.2-8.9 times its stored bytes in heap (measured on Node 20 at 3, 100
 * and 1000 members: 2.5 KB stored, 21 KB decoded; 270 KB, 2.4 MB), so 8 MiB is about 70 MiB of
 * heap per worker: some 30 groups of 1000 members, 3 of 10,000, or the 64-state count bound of
 * small groups. The former bound, 20,000 members summed, was about 5.4 MB stored.
 */
export const DEFAULT_WORKER_CACHE_BYTES = 8 * 1024 * 1024;
/**
 * Identities each worker keeps as one object per key pair (one pool may serve several engines):
 * ed25519.ts caches an identity's parsed key per object, so a task's fresh copy would re-import
 * and re-derive it (about 0.3-1.3 ms of a 2-member join on this machine).
 */
export const WORKER_IDENTITY_CACHE_ENTRIES = 16;
/**
 * Groups an engine remembers as having had an early commit run dropped at their current epoch
 * (src/engine/commits.ts startApply): a forged document wrapping the member's next commit must
 * not buy a worker apply per copy. Past the bound the oldest entry goes (that group may then
 * start one more early run).
 */
export const EARLY_RUN_DROPPED_GROUPS = 1024;
/**
 * Smallest join (its commit and Welcome, in bytes) the engine posts to the pool at once, alone,
 * instead of at the end of the event-loop turn with the turn's other joins (src/engine/joinBatch.ts):
 * batching saves a task message per small group (3 members: ~3 KB), while a join this large costs
 * far more than its message, and waiting for the turn's end would make it wait for the main thread's
 * read of the same commit (the add of 999 at 1000 members: ~1 MB, 40-120 ms of that read under load).
 */
export const JOIN_ALONE_MIN_BYTES = 64 * 1024;
/**
 * Smallest join (its commit and Welcome, in bytes) whose state the worker keeps cached whether or
 * not work for the group waits (src/engine/joinKeep.ts): loading a large group's state again
 * costs tens of milliseconds (1000 members: its tree, ~1 MB of parts), while a small group's
 * costs less than the garbage collection its cached state causes when a stream of new groups
 * evicts it unused (3 members: ~3 KB of parts).
 */
export const JOIN_KEEP_MIN_BYTES = 64 * 1024;
/** Bytes a cached state weighs besides its stored parts (its cache key, token and storage bookkeeping). */
export const CACHED_STATE_ENTRY_BYTES = 1024;

/** Largest group id the long-term codecs accept (ours are 32 bytes; MLS allows more, so leave room). */
export const MAX_GROUP_ID_SIZE = 256;
/** Largest long-term secret value the codec accepts (the value must also equal its suite's key size). */
export const MAX_LONG_TERM_SECRET_SIZE = 64;
/** Largest length a vector's varint prefix may carry (RFC 9420 section 2.1.2): 2^30 - 1 bytes. Every vector we decode is also bounded by its input's size. */
export const MAX_VARINT = 0x3fffffff;
/**
 * Most members one commit may add and remove together (Add plus Remove proposals). The owner's
 * `addMembers`/`removeMembers` refuse more (INVALID_ARGUMENT); a received commit with more is
 * refused before any MLS work (LIMIT_EXCEEDED). 10,000 leaves room for a group of 10,000 built in
 * one commit (the benchmarks do).
 *
 * @example
 * ```ts
 * keyPackages.length <= MAX_MEMBERS_PER_COMMIT
 * ```
 */
export const MAX_MEMBERS_PER_COMMIT = 10_000;
/** Largest KeyPackageRef the materialisation index accepts (a hash output: 32 bytes for our suites, 64 for SHA-512 suites). @example `ref.length <= MAX_REF_SIZE` */
export const MAX_REF_SIZE = 64;
/** Most leaves a group's materialisation index tracks (RFC 9420 trees stay far below this in practice). @example `leaf < MAX_INDEXED_LEAVES` */
export const MAX_INDEXED_LEAVES = 1 << 20;
/** Leaves per stored chunk of a group's materialisation leaf map (`l/<gid>/<chunk>`, storage format 4): a commit rewrites the chunks of the leaves it changes, not every member. @example `Math.floor(leaf / INDEX_LEAF_CHUNK)` */
export const INDEX_LEAF_CHUNK = 64;
/** Most nodes of a ratchet tree in a stored MLS state (a tree of {@link MAX_INDEXED_LEAVES} leaves has twice as many nodes, less one): a stored length beyond it is a DECODE_ERROR, not an allocation (found by fuzzing). */
export const MAX_RATCHET_TREE_NODES = 2 * MAX_INDEXED_LEAVES;
/**
 * Format byte of the stored MLS state parts written since storage format 3 (src/mls/treeChunks.ts,
 * src/mls/stateParts.ts: the chunked ratchet-tree manifest `m/`, its chunks `k/` and the compact
 * secret tree `l/`), inside the store's own version byte. The parts of before (`t/`, `s/`) have none
 * and are still read.
 */
export const STATE_PART_FORMAT = 1;
/**
 * Format byte of a ratchet-tree chunk `k/` that holds its nodes' encodings (storage format 6,
 * src/mls/treeChunks.ts); a {@link STATE_PART_FORMAT} chunk names `n/` node parts instead, and is
 * still read. A join at 1000 members writes 32 chunks instead of 32 chunks and 1,000 node parts.
 */
export const INLINE_CHUNK_FORMAT = 2;
/**
 * Format byte of a ratchet-tree chunk `k/` of a complete subtree slot that holds its nodes'
 * encodings and, after them, the tree hash of each of the slot's {@link SLOT_POSITIONS} positions
 * (storage format 7, src/mls/treeChunks.ts, src/mls/treeHashes.ts): a reloaded state's first
 * commit rehashes only the positions it changes. {@link INLINE_CHUNK_FORMAT} chunks are still read
 * (their positions are hashed again).
 */
export const HASHED_CHUNK_FORMAT = 3;
/** Positions of a complete subtree slot of a ratchet tree (32 leaves, 31 parents): indices `64s .. 64s+62`. */
export const SLOT_POSITIONS = 63;
/** Longest tree hash a hashed chunk holds (SHA-512, the longest hash of an MLS ciphersuite). */
export const MAX_TREE_HASH_SIZE = 64;
/** Node indices per ratchet-tree manifest chunk (a complete subtree of 32 leaves and the spine node after it, which goes to the spine chunk). @example `slotOf(i)` */
export const RATCHET_CHUNK_SPAN = 64;
/** Longest HPKE input keying material and exporter context (RFC 9180 section 7.2.1; the same limit as @hpke/core, so both providers refuse the same inputs). */
export const HPKE_INPUT_LENGTH_LIMIT = 8192;
/** Longest HPKE `info` (the same limit as @hpke/core). */
export const HPKE_INFO_LENGTH_LIMIT = 268435456;
/** Parsed X25519 keys the node HPKE keeps per thread (an owner's commit at 1000 members seals to about 1000 leaf keys; a smaller cache would miss every one, LRU over a cycle). @example `new LruCache(HPKE_KEY_CACHE_ENTRIES)` */
export const HPKE_KEY_CACHE_ENTRIES = 4096;
/** Fewest seals started together (one commit's path secrets) of which part goes to the seal helper thread; smaller batches are sealed where they are asked for. @example `batch.length >= HPKE_SEAL_OFFLOAD_MIN` */
export const HPKE_SEAL_OFFLOAD_MIN = 64;
/** Share of a large seal batch the helper thread takes (the calling thread seals the rest meanwhile). @example `Math.floor(batch.length * HPKE_SEAL_HELPER_SHARE)` */
export const HPKE_SEAL_HELPER_SHARE = 0.5;
/** How long a batch may wait for the seal helper thread before the helper is given up and the batch sealed on the calling thread. @example `setTimeout(giveUp, HPKE_SEAL_HELPER_TIMEOUT_MS)` */
export const HPKE_SEAL_HELPER_TIMEOUT_MS = 10_000;

/**
 * Engine limits on what peers can make a node hold before it can be applied (commits whose
 * predecessor has not arrived, operations whose group or epoch is not reached). When one is
 * reached the oldest pending item is dropped and counted in `engine.stats().dropped` under its
 * reason; nothing the engine has applied is ever dropped. Override per engine with
 * `SecretGroupEngine.open({ limits })`.
 *
 * @example `SecretGroupEngine.open({ path, identity, limits: { pendingCommitsPerGroup: 100 } })`
 */
export interface EngineLimits {
  /** Pending commits kept per group (predecessor missing). */
  readonly pendingCommitsPerGroup: number;
  /** Pending commits kept over all groups. */
  readonly pendingCommitsTotal: number;
  /** Bytes of pending commit documents kept per group. */
  readonly pendingCommitBytesPerGroup: number;
  /** Bytes of pending commit documents kept over all groups. */
  readonly pendingCommitBytesTotal: number;
  /** Pending operations (encrypted fields not readable yet) kept per group. */
  readonly pendingOperationsPerGroup: number;
  /** Pending operations kept over all groups. */
  readonly pendingOperationsTotal: number;
  /** Bytes of pending operation documents kept per group. */
  readonly pendingOperationBytesPerGroup: number;
  /** Bytes of pending operation documents kept over all groups. */
  readonly pendingOperationBytesTotal: number;
}

/** Default {@link EngineLimits}. @example `DEFAULT_ENGINE_LIMITS.pendingOperationsPerGroup // 10000` */
export const DEFAULT_ENGINE_LIMITS: EngineLimits = {
  pendingCommitsPerGroup: 1_000,
  pendingCommitsTotal: 100_000,
  pendingCommitBytesPerGroup: 64 * 1024 * 1024,
  pendingCommitBytesTotal: 1024 * 1024 * 1024,
  pendingOperationsPerGroup: 10_000,
  pendingOperationsTotal: 1_000_000,
  pendingOperationBytesPerGroup: 64 * 1024 * 1024,
  pendingOperationBytesTotal: 1024 * 1024 * 1024,
};

/** Events `engine.watch()` holds for one watcher before it overflows (see src/engine/watch.ts). @example `WATCH_QUEUE_SIZE // 10000` */
export const WATCH_QUEUE_SIZE = 10_000;
/** Default page size of `engine.operations()`. @example `(await engine.operations(gid)).operations.length <= DEFAULT_OPERATIONS_PAGE` */
export const DEFAULT_OPERATIONS_PAGE = 100;
/** Largest page size of `engine.operations()`. @example `await engine.operations(gid, { limit: MAX_OPERATIONS_PAGE })` */
export const MAX_OPERATIONS_PAGE = 1_000;
/** Pending operations one drain step re-examines after its group advanced. */
export const EXAMINE_BATCH = 128;
/**
 * Ed25519 verifications the node:crypto provider collects before it hands them to libuv's
 * thread pool at once (the rest of a turn's go at its end): a joiner's leaf checks start on the
 * other core while this thread still encodes the next leaves and hashes the tree. Only where
 * sodium-native does not load: libsodium checks each signature at once (src/ed25519Verify.ts).
 */
export const VERIFY_CHUNK = 32;
/**
 * Largest message libsodium checks (src/ed25519Verify.ts); a longer one goes to node:crypto,
 * under the same rule: libsodium's check costs ~48 us + 1.87 ns a byte here, node:crypto's ~83
 * us + 1.06 ns (OpenSSL's SHA-512 is faster), so they cross at ~43 KB (a 720 KB GroupInfo:
 * 1.34 against 0.84 ms; 8 KiB: 64 against 89 us; session 24).
 *
 * @example `message.length <= ED25519_SODIUM_MAX_BYTES // libsodium`
 */
export const ED25519_SODIUM_MAX_BYTES = 32 * 1024;
/**
 * Most Ed25519 verifications of one turn the node:crypto provider runs on its own thread rather
 * than on libuv's pool: handing one over costs this thread about as much as verifying it
 * (measured in a worker join of a 3-member group: ~130 us a dispatch, 120-200 us a verify), so
 * the pool only pays for long runs (a joiner's N leaves), where the other core does the work.
 */
export const VERIFY_SYNC_MAX = 4;
/**
 * Ed25519 verifications libsodium runs on the asking thread in one synchronous stretch before
 * the rest of the stretch is shared with a thread of libuv's pool (src/mls/crypto/verifyRun.ts,
 * native/ed25519.c): a joiner's N leaf checks come in one stretch, a commit's one or two checks
 * never reach it. A check costs ~52 us here (session 31).
 *
 * @example `checksInStretch > ED25519_RUN_AFTER // shared with the pool`
 */
export const ED25519_RUN_AFTER = 16;
