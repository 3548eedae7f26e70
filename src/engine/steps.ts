/**
 * The `execute` actor of the group machine: one step of one job, staged (reads and worker
 * tasks), then written as a single atomic batch (persistStep, then the step's `after`) before
 * the actor resolves, so the machine settles a job only once its batch is written. Job kinds: `create`, `commit`,
 * `ingest` (a SecretGroup or SecretGroupCommit document), `encrypt`, `decrypt`, `read`,
 * `operation`, `dropPending` and `resume` (a drain, after hydration); the ingest,
 * drain and operation steps come from src/engine/commits.ts, src/engine/drain.ts and
 * src/engine/operations.ts.
 *
 * @module
 */
import { decryptStep, sentKey } from "./decryptStep.js";
import { equalBytes, fromHex, toHex } from "../bytes.js";
import { dropPendingStep, operationStep } from "./operations.js";
import type { EngineEvent } from "./watch.js";
import { ErrorCode, UsageError } from "../errors.js";
import { SchemaId, readSecretGroup, secretGroupCommitDocument } from "../documents/index.js";
import type { SignedDocument } from "../documents/index.js";
import { groupMachine } from "../../machines/group.js";
import type { CommitJob, EncryptJob, StepInput, StepOutput } from "./jobs.js";
import { fromPromise } from "xstate";
import { drainStep } from "./drain.js";
import { ingestCommitDocument, ingestGroupDocument, trimStep } from "./commits.js";
import { recordAfter, runStateTask, stateOps } from "./context.js";
import { indexCommitOps, indexGroupOps } from "./materialise.js";
import { withSecrets } from "./secrets.js";
import type { EngineContext } from "./context.js";
import { CommitStatus, emptyGroupRecord, encodeCommitRecord } from "./store/records.js";
import type { GroupRecord } from "./store/records.js";
import { Sublevel } from "./store/sublevels.js";
import { hotOp, readGroupRecord, recordOps } from "./store/groups.js";
import type { StoreOp } from "./store/store.js";
import { outboxOp } from "./outbox.js";

/** Result of `commit`/`create`: documents to publish. @example `{ documents: [doc.bytes] }` */
export interface Published {
  readonly documents: Uint8Array[];
}


function requireRecord(gid: string, record: GroupRecord | undefined): GroupRecord {
  if (record === undefined || record.owner === undefined) throw new UsageError(ErrorCode.UnknownGroup, `unknown group ${gid}`);
  return record;
}

async function create(ctx: EngineContext, gid: string, record: GroupRecord | undefined, doc: SignedDocument): Promise<StepOutput> {
  if (record?.owner !== undefined) throw new UsageError(ErrorCode.AlreadyMember, "group exists");
  const { ciphersuite } = readSecretGroup(doc);
  const out = await runStateTask(ctx, gid, undefined, { op: "create", identity: ctx.identity, groupId: doc.id, ciphersuite });
  if (out.change === undefined) throw new Error("create returned no state");
  const next = recordAfter({ ...emptyGroupRecord(), owner: doc.author, ciphersuite }, out.change);
  return {
    ops: [
      { sub: Sublevel.Docs, key: gid, value: doc.bytes },
      outboxOp(ctx.outbox, doc.id, doc.bytes),
      ...stateOps(gid, out.change),
      ...recordOps(gid, next, record),
      ...(await indexGroupOps(ctx, doc)),
    ],
    record: next,
    result: { documents: [doc.bytes] } satisfies Published,
    event: "JOINED",
    // durable with its outbox entry before createGroup returns the document
    durable: true,
  };
}

/**
 * Waits for an add's key package documents to pass their signature checks, which run beside the
 * worker's commit (so the worker starts at once, not after 999 checks). Nothing the worker made
 * is used before they pass: when one fails, the worker's commit (staged under a fresh token the
 * group record never names, so never reused) is waited for and dropped, and the check's error
 * goes on.
 */
async function afterChecks(work: Promise<unknown>, verified: Promise<void>): Promise<void> {
  work.catch(() => undefined); // its failure is the step's once the checks pass
  try {
    await verified;
  } catch (e) {
    // the group's next task waits for this one to end, as when the checks came first
    await work.catch(() => undefined);
    throw e;
  }
}

