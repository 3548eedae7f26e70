/**
 * Worker-side task handlers (workers/group.ts is the thin piscina entry). Each worker keeps
 * the decoded states of the groups routed to it (an LRU keyed by engine and group, bounded by
 * entries and stored bytes: stateCache.ts),
 * stages every change as storage parts and hands them back; the engine writes them in one
 * batch with the group record. A state is cached under a fresh random token once staged; the
 * engine names the token it persisted, so a change that was never persisted is never reused.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { getHeapStatistics } from "node:v8";
import { resourceLimits, threadId } from "node:worker_threads";
import { toErrorData } from "../../errors.js";
import { equalBytes, toHex } from "../../bytes.js";
import { WORKER_IDENTITY_CACHE_ENTRIES } from "../../constants.js";
import type { Identity } from "../../identity.js";
import { createKeyPackage, keyPackageInfo } from "../../keyPackage.js";
import {
  createGroup,
  decrypt,
  encrypt,
  groupMembers,
  processCommit,
  sameGroupMembers,
} from "../../group/index.js";
import type { GroupState } from "../../group/index.js";
import { addMembersInspected, removeMembersInspected, updateGroupInspected } from "../../group/commit.js";
import { joinGroupFromVerifiedDocument } from "../../group/join.js";
import type { TaskResult } from "../pool.js";
import type { DecryptOutcome, JoinBatchTask, KeyPackageOut, Miss, StateChange, StateOut, StateRef, TaskRequest, WorkerMemory } from "./protocol.js";
import { loadGroupState, stageGroupState } from "../store/stateCodec.js";
import { ErrorCode, UsageError, errorFromData } from "../../errors.js";
import { checkAddableKeyPackage } from "../../mls/keyPackage.js";
import { forgetTreeCaches, treeCacheSizes } from "../../mls/treeCaches.js";
import { verifyingInline } from "../../mls/crypto/signature.js";
import type { DecodedKeyPackage } from "../../mls/keyPackage.js";
import { checkKeyPackageAuthor } from "../../documents/rules.js";
import { StateCache, partSizes } from "./stateCache.js";
import { forgetLongTermKeys, longTermKeyCacheSize } from "./longTerm.js";
import { encodeMemberList } from "./memberList.js";
import type { CacheBounds, CachedState } from "./stateCache.js";

// a state the cache lets go takes the patched ts-mls's snapshots and key summaries of its tree with it
const cache = new StateCache((entry) => void forgetTreeCaches(entry.state.mls));

const boundsOf = (ref: StateRef): CacheBounds => ({ entries: ref.cacheLimit, bytes: ref.cacheBytes });

/** The cached or loaded state the engine expects; undefined means "miss". */
function stateFor(ref: StateRef, nonceFloor = 0n): CachedState | undefined {
  const hit = cache.lookup(ref.key);
  if (hit !== undefined && ref.token !== undefined && hit.token === ref.token) return hit;
  if (ref.parts === undefined || ref.token === undefined) return undefined;
  // a stale state of the group (another token) goes, with what holds its tree: the stored one replaces it
  if (hit !== undefined) cache.forget(ref.key);
  const { state, meta } = loadGroupState(ref.parts, nonceFloor, { authenticated: true });
  return cache.remember(ref.key, { token: ref.token, state, meta }, partSizes(undefined, ref.parts), boundsOf(ref));
}

/** The record's facts of `state`; its member list (one buffer: src/engine/worker/memberList.ts) after a change of membership only. */
function summarize(state: GroupState, withMembers: boolean): StateChange["summary"] {
  const latest = state.secrets.at(-1);
  return {
    status: state.status,
    mlsEpoch: state.mlsEpoch,
    ltsEpoch: latest === undefined ? 0n : latest.epoch,
    ...(withMembers ? { members: encodeMemberList(groupMembers(state)) } : {}),
    nonceCounter: state.nonceCounter,
  };
}

/**
 * Stages `state` under a fresh token; `withMembers` after a change of membership only. `keep`
 * "if-room": the state is cached only if that evicts no other (else the group's entry goes, and
 * its next task loads the parts; src/engine/joinKeep.ts says why).
 */
