/**
 * The xstate v5 machine of one secret group, speaking the protocol: its status states
 * `awaiting-welcome`, `member` and `removed` change only on the events a written step reports,
 * `JOINED` (awaiting-welcome or removed -> member), `COMMIT_APPLIED` and `REMOVED`
 * (member -> removed); the record read at hydration picks the first one. In every status
 * state the group's jobs run one at a time (the actor is the only writer of its group): a job
 * is `executing` (the engine's step stages worker tasks and store reads, writes its one atomic
 * batch and runs its `after`: bookkeeping and events), and only when that step's actor is done
 * is the caller's promise settled; a step may ask for a follow-up
 * (`draining`: the pending successors of a commit, applied before `ingest` resolves, or the
 * second step of an encryption after its nonce reservation). The context also holds the
 * group's long-term secrets (src/engine/secrets.ts), taken from a step's output only once its
 * batch is written. All I/O is in two named actors, `hydrate` and `execute`, which the engine
 * provides (src/engine/steps.ts) and tests replace with `.provide()`; a failed step (its write
 * included) rejects the job and keeps the group's record, counter and secrets as they were.
 *
 * ```
 * hydrating -> awaiting-welcome --JOINED--> member --REMOVED--> removed --JOINED--> member
 *   each:  idle -> executing --(written; its event picks the status state)--> idle
 *                      |                                                      ^
 *                      +--> draining (follow-up, written) -> draining ... ----+
 * ```
 *
 * @module
 */
import { assign, fromPromise, setup } from "xstate";
import type { GroupRecord } from "../src/engine/store/records.js";
import type { FollowUp, GroupJob, HeldSecrets, ProtocolEvent, StepInput, StepOutput } from "../src/engine/jobs.js";
import { needsMember } from "../src/engine/jobs.js";
import { ErrorCode, UsageError } from "../src/errors.js";

interface Context {
  readonly groupId: string;
  /** Queue a resume (drain) first once hydrated, when the group's owner is known (see `hydrated`). */
  readonly resumeFirst: boolean;
  readonly record: GroupRecord | undefined;
  readonly counter: bigint;
  readonly secrets: HeldSecrets | undefined;
  readonly queue: readonly GroupJob[];
  readonly job: GroupJob | undefined;
  readonly step: number;
  readonly followUp: FollowUp | undefined;
  readonly result: unknown;
  readonly error: unknown;
}

type Events = { type: "job"; job: GroupJob };

type Status = "awaiting-welcome" | "member" | "removed";

/** The resume job the machine queues itself at hydration (`resumeFirst`): its outcome is nobody's. */
const RESUME_JOB: GroupJob = { kind: "resume", reply: { resolve: () => undefined, reject: () => undefined } };

const notProvided = (name: string) =>
  fromPromise<never, unknown>(async () => {
    throw new Error(`group machine: actor ${name} was not provided`);
  });

const stepInput = ({ context }: { context: Context }): StepInput => ({
  groupId: context.groupId,
  job: context.job as GroupJob,
  step: context.step,
  ...(context.followUp === undefined ? {} : { followUp: context.followUp }),
  record: context.record,
  counter: context.counter,
  secrets: context.secrets,
});

/** Where each protocol event leads from a status state (an event that does not apply keeps the state). */
const TRANSITIONS: Record<Status, Partial<Record<ProtocolEvent, Status>>> = {
  "awaiting-welcome": { JOINED: "member" },
  member: { REMOVED: "removed" },
  removed: { JOINED: "member" },
};

/**
 * Params of the `ends` guard, which picks a step's end: the output's protocol event (`other`:
 * any that does not move this status state) and whether it asks for a follow-up.
 */
interface EndParams {
  readonly event: ProtocolEvent | "other";
  readonly again: boolean;
}

/** A step's output, from the done event of its `execute` actor (which wrote its batch). */
const outputOf = (event: unknown): StepOutput | undefined => (event as { output: StepOutput | undefined }).output;

/**
 * Where a step ends, its batch written: the status state its protocol event leads to (an
 * event that does not apply keeps the state), in `draining` when it asked for a follow-up
 * (entered again from `draining`: a fresh step), else back in `idle` with the job settled.
 * One transition straight from the step: no intermediate states and no raised event (each
 * cost xstate a microstep and a snapshot). The last entry is for a provider whose step
 * returned no output: the job still settles.
 */
function stepEnds(status: Status) {
  const ends = [];
  const moves = (["JOINED", "COMMIT_APPLIED", "REMOVED"] as const).flatMap((event) => {
    const to = TRANSITIONS[status][event];
    return to === undefined ? [] : [[event, `#group.${to}.`] as const];
  });
  for (const [event, prefix] of [...moves, ["other", ""] as const]) {
    ends.push(
      { guard: { type: "ends" as const, params: { event, again: true } satisfies EndParams }, actions: ["applyOutput" as const, "nextStep" as const], target: `${prefix}draining`, reenter: true },
      { guard: { type: "ends" as const, params: { event, again: false } satisfies EndParams }, actions: ["applyOutput" as const, "settleJob" as const], target: `${prefix}idle`, reenter: true },
    );
  }
  return [...ends, { actions: "settleJob" as const, target: "idle" as const, reenter: true }];
}

