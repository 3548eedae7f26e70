/**
 * Worker side of `secret-group vectors`: join a passive-client vector's group, or apply one of
 * its epochs to a state reloaded from its stored parts (never cached: the point is to prove
 * the stored form), and hand back the staged parts and the epoch authenticator. The MLS work
 * is src/mls/passiveClient.ts's; the incremental state codec is src/mls/storage.ts's.
 *
 * @module
 */
import { toHex } from "../../bytes.js";
import { toErrorData } from "../../errors.js";
import { vectorClientConfig } from "../../mls/config.js";
import { applyPassiveClientEpoch, joinPassiveClient, passiveClientSkipReason } from "../../mls/passiveClient.js";
import type { PassiveClientVector } from "../../mls/passiveClient.js";
import { loadState, stageState } from "../../mls/storage.js";
import type { StatePart } from "../../mls/storage.js";
import type { TaskResult } from "../pool.js";

/** A vector task. @example `{ op: "vectorJoin", vector }` */
export type VectorTask =
  | { readonly op: "vectorSkip"; readonly cipherSuite: number }
  | { readonly op: "vectorJoin"; readonly vector: PassiveClientVector }
  | { readonly op: "vectorEpoch"; readonly vector: PassiveClientVector; readonly index: number; readonly parts: ReadonlyArray<readonly [string, Uint8Array]> };

/** True for the tasks of this module. @example `isVectorTask({ op: "vectorJoin", vector })` */
export function isVectorTask(task: { readonly op: string }): task is VectorTask {
  return task.op === "vectorSkip" || task.op === "vectorJoin" || task.op === "vectorEpoch";
}

/** What a join or epoch task returns. @example `{ parts, authenticator: "ab12..." }` */
export interface VectorStep {
  readonly parts: StatePart[];
  readonly authenticator: string;
}

type State = Parameters<typeof stageState>[1];

const EMPTY = new Uint8Array(0);
const authenticatorOf = (state: State): string => toHex(state.keySchedule.epochAuthenticator);

async function handle(task: VectorTask): Promise<VectorStep | string | null> {
  switch (task.op) {
    case "vectorSkip":
      return (await passiveClientSkipReason(task.cipherSuite)) ?? null;
    case "vectorJoin": {
      const state = await joinPassiveClient(task.vector);
      return { parts: stageState(EMPTY, state, undefined).parts, authenticator: authenticatorOf(state) };
    }
    case "vectorEpoch": {
      const loaded = loadState(task.parts, { config: vectorClientConfig });
      const state = await applyPassiveClientEpoch(loaded.mls, task.vector, task.index);
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
