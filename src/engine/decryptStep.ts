/**
 * The `decrypt` step of a group job: messages whose group and epoch are reached are opened
 * (long-term ones from the held secrets, on the main thread or, for a large batch, spread over
 * the pool (src/engine/poolDecrypt.ts); sender-ratchet ones in one worker
 * task, which consumes their keys: the changed state is written in the step's batch), the rest
 * get `PENDING` or `NOT_MEMBER`. The operation steps (src/engine/operations.ts) use it too, so a
 * consumed ratchet key and the plaintext it gave are written in one batch.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { equalBytes, fromHex } from "../bytes.js";
import { MAIN_SLICE_VALUES } from "../constants.js";
import { decodeSecretGroupMessage, peekMlsPrivateMessage } from "../message.js";
import { CryptoError, ErrorCode, UsageError, ValidationError, errorFromData } from "../errors.js";
import type { SecretGroupError } from "../errors.js";
import type { DecryptItem, DecryptJob, HeldSecrets, StepInput, StepOutput } from "./jobs.js";
import { recordAfter, runStateTask, stateOps } from "./context.js";
import type { EngineContext } from "./context.js";
import { openAll, openSliced } from "./mainDecrypt.js";
import { loadSecrets, validSecrets } from "./secrets.js";
import { openInPool, worthThePool } from "./poolDecrypt.js";
import { GroupStatus } from "./store/records.js";
import type { GroupRecord } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";
import { hotOp } from "./store/groups.js";

const EMPTY = new Uint8Array(0);
const pending = (what: string): SecretGroupError => new ValidationError(ErrorCode.Pending, what);
/** Key of an own sender-ratchet message in the `sent` store. @example `sentKey(message)` */
export const sentKey = (message: Uint8Array): string => createHash("sha256").update(message).digest("hex");

/**
 * Decrypts a job's items for the group of `step`: a plaintext or an Error per item, in order.
 * A sender-ratchet read is `durable` (its consumed keys are written with `sync`). The result is
 * a promise when a long-term batch opens in the pool (the group's next job starts meanwhile).
 *
 * @example
 * ```ts
 * const { result, ops } = await decryptStep(ctx, step, { items })
 * ```
 */
