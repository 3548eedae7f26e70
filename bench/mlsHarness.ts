/**
 * Raw ts-mls group operations, parameterised by crypto provider: the baseline. It imports
 * `ts-mls-bare`, the registry's ts-mls 1.6.4 installed unpatched under an npm alias, because
 * `ts-mls` itself carries our patch (README, Dependencies), whose speed-ups would otherwise
 * flatter the baseline.
 *
 * @module
 */
import {
  acceptAll,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultCryptoProvider,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  joinGroup,
  mlsExporter,
  processMessage,
  type CiphersuiteImpl,
  type CiphersuiteName,
  type ClientState,
  type CryptoProvider,
  type KeyPackage,
  type MLSMessage,
  type PrivateKeyPackage,
  type Proposal,
} from "ts-mls-bare";
import { encodeCommit } from "ts-mls-bare/commit.js";
import { randomBytes } from "node:crypto";
import { nodeCryptoProvider } from "../src/mls/crypto/provider.js";

/**
 * The two providers being compared.
 *
 * @example
 * ```ts
 * const p: ProviderLabel = "node";
 * ```
 */
export type ProviderLabel = "default" | "node";

/**
 * Default MLS suite of secret-group.
 *
 * @example
 * ```ts
 * await suiteImpl("default", SUITE);
 * ```
 */
export const SUITE: CiphersuiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

const PROVIDERS: Record<ProviderLabel, CryptoProvider> = { default: defaultCryptoProvider, node: nodeCryptoProvider };

/**
 * Ciphersuite implementation of `suite` on the named provider.
 *
 * @example
 * ```ts
 * const cs = await suiteImpl("node");
 * ```
 */
export function suiteImpl(provider: ProviderLabel, suite: CiphersuiteName = SUITE): Promise<CiphersuiteImpl> {
  return PROVIDERS[provider].getCiphersuiteImpl(getCiphersuiteFromName(suite));
}

/**
 * A key package with its private half.
 *
 * @example
 * ```ts
 * const kp: KeyPackagePair = await newKeyPackage(cs);
 * ```
 */
export interface KeyPackagePair {
  readonly publicPackage: KeyPackage;
  readonly privatePackage: PrivateKeyPackage;
}

/**
 * New key package with a random 32-byte basic credential.
 *
 * @example
 * ```ts
 * const kp = await newKeyPackage(cs);
 * ```
 */
export function newKeyPackage(cs: CiphersuiteImpl): Promise<KeyPackagePair> {
  const credential = { credentialType: "basic" as const, identity: new Uint8Array(randomBytes(32)) };
  return generateKeyPackage(credential, defaultCapabilities(), defaultLifetime, [], cs);
}

/**
 * A one-member group owned by a fresh key package.
 *
 * @example
 * ```ts
 * const owner = await newGroup(cs);
 * ```
 */
export async function newGroup(cs: CiphersuiteImpl): Promise<ClientState> {
  const kp = await newKeyPackage(cs);
  return createGroup(new Uint8Array(randomBytes(32)), kp.publicPackage, kp.privatePackage, [], cs);
}

/**
 * Result of a commit: new committer state plus wire bytes.
 *
 * @example
 * ```ts
 * const c: Committed = await commit(cs, owner);
 * ```
 */
export interface Committed {
  readonly state: ClientState;
  readonly commit: Uint8Array;
  readonly welcome?: Uint8Array;
}

/**
 * Commits `proposals` (none = a path-only update commit) as a PublicMessage, as
 * secret-group sends commits, and encodes commit and welcome to bytes.
 *
 * @example
 * ```ts
 * const { state, commit, welcome } = await commit(cs, owner, adds(kps));
 * ```
 */
export async function commit(cs: CiphersuiteImpl, state: ClientState, proposals: Proposal[] = []): Promise<Committed> {
  const r = await createCommit({ state, cipherSuite: cs }, { extraProposals: proposals, wireAsPublicMessage: true });
  const out: Committed = { state: r.newState, commit: encodeMlsMessage(r.commit) };
  return r.welcome === undefined
    ? out
    : { ...out, welcome: encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: r.welcome } as MLSMessage) };
}

/**
 * Why bare ts-mls 1.6.4 cannot make a commit adding `count` members, or undefined if it can
 * write one: 1.6.4 writes a vector by chaining one closure per element, so a long enough vector
 * (the commit's add proposals) overflows the call stack. Checked by encoding such a commit (the
 * same key package repeated: the writer's depth depends on the count alone), in milliseconds.
 *
 * @example
 * ```ts
 * bareAddCommitFails(kp.publicPackage, 9_999); // "ts-mls 1.6.4 overflows the call stack ..."
 * ```
 */
