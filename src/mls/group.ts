/**
 * MLS group lifecycle over ts-mls: create, join from a Welcome, read members, export secrets.
 *
 * @module
 */
import { createGroup as tsCreateGroup, defaultLifetime, emptyPskIndex, joinGroup as tsJoinGroup, mlsExporter } from "ts-mls";
import { treeKeySummary } from "ts-mls/clientState.js";
import { leafIdentity } from "ts-mls/ratchetTree.js";
import type { ClientConfig, ClientState, CiphersuiteName, Node } from "ts-mls";
import { equalBytes } from "../bytes.js";
import { ErrorCode, ValidationError } from "../errors.js";
import { clientConfig } from "./config.js";
import { decodeKeyPackageBytes, decodeWelcomeBytes } from "./codec.js";
import { guard } from "./errors.js";
import { generateMlsKeyPackage } from "./keyPackage.js";
import type { MlsIdentity } from "./keyPackage.js";
import { withDocumentSignerTrusted } from "./documentSigner.js";
import { withOwnLeafTrusted } from "./ownLeaf.js";
import { getSuite } from "./suite.js";
import type { ProviderName } from "./suite.js";

/** A ts-mls client state: opaque outside `src/mls/`. @example `const mls: MlsState = state.mls` */
export type MlsState = ClientState;

/**
 * Creates a one-member MLS group (epoch 0) owned by `identity`.
 *
 * @example
 * ```ts
 * const mls = await mlsCreateGroup(groupId, identity, "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "default")
 * ```
 */
export async function mlsCreateGroup(
  groupId: Uint8Array,
  identity: MlsIdentity,
  ciphersuite: CiphersuiteName,
  provider: ProviderName,
): Promise<MlsState> {
  const cs = await getSuite(ciphersuite, provider);
  // The owner's own key package is used at once and never published (spec, "Create group"),
  // so it gets the unbounded lifetime: its leaf stays in the tree until the owner's next path.
  const kp = await generateMlsKeyPackage(identity, ciphersuite, provider, defaultLifetime);
  const keyPackage = decodeKeyPackageBytes(kp.keyPackage);
  return guard(ErrorCode.MlsFailure, "creating MLS group", () =>
    tsCreateGroup(
      groupId,
      keyPackage,
      { initPrivateKey: kp.initPrivateKey, hpkePrivateKey: kp.hpkePrivateKey, signaturePrivateKey: identity.secretKey },
      [],
      cs,
      clientConfig,
    ),
  );
}

/** Private half of a published key package (what `createKeyPackage`'s `secret` holds). @example `const s: MlsKeyPackageSecret = decodeKeyPackageSecret(secret)` */
export interface MlsKeyPackageSecret {
  /** MLSMessage-encoded KeyPackage. */
  readonly keyPackage: Uint8Array;
  readonly initPrivateKey: Uint8Array;
  readonly hpkePrivateKey: Uint8Array;
}

/**
 * Joins a group from an MLSMessage-encoded Welcome that carries the ratchet tree.
 * Throws `INVALID_WELCOME` when the Welcome is not for this key package or does not verify.
 * `config` is ours (credential == signature key) except in the interop tests, whose
 * OpenMLS peers carry other credentials (they pass `vectorClientConfig`). `documentSigner`: the
 * author of the document that carried the Welcome, given only once that document's signature
 * was verified; signatures under that key are then not checked again (src/mls/documentSigner.ts).
 *
 * @example
 * ```ts
 * const mls = await mlsJoin(welcomeBytes, secret, identity, "default")
 * ```
 */
export async function mlsJoin(
  welcomeBytes: Uint8Array,
  secret: MlsKeyPackageSecret,
  identity: MlsIdentity,
  provider: ProviderName,
  config: ClientConfig = clientConfig,
  documentSigner?: Uint8Array,
): Promise<MlsState> {
  const welcome = decodeWelcomeBytes(welcomeBytes);
  const keyPackage = decodeKeyPackageBytes(secret.keyPackage, "key package secret");
  if (!equalBytes(keyPackage.leafNode.signaturePublicKey, identity.publicKey)) {
    throw new ValidationError(ErrorCode.InvalidKeyPackage, "the key package secret belongs to another identity");
  }
  if (welcome.cipherSuite !== keyPackage.cipherSuite) {
    throw new ValidationError(ErrorCode.InvalidWelcome, "Welcome ciphersuite differs from the key package's");
  }
  const suite = await getSuite(keyPackage.cipherSuite, provider);
  const cs = documentSigner === undefined ? suite : withDocumentSignerTrusted(suite, documentSigner);
  const joined = await guard(ErrorCode.InvalidWelcome, "joining from Welcome", () =>
    tsJoinGroup(
      welcome,
      keyPackage,
      { initPrivateKey: secret.initPrivateKey, hpkePrivateKey: secret.hpkePrivateKey, signaturePrivateKey: identity.secretKey },
      emptyPskIndex,
      // its own leaf is its key package's, which it signed: not verified again (src/mls/ownLeaf.ts)
      withOwnLeafTrusted(cs, keyPackage),
      undefined,
      undefined,
      config,
    ),
  );
  assertUniqueLeafKeys(joined, ErrorCode.InvalidWelcome);
  return joined;
}

/**
 * Current MLS epoch.
 *
 * @example
 * ```ts
 * mlsEpochOf(mls) // 3n
 * ```
 */
export function mlsEpochOf(state: MlsState): bigint {
  return state.groupContext.epoch;
}

