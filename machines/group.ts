/**
 * The xstate v5 machine of one secret group: states `awaiting-welcome`, `member` and
 * `removed`, each running the group's jobs one at a time (the actor is the only writer of its
 * group). Every job is `execute` (staging: worker tasks and store reads, no writes) then
 * `persist` (one atomic batch) and only then settles the caller's promise; a step may ask for
 * another step of the same job (`again`), which is how a commit's pending successors are
 * applied before `ingest` resolves. The context also holds the group's long-term secrets
 * (src/engine/secrets.ts), taken from a step's output only once its batch is written, so
 * long-term decryption never reads secrets the store does not hold. All I/O is in three named
 * actors, `hydrate`, `execute` and `persist`, which the engine provides and tests replace with
 * `.provide()`.
 *
 * @module
 */
import { assign, fromPromise, setup } from "xstate";
import type { GroupRecord } from "../src/engine/store/records.js";
import type { HeldSecrets, GroupJob, StepInput, StepOutput } from "../src/engine/jobs.js";
import type { StoreOp } from "../src/engine/store/store.js";
import { ErrorCode, UsageError } from "../src/errors.js";

interface Context {
  readonly groupId: string;
  readonly record: GroupRecord | undefined;
  readonly counter: bigint;
  readonly secrets: HeldSecrets | undefined;
  readonly queue: readonly GroupJob[];
  readonly job: GroupJob | undefined;
  readonly step: number;
  readonly stepInput: unknown;
  readonly output: StepOutput | undefined;
  readonly result: unknown;
  readonly error: unknown;
}

type Events = { type: "job"; job: GroupJob };

const notProvided = (name: string) =>
  fromPromise<never, unknown>(async () => {
    throw new Error(`group machine: actor ${name} was not provided`);
  });

function statusStates(status: "awaiting-welcome" | "member" | "removed") {
  return {
    initial: "idle" as const,
    states: {
      idle: {
        always: [
          ...(status === "member" ? [] : [{ guard: "nextNeedsMember" as const, actions: "refuseNotMember" as const, target: "idle" as const, reenter: true }]),
          { guard: "hasJob" as const, actions: "takeJob" as const, target: "executing" as const },
        ],
      },
      executing: {
        invoke: {
          src: "execute" as const,
          input: ({ context }: { context: Context }): StepInput => ({
            groupId: context.groupId,
            job: context.job as GroupJob,
            step: context.step,
            input: context.stepInput,
            record: context.record,
            counter: context.counter,
            secrets: context.secrets,
          }),
          onDone: { actions: "keepOutput" as const, target: "persisting" as const },
          onError: { actions: "failJob" as const, target: "#group.route" as const },
        },
      },
      persisting: {
        invoke: {
          src: "persist" as const,
          input: ({ context }: { context: Context }) => ({ groupId: context.groupId, ops: context.output?.ops ?? [] }),
          onDone: [
            { guard: "stepAgain" as const, actions: ["applyOutput", "nextStep"] as const, target: "executing" as const },
            { actions: ["applyOutput", "settleJob"] as const, target: "#group.route" as const },
          ],
          onError: { actions: "failJob" as const, target: "#group.route" as const },
        },
      },
    },
  };
}

/**
 * The group machine. Provide `hydrate` (read the group record), `execute` and `persist`.
 *
 * @example
 * ```ts
 * const actor = createActor(groupMachine.provide({ actors: { hydrate, execute, persist } }), { input: { groupId } }).start()
 * ```
 */
export const groupMachine = setup({
  types: {
    context: {} as Context,
    events: {} as Events,
    input: {} as { groupId: string },
  },
  actors: {
    hydrate: notProvided("hydrate") as unknown as ReturnType<typeof fromPromise<{ record: GroupRecord | undefined; counter: bigint }, { groupId: string }>>,
    execute: notProvided("execute") as unknown as ReturnType<typeof fromPromise<StepOutput, StepInput>>,
    persist: notProvided("persist") as unknown as ReturnType<typeof fromPromise<void, { groupId: string; ops: readonly StoreOp[] }>>,
  },
  guards: {
    hasJob: ({ context }) => context.queue.length > 0,
    nextNeedsMember: ({ context }) => context.queue[0]?.needsMember === true,
    stepAgain: ({ context }) => context.output?.again !== undefined,
    isMember: ({ context }) => context.record?.status === "member",
    isRemoved: ({ context }) => context.record?.status === "removed",
  },
  actions: {
    enqueue: assign({ queue: ({ context, event }) => [...context.queue, event.job] }),
    takeJob: assign(({ context }) => {
      const [job, ...rest] = context.queue;
      return { queue: rest, job, step: 0, stepInput: job?.input, output: undefined, result: undefined };
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
    keepOutput: assign({ output: ({ event }) => (event as unknown as { output: StepOutput }).output }),
    applyOutput: assign(({ context }) => {
      const out = context.output;
      return {
        record: out?.record ?? context.record,
        counter: out?.counter ?? context.counter,
        secrets: out?.secrets ?? context.secrets,
        result: context.result === undefined ? out?.result : context.result,
      };
    }),
    nextStep: assign(({ context }) => ({ step: context.step + 1, stepInput: context.output?.again, output: undefined })),
    settleJob: assign(({ context }) => {
      context.job?.reply.resolve(context.result);
      return { job: undefined, output: undefined, result: undefined };
    }),
    refuseFailed: assign(({ context }) => {
      const [job, ...rest] = context.queue;
      job?.reply.reject(context.error);
      return { queue: rest };
    }),
    failJob: assign(({ context, event }) => {
      context.job?.reply.reject((event as unknown as { error: unknown }).error);
      return { job: undefined, output: undefined, result: undefined };
    }),
  },
}).createMachine({
  id: "group",
  context: ({ input }) => ({
    groupId: input.groupId,
    record: undefined,
    counter: 0n,
    secrets: undefined,
    queue: [],
    job: undefined,
    step: 0,
    stepInput: undefined,
    output: undefined,
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
        onDone: {
          actions: assign(({ event }) => ({ record: event.output.record, counter: event.output.counter })),
          target: "route",
        },
        onError: { actions: assign({ error: ({ event }) => event.error }), target: "failed" },
      },
    },
    route: {
      always: [
        { guard: "isMember", target: "member" },
        { guard: "isRemoved", target: "removed" },
        { target: "awaiting-welcome" },
      ],
    },
    "awaiting-welcome": statusStates("awaiting-welcome"),
    member: statusStates("member"),
    removed: statusStates("removed"),
    // the record could not be read (storage fault): refuse every job with that fault
    failed: {
      always: { guard: "hasJob", actions: "refuseFailed", target: "failed", reenter: true },
    },
  },
});