async function commit(ctx: EngineContext, gid: string, recordIn: GroupRecord | undefined, job: CommitJob): Promise<StepOutput> {
  const record = requireRecord(gid, recordIn);
  if (!equalBytes(record.owner as Uint8Array, ctx.identity.publicKey)) throw new UsageError(ErrorCode.NotOwner, "only the group owner commits");
  const work = runStateTask(ctx, gid, record, {
    op: "commit",
    action: job.action,
    ...(job.keyPackages === undefined ? {} : { keyPackages: job.keyPackages }),
    ...(job.authors === undefined ? {} : { authors: job.authors }),
    ...(job.publicKeys === undefined ? {} : { publicKeys: job.publicKeys }),
  });
  // the task is posted (piscina hands it to an idle worker at once): the checks run beside it
  if (job.verify !== undefined) await afterChecks(work, job.verify());
  const out = await work;
  if (out.change === undefined || out.commit === undefined || out.inspection === undefined) throw new Error("commit returned no state");
  const parts = out.commit;
  const doc = secretGroupCommitDocument(ctx.identity, {
    secretGroup: Uint8Array.from(Buffer.from(gid, "hex")),
    ...(record.head === undefined ? {} : { previousCommit: record.head }),
    commit: parts,
  });
  const cid = toHex(doc.id);
  const next = recordAfter(record, out.change, { head: doc.id });
  const ops: StoreOp[] = [
    ...stateOps(gid, out.change),
    { sub: Sublevel.Docs, key: cid, value: doc.bytes },
    // the commit stays in the outbox until the application acknowledges it as published
    outboxOp(ctx.outbox, doc.id, doc.bytes),
    {
      sub: Sublevel.Commits,
      key: `${gid}/${cid}`,
      value: encodeCommitRecord({ ...(record.head === undefined ? {} : { previous: record.head }), epoch: record.mlsEpoch, status: CommitStatus.Applied, welcome: parts.mlsWelcome !== undefined }),
    },
    ...recordOps(gid, next, record),
    ...(await indexCommitOps(ctx, doc, out.inspection)),
  ];
  // durable before the commit is released: a machine crash must not take the owner back to an
  // epoch whose successor the application may already have published
  return { ops, record: next, result: { documents: [doc.bytes] } satisfies Published, event: "COMMIT_APPLIED", durable: true };
}

async function encryptStep(ctx: EngineContext, gid: string, recordIn: GroupRecord | undefined, counter: bigint, job: EncryptJob): Promise<StepOutput> {
  const record = requireRecord(gid, recordIn);
  if (job.scheme === "long-term" && counter + BigInt(job.plaintexts.length) > record.nonceReserved) {
    // reserve a block of nonce counters and persist it before any of them is used
    const reserved = counter + BigInt(job.plaintexts.length) + ctx.nonceBlock;
    const next = { ...record, nonceReserved: reserved };
    // durable: a reservation lost in a crash would hand out its counters again after the restart
    return { ops: [hotOp(gid, next)], record: next, again: { kind: "retry" }, durable: true };
  }
  const out = await runStateTask(ctx, gid, record, { op: "encrypt", plaintexts: job.plaintexts, scheme: job.scheme, nonceFloor: counter, ...(job.aad === undefined ? {} : { aad: job.aad }) });
  if (out.messages === undefined) throw new Error("encrypt returned no messages");
  // long-term: the stored state does not change (the counter lives in the reservation), nothing to write
  if (out.change === undefined) return { ops: [], counter: out.nonceCounter ?? counter, result: out.messages };
  const next = recordAfter(record, out.change);
  const ops: StoreOp[] = [...stateOps(gid, out.change), hotOp(gid, next)];
  if (job.scheme === "sender-ratchet") {
    // MLS deletes a sender's own key on use: keep the plaintext so the sender can read it back
    out.messages.forEach((m, i) => ops.push({ sub: Sublevel.Sent, key: sentKey(m), value: job.plaintexts[i] as Uint8Array }));
  }
  // sender-ratchet: durable, a generation (its key and nonce) must not be handed out twice after a
  // crash; long-term counters are safe already, inside a reservation that was written durably
  const durable = job.scheme === "sender-ratchet" ? { durable: true as const } : {};
  return { ops, record: next, counter: out.change.summary.nonceCounter, result: out.messages, ...durable };
}