/**
 * MLS group id.
 *
 * @example
 * ```ts
 * mlsGroupIdOf(mls)
 * ```
 */
export function mlsGroupIdOf(state: MlsState): Uint8Array {
  return state.groupContext.groupId;
}

/**
 * Name of the MLS ciphersuite of the group.
 *
 * @example
 * ```ts
 * mlsCiphersuiteOf(mls) // "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"
 * ```
 */
export function mlsCiphersuiteOf(state: MlsState): CiphersuiteName {
  return state.groupContext.cipherSuite;
}

/**
 * Leaf index of the member whose credential identity is `publicKey`, scanning the ratchet
 * tree (leaves sit at even node indices; ts-mls has no index by credential).
 *
 * @example
 * ```ts
 * const leaf = findLeafByIdentity(mls, ownerPublicKey)
 * ```
 */
export function findLeafByIdentity(state: MlsState, publicKey: Uint8Array): number | undefined {
  const tree = state.ratchetTree;
  for (let i = 0; i < tree.length; i += 2) {
    const identity = basicIdentity(tree[i]);
    if (identity !== undefined && identity.length === publicKey.length && equalBytes(identity, publicKey)) return i / 2;
  }
  return undefined;
}

/**
 * Credential identities (p2panda public keys) of every member, in leaf order.
 *
 * @example
 * ```ts
 * mlsMembers(mls).length // 3
 * ```
 */
export function mlsMembers(state: MlsState): Uint8Array[] {
  const out: Uint8Array[] = [];
  const tree = state.ratchetTree;
  for (let i = 0; i < tree.length; i += 2) {
    const identity = basicIdentity(tree[i]);
    if (identity !== undefined) out.push(identity);
  }
  return out;
}

/**
 * A leaf node's basic credential identity (undefined for a blank node, a parent or another
 * credential); a stored leaf's is read from its bytes, the leaf not decoded (the patch's leafIdentity).
 */
function basicIdentity(node: Node | undefined): Uint8Array | undefined {
  return node?.nodeType === "leaf" ? leafIdentity(node) : undefined;
}

/**
 * True when {@link mlsMembers} of `a` and `b` are the same list, told from their leaves alone: a
 * leaf node object both trees share is not looked into (ts-mls updates immutably, so a commit's
 * untouched leaves are the same objects). False also when the lists might merely be equal (the
 * same members at other leaves): callers only skip work on true.
 *
 * @example
 * ```ts
 * if (!sameMembers(before.mls, after.mls)) summary.members = mlsMembers(after.mls)
 * ```
 */
export function sameMembers(a: MlsState, b: MlsState): boolean {
  const ta = a.ratchetTree;
  const tb = b.ratchetTree;
  for (let i = 0, end = Math.max(ta.length, tb.length); i < end; i += 2) {
    const x = ta[i];
    const y = tb[i];
    if (x === y) continue;
    const ix = basicIdentity(x);
    const iy = basicIdentity(y);
    if (ix === undefined || iy === undefined ? ix !== iy : !equalBytes(ix, iy)) return false;
  }
  return true;
}

/**
 * MLS-Exporter(label, "", length) of the current epoch (RFC 9420 section 8.5).
 *
 * @example
 * ```ts
 * const key = await mlsExport(mls, "default", "long_term_secret0", 16)
 * ```
 */
export async function mlsExport(state: MlsState, provider: ProviderName, label: string, length: number): Promise<Uint8Array> {
  const cs = await getSuite(state.groupContext.cipherSuite, provider);
  return guard(ErrorCode.Internal, "MLS exporter", () =>
    mlsExporter(state.keySchedule.exporterSecret, label, new Uint8Array(0), length, cs),
  );
}

/**
 * True when the state was removed from its group (ts-mls marks it after processing the
 * commit that removed it).
 *
 * @example
 * ```ts
 * if (mlsIsRemoved(next)) status = "removed"
 * ```
 */
export function mlsIsRemoved(state: MlsState): boolean {
  return state.groupActiveState.kind === "removedFromGroup";
}

/**
 * Throws `ValidationError(code)` when two leaves of `state`'s tree share an encryption key or a
 * signature key (RFC 9420 sections 7.3 and 12.2 want both unique; ts-mls 1.6.4 never compares
 * a new leaf's keys with the existing ones). Run on the tree after every commit and join.
 *
 * @example
 * ```ts
 * assertUniqueLeafKeys(result.newState, ErrorCode.InvalidCommit)
 * ```
 */
export function assertUniqueLeafKeys(state: MlsState, code: ErrorCode): void {
  // the patched ts-mls keeps key counts per tree up to date from the previous tree (O(changed
  // nodes)); only a tree with a duplicate is scanned, to name the leaf
  const summary = treeKeySummary(state.ratchetTree);
  if (summary.leafHpkeDuplicates === 0 && summary.signatureDuplicates === 0) return;
  const encryption = new Set<string>();
  const signature = new Set<string>();
  const tree = state.ratchetTree;
  for (let i = 0; i < tree.length; i += 2) {
    const node = tree[i];
    if (node?.nodeType !== "leaf") continue;
    const enc = Buffer.from(node.leaf.hpkePublicKey).toString("base64");
    const sig = Buffer.from(node.leaf.signaturePublicKey).toString("base64");
    if (encryption.has(enc)) throw new ValidationError(code, `leaf ${i / 2} reuses another leaf's encryption key`);
    if (signature.has(sig)) throw new ValidationError(code, `leaf ${i / 2} reuses another leaf's signature key`);
    encryption.add(enc);
    signature.add(sig);
  }
}