function statusState(status: Status) {
  const step = () => ({
    invoke: {
      src: "execute" as const,
      input: stepInput,
      onDone: stepEnds(status),
      onError: { actions: "failJob" as const, target: "idle" as const },
    },
  });
  return {
    initial: "idle" as const,
    states: {
      idle: {
        always: [
          ...(status === "member" ? [] : [{ guard: "nextNeedsMember" as const, actions: "refuseNotMember" as const, target: "idle" as const, reenter: true }]),
          ...(status === "awaiting-welcome" ? [{ guard: "nextIsIdleResume" as const, actions: "settleResume" as const, target: "idle" as const, reenter: true }] : []),
          { guard: "hasJob" as const, actions: "takeJob" as const, target: "executing" as const },
        ],
      },
      executing: step(),
      draining: step(),
    },
  };
}

/**
 * The group machine. Provide `hydrate` (read the group record) and `execute` (run one step of
 * a job and write its batch before resolving: the job settles when it resolves).
 *
 * @example
 * ```ts
 * const actor = createActor(groupMachine.provide({ actors: { hydrate, execute } }), { input: { groupId } }).start()
 * ```
 */
export const groupMachine = setup({
  types: {
    context: {} as Context,
    events: {} as Events,
    input: {} as { groupId: string; resumeFirst?: boolean },
  },
  actors: {
    hydrate: notProvided("hydrate") as unknown as ReturnType<typeof fromPromise<{ record: GroupRecord | undefined; counter: bigint }, { groupId: string }>>,
    execute: notProvided("execute") as unknown as ReturnType<typeof fromPromise<StepOutput, StepInput>>,
  },
  guards: {
    hasJob: ({ context }) => context.queue.length > 0,
    nextNeedsMember: ({ context }) => context.queue[0] !== undefined && needsMember(context.queue[0]),
    ends: ({ event }, params: EndParams) => {
      const out = outputOf(event);
      if (out === undefined) return false;
      if (params.event !== "other" && out.event !== params.event) return false;
      return (out.again !== undefined) === params.again;
    },
    // an explicit resume (engine.open's) of a group whose owner is unknown: nothing can be joined
    // or applied before the group document, so its step would write nothing (the resume queued
    // at hydration is queued only with the owner known)
    nextIsIdleResume: ({ context }) => context.queue[0]?.kind === "resume" && context.record?.owner === undefined,
  },
  actions: {
    // a resume asked for at creation goes first, as if queued first: only with the owner known
    // (with none, the drain could neither join nor apply anything), and nobody waits for it
    hydrated: assign(({ context, event }) => {
      const out = (event as unknown as { output: { record: GroupRecord | undefined; counter: bigint } }).output;
      const resume = context.resumeFirst && out.record?.owner !== undefined;
      return { record: out.record, counter: out.counter, ...(resume ? { queue: [RESUME_JOB, ...context.queue] } : {}) };
    }),
    enqueue: assign({ queue: ({ context, event }) => [...context.queue, (event as { job: GroupJob }).job] }),
    takeJob: assign(({ context }) => {
      const [job, ...rest] = context.queue;
      return { queue: rest, job, step: 0, followUp: undefined, result: undefined };
    }),
    refuseNotMember: assign(({ context }) => {
      const [job, ...rest] = context.queue;
      job?.reply.reject(
        context.record?.owner === undefined
          ? new UsageError(ErrorCode.UnknownGroup, `unknown group ${context.groupId}`)
          : new UsageError(ErrorCode.NotMember, `not a member of group ${context.groupId} (${context.record.status})`),
      );
      return { queue: rest };
    }),
    applyOutput: assign(({ context, event }) => {
      const out = outputOf(event);
      return {
        record: out?.record ?? context.record,
        counter: out?.counter ?? context.counter,
        secrets: out?.secrets ?? context.secrets,
        result: context.result === undefined ? out?.result : context.result,
      };
    }),
    nextStep: assign(({ context, event }) => ({ step: context.step + 1, followUp: outputOf(event)?.again })),
    settleJob: assign(({ context }) => {
      context.job?.reply.resolve(context.result);
      return { job: undefined, result: undefined, followUp: undefined };
    }),
    settleResume: assign(({ context }) => {
      const [job, ...rest] = context.queue;
      job?.reply.resolve(undefined);
      return { queue: rest };
    }),
    refuseFailed: assign(({ context }) => {
      const [job, ...rest] = context.queue;
      job?.reply.reject(context.error);
      return { queue: rest };
    }),
    failJob: assign(({ context, event }) => {
      context.job?.reply.reject((event as unknown as { error: unknown }).error);
      return { job: undefined, result: undefined, followUp: undefined };
    }),
  },
}).createMachine({
  id: "group",
  context: ({ input }) => ({
    groupId: input.groupId,
    resumeFirst: input.resumeFirst === true,
    record: undefined,
    counter: 0n,
    secrets: undefined,
    queue: [],
    job: undefined,
    step: 0,
    followUp: undefined,
    result: undefined,
    error: undefined,
  }),
  on: { job: { actions: "enqueue" } },
  initial: "hydrating",
  states: {
    hydrating: {
      invoke: {
        src: "hydrate",
        input: ({ context }) => ({ groupId: context.groupId }),
        onDone: [
          { guard: ({ event }) => event.output.record?.status === "member", actions: "hydrated", target: "member" },
          { guard: ({ event }) => event.output.record?.status === "removed", actions: "hydrated", target: "removed" },
          { actions: "hydrated", target: "awaiting-welcome" },
        ],
        onError: { actions: assign({ error: ({ event }) => event.error }), target: "failed" },
      },
    },
    "awaiting-welcome": statusState("awaiting-welcome"),
    member: statusState("member"),
    removed: statusState("removed"),
    // the record could not be read (storage fault): refuse every job with that fault
    failed: {
      always: { guard: "hasJob", actions: "refuseFailed", target: "failed", reenter: true },
    },
  },
});