/**
 * Runs one step of a group job.
 *
 * @example
 * ```ts
 * groupMachine.provide({ actors: { execute: fromPromise(({ input }) => executeStep(ctx, input)) } })
 * ```
 */
export async function executeStep(ctx: EngineContext, step: StepInput): Promise<StepOutput> {
  const { groupId: gid, record, job } = step;
  // a document ingested with its signature check still running: nothing acts on it before the
  // check passes. A commit document's step awaits it itself, having started the worker on the
  // commit (which may be the member's next) beside the check (src/engine/commits.ts); its later
  // steps (drains) come after that.
  if (job.kind === "operation" || (job.kind === "ingest" && job.doc.schema !== SchemaId.SecretGroupCommit)) await job.verified;
  if (step.followUp?.kind === "drain") return drainStep(ctx, step, step.followUp);
  switch (job.kind) {
    case "create":
      return create(ctx, gid, record, job.doc);
    case "commit":
      return commit(ctx, gid, record, job.commit);
    case "ingest":
      return job.doc.schema === SchemaId.SecretGroup ? ingestGroupDocument(ctx, gid, record, job.doc) : ingestCommitDocument(ctx, gid, record, job.doc, job.verified);
    case "encrypt":
      return encryptStep(ctx, gid, record, step.counter, job.encrypt);
    case "decrypt":
      return decryptStep(ctx, step, job.decrypt);
    case "read":
      return { ops: [], result: record ?? null };
    case "trim":
      return trimStep(ctx, gid, job.commitId, job.limit);
    case "operation":
      return operationStep(ctx, step, job.doc);
    case "dropPending":
      return dropPendingStep(ctx, step, job.key, job.reason);
    case "resume":
      return drainStep(ctx, step, { kind: "drain" });
  }
}

const PROTOCOL_EVENTS = { JOINED: "joined", COMMIT_APPLIED: "commit", REMOVED: "removed" } as const;

/** Adds the watchers' event for a step's protocol event (joined, commit, removed) to its `after`. */
function withProtocolEvent(ctx: EngineContext, gid: string, out: StepOutput): StepOutput {
  if (out.event === undefined || out.record === undefined) return out;
  const event: EngineEvent = { type: PROTOCOL_EVENTS[out.event], groupId: fromHex(gid), epoch: out.record.mlsEpoch };
  const before = out.after;
  return {
    ...out,
    after: () => {
      before?.();
      ctx.events.emit([event]);
    },
  };
}

/** Writes one step's batch (and counts it), then runs its `after`. */
async function persistStep(ctx: EngineContext, { ops, durable, after, prepared }: StepOutput): Promise<void> {
  if (ops.length > 0) {
    const started = performance.now();
    ctx.pendingChain.beforeBatch(ops);
    await ctx.store.batch(ops, { sync: durable === true, ...(prepared === undefined ? {} : { prepared }) });
    ctx.pendingChain.afterBatch(ops);
    ctx.pendingCommits.afterBatch(ops);
    ctx.welcomes.afterBatch(ops);
    ctx.stats.persistMs += performance.now() - started;
    ctx.stats.batches++;
  }
  after?.();
}

/**
 * The group machine with the engine's actors: `hydrate` reads the group record, `execute`
 * runs {@link executeStep} and writes its batch (one invoked actor per step, xstate's largest
 * cost per job); a failed write rejects it (StorageError), so the machine keeps its context.
 *
 * @example
 * ```ts
 * const actors = new GroupActors(provideGroupMachine(ctx), 256)
 * ```
 */
export function provideGroupMachine(ctx: EngineContext): typeof groupMachine {
  return groupMachine.provide({
    actors: {
      hydrate: fromPromise(async ({ input }: { input: { groupId: string } }) => {
        const record = await readGroupRecord(ctx.store, input.groupId);
        // after a restart, continue after the reserved block: a counter is never used twice
        return { record, counter: record?.nonceReserved ?? 0n };
      }),
      execute: fromPromise(async ({ input }: { input: StepInput }): Promise<StepOutput> => {
        const out = withProtocolEvent(ctx, input.groupId, withSecrets(input, await executeStep(ctx, input)));
        try {
          // most drain steps write nothing and run nothing after
          if (out.ops.length > 0 || out.after !== undefined) await persistStep(ctx, out);
        } finally {
          out.prepared?.discard(); // a no-op once written; frees one the write never took
        }
        return out;
      }),
    },
  });
}