function stage(ref: StateRef, state: GroupState, previous: CachedState | undefined, withMembers = true, keep: true | "if-room" = true): StateChange {
  // a state made from nothing (create, join) is not the cached one's next: that one goes, with what holds its tree
  if (previous === undefined) cache.forget(ref.key);
  const started = performance.now();
  const { parts, meta } = stageGroupState(state, previous?.meta);
  const stageMs = performance.now() - started;
  const token = randomBytes(16).toString("hex");
  const sizes = partSizes(previous?.sizes, parts);
  if (keep === true || cache.hasRoom(ref.key, sizes, boundsOf(ref))) cache.remember(ref.key, { token, state, meta }, sizes, boundsOf(ref));
  else cache.forget(ref.key);
  return { token, parts, summary: summarize(state, withMembers), stageMs };
}

const identities = new Map<string, Identity>();

/**
 * The worker's one object for a task's key pair: every task arrives as a fresh structured clone,
 * and the documents layer caches an identity's parsed private key per object
 * (src/documents/ed25519.ts). Keyed by the public half only, so no secret sits in a string that
 * cannot be zeroed; a task whose secret half differs gets an object of its own bytes (and is
 * then refused by the key-pair check, as before).
 */
function identityOf(d: { publicKey: Uint8Array; secretKey: Uint8Array }): Identity {
  const key = toHex(d.publicKey);
  let identity = identities.get(key);
  if (identity === undefined || !equalBytes(identity.secretKey, d.secretKey)) {
    identity = { publicKey: Uint8Array.from(d.publicKey), secretKey: Uint8Array.from(d.secretKey) };
    identities.delete(key);
    if (identities.size >= WORKER_IDENTITY_CACHE_ENTRIES) identities.delete(identities.keys().next().value as string);
    identities.set(key, identity);
  }
  return identity;
}

const MISS: Miss = { miss: true };

/**
 * How an add reads its key packages: with their documents' authors, the checks the engine made
 * on the main thread before (keyPackagesFromDocuments: a known ciphersuite, the credential is the
 * author) join the decoding the commit needs, so each package is decoded once, here.
 */
function readerOf(authors: readonly Uint8Array[] | undefined): ((bytes: Uint8Array, index: number) => DecodedKeyPackage) | undefined {
  if (authors === undefined) return undefined;
  return (bytes, index) => {
    const info = checkAddableKeyPackage(bytes);
    const author = authors[index];
    if (author === undefined) throw new UsageError(ErrorCode.InvalidArgument, "a key package without its document's author");
    checkKeyPackageAuthor(info, author);
    return info;
  };
}

async function handle(task: TaskRequest): Promise<StateOut | KeyPackageOut | Miss | null> {
  switch (task.op) {
    case "keyPackage": {
      const created = await createKeyPackage(identityOf(task.identity));
      return { ...created, ref: keyPackageInfo(created.keyPackage).ref };
    }
    case "create": {
      const state = await createGroup({ identity: identityOf(task.identity), groupId: task.groupId, ciphersuite: task.ciphersuite });
      return { change: stage(task.ref, state, undefined) };
    }
    case "join": {
      // the engine posts a join only for a commit document it verified, authored by the owner (src/engine/drain.ts joinThrough)
      const state = await joinGroupFromVerifiedDocument({ identity: identityOf(task.identity), secret: task.secret, owner: task.owner, commit: task.commit });
      return { change: stage(task.ref, state, undefined, true, task.keepState === false ? "if-room" : true) };
    }
    case "commit": {
      const hit = stateFor(task.ref);
      if (hit === undefined) return MISS;
      // inspected before encoding, not decoded again (an add's N key packages above all)
      const { result, inspection } =
        task.action === "add"
          ? await addMembersInspected(hit.state, [...(task.keyPackages ?? [])], {}, readerOf(task.authors))
          : task.action === "remove"
            ? await removeMembersInspected(hit.state, [...(task.publicKeys ?? [])])
            : await updateGroupInspected(hit.state, { rotate: task.action === "rotate" });
      return { change: stage(task.ref, result.state, hit), commit: result.parts, inspection };
    }
    case "process": {
      const hit = stateFor(task.ref);
      if (hit === undefined) return MISS;
      const next = await processCommit(hit.state, task.commit);
      // an update commit leaves the member list as it was: not listed, cloned and rewritten
      return { change: stage(task.ref, next, hit, !sameGroupMembers(hit.state, next)) };
    }
    case "encrypt": {
      const hit = stateFor(task.ref, task.nonceFloor);
      if (hit === undefined) return MISS;
      let state = hit.state.nonceCounter < task.nonceFloor ? { ...hit.state, nonceCounter: task.nonceFloor } : hit.state;
      const messages: Uint8Array[] = [];
      for (const plaintext of task.plaintexts) {
        const out = await encrypt(state, plaintext, task.aad === undefined ? { scheme: task.scheme } : { scheme: task.scheme, aad: task.aad });
        state = out.state;
        messages.push(out.message);
      }
      // long-term leaves the MLS state as it was (the counter is the engine's reservation): no parts, same token
      if (state.mls === hit.state.mls) {
        cache.remember(task.ref.key, { token: hit.token, state, meta: hit.meta }, hit.sizes, boundsOf(task.ref));
        return { messages, nonceCounter: state.nonceCounter };
      }
      return { change: stage(task.ref, state, hit, false), messages };
    }
    case "decrypt": {
      const hit = stateFor(task.ref);
      if (hit === undefined) return MISS;
      let state = hit.state;
      const outcomes: DecryptOutcome[] = [];
      for (const { message, aad } of task.messages) {
        try {
          const out = await decrypt(state, message, aad === undefined ? {} : { aad });
          state = out.state;
          outcomes.push({ ok: true, plaintext: out.plaintext });
        } catch (e) {
          outcomes.push({ ok: false, error: toErrorData(e) });
        }
      }
      if (state === hit.state) return { outcomes };
      return { change: stage(task.ref, state, hit, false), outcomes };
    }
    case "drop":
      cache.forget(task.key);
      return null;
    case "forget":
      // the identity's object is dropped, not zeroed: another engine of the same key pair on
      // this pool may have a task holding it
      identities.delete(toHex(task.publicKey));
      cache.forgetPrefix(task.prefix);
      forgetLongTermKeys(task.prefix);
      return null;
    case "ping":
      return { threadId, cachedStates: cache.size } as unknown as StateOut;
    case "memory":
      return workerMemory(task.list === true) as unknown as StateOut;
    case "fail":
      // lets tests check that a fault inside a worker reaches the caller as its typed error
      throw errorFromData(task.error);
  }
}

