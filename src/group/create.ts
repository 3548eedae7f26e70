/**
 * Group creation (spec "Create group"): a one-member MLS group and long-term epoch 0.
 *
 * @module
 */
import { toId32 } from "../bytes.js";
import { DEFAULT_MLS_CIPHERSUITE } from "../constants.js";
import type { LongTermCiphersuiteName } from "../constants.js";
import { ErrorCode, UsageError } from "../errors.js";
import { assertIdentity } from "../identity.js";
import type { Identity } from "../identity.js";
import { isLongTermCiphersuiteName } from "../lts/ciphersuite.js";
import { deriveLongTermSecret } from "../lts/derive.js";
import { mlsCreateGroup, mlsEpochOf } from "../mls/group.js";
import { assertIdentityCiphersuite } from "../mls/keyPackage.js";
import { DEFAULT_PROVIDER, isMlsCiphersuiteName } from "../mls/suite.js";
import type { ProviderName } from "../mls/suite.js";
import { asMlsEpoch, exporterOf } from "./state.js";
import type { GroupState } from "./state.js";

/** Options of {@link createGroup}. @example `createGroup({ identity, groupId, ciphersuite: "PANDA10_AES128GCM" })` */
export interface CreateGroupOptions {
  /** The owner. */
  readonly identity: Identity;
  /** The SecretGroup document id (32 bytes or 64 hex characters). */
  readonly groupId: Uint8Array | string;
  /** Long-term secret ciphersuite. */
  readonly ciphersuite: LongTermCiphersuiteName;
  /** MLS ciphersuite (must sign with Ed25519). Default {@link DEFAULT_MLS_CIPHERSUITE}. */
  readonly mlsCiphersuite?: string;
  /** Crypto provider. */
  readonly provider?: ProviderName;
}

/**
 * Creates a group owned by `identity`, with the first long-term secret (epoch 0) exported
 * from MLS epoch 0.
 *
 * @example
 * ```ts
 * const state = await createGroup({ identity, groupId: docId, ciphersuite: "PANDA10_AES256GCM" })
 * ```
 */
export async function createGroup(options: CreateGroupOptions): Promise<GroupState> {
  const { identity, ciphersuite } = options;
  assertIdentity(identity);
  const groupId = toId32(options.groupId, "groupId");
  if (!isLongTermCiphersuiteName(ciphersuite)) {
    throw new UsageError(ErrorCode.InvalidArgument, `unknown long-term ciphersuite ${String(ciphersuite)}`);
  }
  const mlsCiphersuite = options.mlsCiphersuite ?? DEFAULT_MLS_CIPHERSUITE;
  if (!isMlsCiphersuiteName(mlsCiphersuite)) throw new UsageError(ErrorCode.InvalidArgument, `unknown MLS ciphersuite ${mlsCiphersuite}`);
  assertIdentityCiphersuite(mlsCiphersuite);
  const provider = options.provider ?? DEFAULT_PROVIDER;
  const mls = await mlsCreateGroup(Uint8Array.from(groupId), identity, mlsCiphersuite, provider);
  const first = await deriveLongTermSecret(exporterOf(mls, provider), groupId, ciphersuite, 0n);
  return {
    groupId: Uint8Array.from(groupId),
    owner: Uint8Array.from(identity.publicKey),
    self: Uint8Array.from(identity.publicKey),
    status: "member",
    ciphersuite,
    mlsEpoch: asMlsEpoch(mlsEpochOf(mls)),
    secrets: [first],
    nonceCounter: 0n,
    provider,
    mls,
  };
}
