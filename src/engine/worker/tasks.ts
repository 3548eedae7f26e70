/**
 * Worker-side task handlers (workers/group.ts is the thin piscina entry). Each worker keeps
 * the decoded states of the groups routed to it (a bounded LRU keyed by engine and group),
 * stages every change as storage parts and hands them back; the engine writes them in one
 * batch with the group record. A state is cached under a fresh random token once staged; the
 * engine names the token it persisted, so a change that was never persisted is never reused.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { threadId } from "node:worker_threads";
import { toErrorData } from "../../errors.js";
import type { Identity } from "../../identity.js";
import { createKeyPackage, keyPackageInfo } from "../../keyPackage.js";
import {
  createGroup,
  decrypt,
  encrypt,
  groupMembers,
  inspectCommit,
  joinGroup,
  processCommit,
  removeMembers,
  rotateLongTermSecret,
  sameGroupMembers,
  updateGroup,
} from "../../group/index.js";
import type { GroupState } from "../../group/index.js";
import { addMembersInspected } from "../../group/commit.js";
import type { PersistMeta } from "../../mls/storage.js";
import type { TaskResult } from "../pool.js";
import type { DecryptOutcome, KeyPackageOut, Miss, StateChange, StateOut, StateRef, TaskRequest } from "./protocol.js";
import { loadGroupState, stageGroupState } from "../store/stateCodec.js";
import { errorFromData } from "../../errors.js";

interface Cached {
  readonly token: string;
  readonly state: GroupState;
  readonly meta: PersistMeta;
  /** Members in the state: a large group's decoded state weighs more. */
  readonly weight: number;
}

const cache = new Map<string, Cached>();
let cachedWeight = 0;

function forget(key: string): void {
  const entry = cache.get(key);
  if (entry === undefined) return;
  cache.delete(key);
  cachedWeight -= entry.weight;
}

function remember(ref: StateRef, entry: Omit<Cached, "weight">): void {
  forget(ref.key);
  const weight = Math.max(1, entry.state.mls.ratchetTree.length >>> 1);
  cache.set(ref.key, { ...entry, weight });
  cachedWeight += weight;
  // least recently used first; the entry just added always stays
  while (cache.size > 1 && (cache.size > Math.max(1, ref.cacheLimit) || cachedWeight > ref.cacheMembers)) {
    forget(cache.keys().next().value as string);
  }
}

/** The cached or loaded state the engine expects; undefined means "miss". */
function stateFor(ref: StateRef, nonceFloor = 0n): Cached | undefined {
  const hit = cache.get(ref.key);
  if (hit !== undefined && ref.token !== undefined && hit.token === ref.token) {
    cache.delete(ref.key); // refresh its place in the LRU order
    cache.set(ref.key, hit);
    return hit;
  }
  if (ref.parts === undefined || ref.token === undefined) return undefined;
  const { state, meta } = loadGroupState(ref.parts, nonceFloor);
  remember(ref, { token: ref.token, state, meta });
  return cache.get(ref.key);
}

function summarize(state: GroupState, withMembers: boolean): StateChange["summary"] {
  const latest = state.secrets.at(-1);
  return {
    status: state.status,
    mlsEpoch: state.mlsEpoch,
    ltsEpoch: latest === undefined ? 0n : latest.epoch,
    ...(withMembers ? { members: groupMembers(state) } : {}),
    nonceCounter: state.nonceCounter,
  };
}

/** Stages `state` under a fresh token; `withMembers` after a change of membership only. */
function stage(ref: StateRef, state: GroupState, previous: PersistMeta | undefined, withMembers = true): StateChange {
  const started = performance.now();
  const { parts, meta } = stageGroupState(state, previous);
  const stageMs = performance.now() - started;
  const token = randomBytes(16).toString("hex");
  remember(ref, { token, state, meta });
  return { token, parts, summary: summarize(state, withMembers), stageMs };
}

const identityOf = (d: { publicKey: Uint8Array; secretKey: Uint8Array }): Identity => ({
  publicKey: Uint8Array.from(d.publicKey),
  secretKey: Uint8Array.from(d.secretKey),
});

const MISS: Miss = { miss: true };

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
      const state = await joinGroup({ identity: identityOf(task.identity), secret: task.secret, owner: task.owner, commit: task.commit });
      return { change: stage(task.ref, state, undefined) };
    }
    case "commit": {
      const hit = stateFor(task.ref);
      if (hit === undefined) return MISS;
      if (task.action === "add") {
        // inspected before encoding: the N key packages of an add are not decoded again
        const { result, inspection } = await addMembersInspected(hit.state, [...(task.keyPackages ?? [])]);
        return { change: stage(task.ref, result.state, hit.meta), commit: result.parts, inspection };
      }
      const result =
        task.action === "remove"
          ? await removeMembers(hit.state, [...(task.publicKeys ?? [])])
          : task.action === "rotate"
            ? await rotateLongTermSecret(hit.state)
            : await updateGroup(hit.state);
      return { change: stage(task.ref, result.state, hit.meta), commit: result.parts, inspection: inspectCommit(result.parts) };
    }
    case "process": {
      const hit = stateFor(task.ref);
      if (hit === undefined) return MISS;
      const next = await processCommit(hit.state, task.commit);
      // an update commit leaves the member list as it was: not listed, cloned and rewritten
      return { change: stage(task.ref, next, hit.meta, !sameGroupMembers(hit.state, next)) };
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
        remember(task.ref, { token: hit.token, state, meta: hit.meta });
        return { messages, nonceCounter: state.nonceCounter };
      }
      return { change: stage(task.ref, state, hit.meta, false), messages };
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
      return { change: stage(task.ref, state, hit.meta, false), outcomes };
    }
    case "drop":
      forget(task.key);
      return null;
    case "ping":
      return { threadId, cachedStates: cache.size } as unknown as StateOut;
    case "fail":
      // lets tests check that a fault inside a worker reaches the caller as its typed error
      throw errorFromData(task.error);
  }
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