export function bareAddCommitFails(keyPackage: KeyPackage, count: number): string | undefined {
  const proposal = { proposalOrRefType: "proposal" as const, proposal: { proposalType: "add" as const, add: { keyPackage } } as Proposal };
  try {
    encodeCommit({ proposals: Array.from({ length: count }, () => proposal), path: undefined });
    return undefined;
  } catch (e) {
    if (e instanceof RangeError) return `ts-mls 1.6.4 overflows the call stack writing a commit of ${count} add proposals (${e.message}, default stack)`;
    throw e;
  }
}

/**
 * Add proposals for key packages.
 *
 * @example
 * ```ts
 * adds([kp.publicPackage]);
 * ```
 */
export function adds(keyPackages: readonly KeyPackage[]): Proposal[] {
  return keyPackages.map((keyPackage) => ({ proposalType: "add", add: { keyPackage } }));
}

/**
 * Remove proposal for a leaf index.
 *
 * @example
 * ```ts
 * removeLeaf(3);
 * ```
 */
export function removeLeaf(leafIndex: number): Proposal {
  return { proposalType: "remove", remove: { removed: leafIndex } } as Proposal;
}

function decode(bytes: Uint8Array): MLSMessage {
  const decoded = decodeMlsMessage(bytes, 0);
  if (decoded === undefined) throw new Error("undecodable MLS message");
  return decoded[0];
}

/**
 * Joins from welcome bytes; the ratchet tree is handed over out of band (as a node that
 * already holds the group's tree would).
 *
 * @example
 * ```ts
 * const s = await join(cs, welcome, kp, owner.ratchetTree);
 * ```
 */
export async function join(cs: CiphersuiteImpl, welcome: Uint8Array, kp: KeyPackagePair, tree: ClientState["ratchetTree"]): Promise<ClientState> {
  const msg = decode(welcome);
  if (msg.wireformat !== "mls_welcome") throw new Error("not a welcome");
  return joinGroup(msg.welcome, kp.publicPackage, kp.privatePackage, emptyPskIndex, cs, tree);
}

/**
 * Processes a commit (PublicMessage bytes) and returns the new state.
 *
 * @example
 * ```ts
 * member = await applyCommit(cs, member, commitBytes);
 * ```
 */
export async function applyCommit(cs: CiphersuiteImpl, state: ClientState, bytes: Uint8Array): Promise<ClientState> {
  const msg = decode(bytes);
  if (msg.wireformat !== "mls_public_message" && msg.wireformat !== "mls_private_message") throw new Error("not a commit");
  const r = await processMessage(msg, state, emptyPskIndex, acceptAll, cs);
  if (r.kind !== "newState" || r.actionTaken !== "accept") throw new Error("commit not accepted");
  return r.newState;
}

/**
 * Encrypts an application message (sender ratchet) to PrivateMessage bytes.
 *
 * @example
 * ```ts
 * const { state, message } = await seal(cs, member, data);
 * ```
 */
export async function seal(cs: CiphersuiteImpl, state: ClientState, plaintext: Uint8Array): Promise<{ state: ClientState; message: Uint8Array }> {
  const r = await createApplicationMessage(state, plaintext, cs);
  const message = encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage: r.privateMessage } as MLSMessage);
  return { state: r.newState, message };
}

/**
 * Decrypts an application message.
 *
 * @example
 * ```ts
 * const { state, plaintext } = await open(cs, member, message);
 * ```
 */
export async function open(cs: CiphersuiteImpl, state: ClientState, bytes: Uint8Array): Promise<{ state: ClientState; plaintext: Uint8Array }> {
  const msg = decode(bytes);
  if (msg.wireformat !== "mls_private_message") throw new Error("not a private message");
  const r = await processMessage(msg, state, emptyPskIndex, acceptAll, cs);
  if (r.kind !== "applicationMessage") throw new Error("not an application message");
  return { state: r.newState, plaintext: r.message };
}

/**
 * MLS exporter value of the current epoch (equal at every member iff they agree on the epoch).
 *
 * @example
 * ```ts
 * await exporterOf(cs, member);
 * ```
 */
export function exporterOf(cs: CiphersuiteImpl, state: ClientState): Promise<Uint8Array> {
  return mlsExporter(state.keySchedule.exporterSecret, "provider-check", new Uint8Array(), 32, cs);
}

/**
 * Leaf index of a member state.
 *
 * @example
 * ```ts
 * leafOf(member); // 0 for the creator
 * ```
 */
export function leafOf(state: ClientState): number {
  return Number(state.privatePath.leafIndex);
}
