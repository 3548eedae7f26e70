/**
 * The long-term secrets a group actor holds in memory, so long-term ciphertexts open without
 * the group's MLS state: a few on the main thread (AEAD on node:crypto takes microseconds, less
 * than a worker round trip), a large batch in the pool with these keys (src/engine/poolDecrypt.ts).
 *
 * Source of truth: the state head the store holds (`state/<gid>/h`, whose wrapper carries the
 * sorted secret list, see store/stateCodec.ts). There is no second stored copy to keep consistent.
 * Held secrets are tagged with the state token of the record they were read for and count only
 * while that token is the record's: after every persisted step the actor takes the secrets from
 * the head the step wrote (a head is written whenever the secrets change), carries them over
 * when the step changed the state but not its head, and otherwise reads them again from the
 * store on the next long-term decryption (after a restart or an eviction: no worker needed).
 *
 * @module
 */
import { toHex } from "../bytes.js";
import type { HeldSecrets, StepInput, StepOutput } from "./jobs.js";
import type { EngineContext } from "./context.js";
import type { GroupRecord } from "./store/records.js";
import { STATE_HEAD_PART, secretsOfStateHead } from "./store/stateCodec.js";
import { Sublevel } from "./store/sublevels.js";
import { DecodeError } from "../errors.js";

const tokenOf = (record: GroupRecord | undefined): string | undefined => (record?.stateToken === undefined ? undefined : toHex(record.stateToken));

/**
 * The held secrets when they belong to `record`'s persisted state, else undefined.
 *
 * @example
 * ```ts
 * const secrets = validSecrets(step.secrets, step.record)?.secrets
 * ```
 */
export function validSecrets(held: HeldSecrets | undefined, record: GroupRecord | undefined): HeldSecrets | undefined {
  const token = tokenOf(record);
  return held !== undefined && token !== undefined && held.token === token ? held : undefined;
}

/**
 * Reads the secrets of the group's persisted state from the store (its state head). A record
 * with a state token but no head is a damaged store: DecodeError, as loading the state would.
 *
 * @example
 * ```ts
 * const held = await loadSecrets(ctx, gid, record)
 * ```
 */
export async function loadSecrets(ctx: EngineContext, groupId: string, record: GroupRecord): Promise<HeldSecrets> {
  const token = tokenOf(record);
  if (token === undefined) throw new DecodeError("group has no stored state");
  const head = await ctx.store.get(Sublevel.State, `${groupId}/${STATE_HEAD_PART}`, "group state");
  if (head === undefined) throw new DecodeError("stored MLS state: head missing");
  ctx.stats.secretLoads++;
  return { token, secrets: secretsOfStateHead(head) };
}

/**
 * The secrets the actor holds after a step's batch is written. When the step changes the
 * persisted state (a new token): those of the head it writes, else (head unchanged) the ones
 * known before the step, held or read by the step, carried to the new token. Otherwise the
 * output is returned as is; secrets that no longer match the record's token are read again
 * when next needed.
 *
 * @example
 * ```ts
 * const output = withSecrets(input, await executeStep(ctx, input))
 * ```
 */
export function withSecrets(input: StepInput, output: StepOutput): StepOutput {
  const after = tokenOf(output.record);
  const before = tokenOf(input.record);
  if (after === undefined || after === before || output.secrets?.token === after) return output;
  // what was known of the state before this step: held, or read by the step itself
  const known = output.secrets?.token === before ? output.secrets : validSecrets(input.secrets, input.record);
  const headKey = `${input.groupId}/${STATE_HEAD_PART}`;
  const head = output.ops.find((op) => op.sub === Sublevel.State && op.key === headKey);
  if (head === undefined) {
    // the state changed (its secret tree, say) but not its head, so not its secrets
    return known === undefined ? output : { ...output, secrets: { token: after, secrets: known.secrets } };
  }
  if (head.value === null) return output;
  try {
    return { ...output, secrets: { token: after, secrets: secretsOfStateHead(head.value) } };
  } catch {
    // a head this process just staged always decodes; if not, it is read again when needed
    return output;
  }
}