/**
 * This worker's memory: its V8 heap, its off-heap (external and array buffer) bytes, and its
 * state cache (with every entry's key and bytes when `list`).
 *
 * @example
 * ```ts
 * const { threadId, heapUsed, cacheBytes } = workerMemory(false)
 * ```
 */
export function workerMemory(list: boolean): WorkerMemory {
  const heap = getHeapStatistics();
  const trees = treeCacheSizes();
  return {
    threadId,
    heapUsed: heap.used_heap_size,
    heapTotal: heap.total_heap_size,
    external: heap.external_memory,
    youngGenerationMb: resourceLimits.maxYoungGenerationSizeMb ?? 0,
    cacheEntries: cache.size,
    cacheBytes: cache.bytes,
    longTermKeys: longTermKeyCacheSize().entries,
    identities: identities.size,
    treeSnapshots: trees.snapshots,
    keySummaries: trees.summaries,
    ...(list ? { entries: cache.list() } : {}),
  };
}

/**
 * Runs one task; never throws (errors become {@link TaskResult} data).
 *
 * @example
 * ```ts
 * const result = await runWorkerTask({ op: "drop", key })
 * ```
 */
export async function runWorkerTask(task: TaskRequest): Promise<TaskResult<unknown>> {
  try {
    const started = performance.now();
    const value = await handle(task);
    const change = value !== null && typeof value === "object" && "change" in value ? value.change : undefined;
    if (change !== undefined) {
      const stageMs = change.stageMs ?? 0;
      return { ok: true, value: { ...value, timing: { workMs: performance.now() - started - stageMs, stageMs } } };
    }
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: toErrorData(e) };
  }
}


/**
 * Runs a batch of joins (src/engine/joinBatch.ts) side by side, as separate tasks would: each
 * answered on its own, a failure its own. Never throws. A batch means a stream of many groups
 * keeping every core busy, so their signature checks run here (`verifyingInline`), not through
 * libuv's pool (session 14: ~130 us of this thread per hand-over under load, no parallelism).
 *
 * @example
 * ```ts
 * const results = await runJoinBatch({ op: "joins", joins: [a, b] })
 * ```
 */
export async function runJoinBatch(task: JoinBatchTask): Promise<TaskResult<Array<TaskResult<unknown>>>> {
  return { ok: true, value: await verifyingInline(() => Promise.all(task.joins.map((join) => runWorkerTask(join)))) };
}