export async function decryptStep(ctx: EngineContext, step: StepInput, job: DecryptJob): Promise<StepOutput> {
  const { groupId: gid, record } = step;
  const results: Array<Uint8Array | Error> = new Array(job.items.length);
  const todo: number[] = [];
  const longTerm: number[] = [];
  for (let i = 0; i < job.items.length; i++) {
    const item = job.items[i] as DecryptItem;
    if (item.scheme === "sender-ratchet") {
      const own = await ctx.store.get(Sublevel.Sent, sentKey(item.message), "sent message");
      if (own !== undefined) {
        // our copy skips MLS, so check the binding a receiver's MLS check makes: the message's
        // associated data must be the context it is read in
        results[i] = sameAad(item) ? Uint8Array.from(own) : new CryptoError(ErrorCode.DecryptionFailed, "associated data does not match");
        continue;
      }
    }
    if (record?.owner === undefined || record.stateToken === undefined) {
      results[i] = pending(`group ${gid} is not readable yet`);
    } else if (item.scheme === "long-term" ? item.epoch > record.ltsEpoch : item.epoch > record.mlsEpoch) {
      results[i] =
        record.status === GroupStatus.Member
          ? pending(`${item.scheme} epoch ${item.epoch} not reached yet`)
          : new UsageError(ErrorCode.NotMember, `epoch ${item.epoch} is after this member left the group`);
    } else if (item.scheme === "long-term" && item.ctAt >= 0) {
      longTerm.push(i);
    } else {
      todo.push(i);
    }
  }
  if (record === undefined || (todo.length === 0 && longTerm.length === 0)) return { ops: [], result: results };
  // long-term: from the secrets of the persisted state (they never change the state), on the
  // main thread or, for a large batch, in the pool
  let loaded: HeldSecrets | undefined;
  // long-term values still being opened when the step returns: in the pool, or on this thread in slices
  let opening: Promise<void> | undefined;
  if (longTerm.length > 0) {
    const held = validSecrets(step.secrets, record) ?? (loaded = await loadSecrets(ctx, gid, record));
    if (worthThePool(longTerm.length, longTermBytes(job.items, longTerm), ctx.bulkDecrypt)) {
      opening = openInPool(ctx, gid, held.secrets, job.items, longTerm, results);
    } else if (longTerm.length > MAIN_SLICE_VALUES) {
      // a large batch on this thread (the addon's open beats a worker's round trip): in slices,
      // the event loop served between them
      opening = openSliced(fromHex(gid), held.secrets, job.items, longTerm, results).then(() => {
        ctx.stats.mainDecrypts += longTerm.length;
      });
    } else {
      openAll(fromHex(gid), held.secrets, job.items, longTerm, results);
      ctx.stats.mainDecrypts += longTerm.length;
    }
    // settled through the job's result below; this only keeps an early failure from going unhandled
    opening?.catch(() => {});
  }
  const keep = loaded === undefined ? {} : { secrets: loaded };
  // values still opening need nothing more from the actor: the job's result is a promise, so the
  // group's next job (the next batch, say) starts while this one opens
  const settle = (): Array<Uint8Array | Error> | Promise<Array<Uint8Array | Error>> => (opening === undefined ? results : opening.then(() => results));
  if (todo.length === 0) return { ops: [], result: settle(), ...keep };
  // sender-ratchet: on the group's worker, which holds the MLS state the messages change
  const out = await runStateTask(ctx, gid, record, {
    op: "decrypt",
    messages: todo.map((i) => {
      const item = job.items[i] as DecryptItem;
      return item.aad === undefined ? { message: item.message } : { message: item.message, aad: item.aad };
    }),
  });
  (out.outcomes ?? []).forEach((o, k) => {
    results[todo[k] as number] = o.ok ? o.plaintext : errorFromData(o.error);
  });
  if (out.change === undefined) return { ops: [], result: settle(), ...keep };
  const next = recordAfter(record, out.change);
  // durable: the ratchet keys these reads used are deleted, so a replay stays refused after a crash
  return { ops: [...stateOps(gid, out.change), hotOp(gid, next)], record: next, result: settle(), durable: true, ...keep };
}

/**
 * A decrypt job of long-term items only, run beside the group's actor with the record and
 * secrets it holds while idle (`GroupActors.idleView`): the same step, which for these items
 * reads nothing from the store and writes nothing.
 *
 * @example
 * ```ts
 * const results = await readLongTerm(ctx, gid, view, { items })
 * ```
 */
export async function readLongTerm(ctx: EngineContext, gid: string, view: { readonly record: GroupRecord; readonly secrets: HeldSecrets }, job: DecryptJob): Promise<Array<Uint8Array | Error>> {
  const reply = { resolve: () => {}, reject: () => {} };
  const out = await decryptStep(ctx, { groupId: gid, job: { kind: "decrypt", decrypt: job, reply }, step: 0, record: view.record, counter: 0n, secrets: view.secrets }, job);
  if (out.ops.length > 0) throw new Error("a long-term read staged writes");
  return out.result as Array<Uint8Array | Error> | Promise<Array<Uint8Array | Error>>;
}

/** Ciphertext bytes of the long-term items `which`. */
function longTermBytes(items: readonly DecryptItem[], which: readonly number[]): number {
  let bytes = 0;
  for (const i of which) {
    const item = items[i] as DecryptItem;
    bytes += item.message.length - item.ctAt;
  }
  return bytes;
}

/** True when a sender-ratchet item's clear associated data is the aad it is read with. */
function sameAad(item: DecryptItem): boolean {
  const decoded = decodeSecretGroupMessage(item.message, { copy: false });
  return decoded.type === "mls" && equalBytes(peekMlsPrivateMessage(decoded.mlsMessage).authenticatedData, item.aad ?? EMPTY);
}
