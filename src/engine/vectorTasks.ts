/**
 * Worker side of `secret-group vectors`: join a passive-client vector's group, or apply one of
 * its epochs to a state reloaded from its stored parts (never cached: the point is to prove
 * the stored form), and hand back the staged parts and the epoch authenticator. The MLS work
 * is src/mls/passiveClient.ts's; the incremental state codec is src/mls/storage.ts's.
 *
 * @module
 */
import { toHex } from "../bytes.js";
import { ErrorCode, InternalError, toErrorData } from "../errors.js";
import { vectorClientConfig } from "../mls/config.js";
import { loadState, stageState } from "../mls/storage.js";
import type { StatePart } from "../mls/storage.js";
import type { PassiveClientVector } from "../mls/passiveClient.js";
import type { TaskResult } from "./pool.js";

/** A vector task. @example `{ op: "vectorJoin", vector }` */
export type VectorTask =
  | { readonly op: "vectorMode" }
  | { readonly op: "vectorWhole"; readonly vector: PassiveClientVector }
  | { readonly op: "vectorSkip"; readonly cipherSuite: number }
  | { readonly op: "vectorJoin"; readonly vector: PassiveClientVector }
  | { readonly op: "vectorEpoch"; readonly vector: PassiveClientVector; readonly index: number; readonly parts: ReadonlyArray<readonly [string, Uint8Array]> };

/** What a join or epoch task returns. @example `{ parts, authenticator: "ab12..." }` */
export interface VectorStep {
  readonly parts: StatePart[];
  readonly authenticator: string;
}

type State = Parameters<typeof stageState>[1];
interface PassiveApi {
  joinPassiveClient(vector: PassiveClientVector): Promise<State>;
  applyPassiveClientEpoch(state: State, vector: PassiveClientVector, index: number): Promise<State>;
  passiveClientSkipReason(cipherSuite: number): Promise<string | undefined>;
}

type Module = Partial<PassiveApi> & { runPassiveClientVector?: (vector: PassiveClientVector) => Promise<unknown> };
const loadModule = async (): Promise<Module> => (await import("../mls/passiveClient.js")) as unknown as Module;

// Loaded lazily so the rest of the engine never depends on the vector helpers' exports.
async function passiveApi(): Promise<PassiveApi> {
  const mod = await loadModule();
  if (typeof mod.joinPassiveClient !== "function" || typeof mod.applyPassiveClientEpoch !== "function" || typeof mod.passiveClientSkipReason !== "function") {
    throw new InternalError(
      ErrorCode.Internal,
      "src/mls/passiveClient.ts does not export joinPassiveClient(vector) and applyPassiveClientEpoch(state, vector, index) yet",
    );
  }
  return mod as PassiveApi;
}

const EMPTY = new Uint8Array(0);
const authenticatorOf = (state: State): string => toHex(state.keySchedule.epochAuthenticator);

async function handle(task: VectorTask): Promise<VectorStep | string | null> {
  if (task.op === "vectorMode") {
    const mod = await loadModule();
    return typeof mod.joinPassiveClient === "function" && typeof mod.applyPassiveClientEpoch === "function" ? "stepwise" : "whole";
  }
  if (task.op === "vectorWhole") {
    // fallback while src/mls/passiveClient.ts has no join/epoch functions: the whole vector in
    // one worker task, without the store between epochs
    const mod = await loadModule();
    if (typeof mod.runPassiveClientVector !== "function") throw new InternalError(ErrorCode.Internal, "no passive-client runner in src/mls/passiveClient.ts");
    await mod.runPassiveClientVector(task.vector);
    return null;
  }
  if (task.op === "vectorSkip") {
    const mod = await loadModule();
    return typeof mod.passiveClientSkipReason === "function" ? ((await mod.passiveClientSkipReason(task.cipherSuite)) ?? null) : null;
  }
  const api = await passiveApi();
  switch (task.op) {
    case "vectorJoin": {
      const state = await api.joinPassiveClient(task.vector);
      return { parts: stageState(EMPTY, state, undefined).parts, authenticator: authenticatorOf(state) };
    }
    case "vectorEpoch": {
      const loaded = loadState(task.parts, vectorClientConfig);
      const state = await api.applyPassiveClientEpoch(loaded.mls, task.vector, task.index);
      return { parts: stageState(EMPTY, state, loaded.meta).parts, authenticator: authenticatorOf(state) };
    }
  }
}

/**
 * Runs one vector task; errors become data.
 *
 * @example
 * ```ts
 * const result = await runVectorTask({ op: "vectorJoin", vector })
 * ```
 */
export async function runVectorTask(task: VectorTask): Promise<TaskResult<unknown>> {
  try {
    return { ok: true, value: await handle(task) };
  } catch (e) {
    return { ok: false, error: toErrorData(e) };
  }
}
