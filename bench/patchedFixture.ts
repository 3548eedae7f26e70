/**
 * Large groups for the bare ts-mls baseline, built with our patched ts-mls 1.6.4. The unpatched
 * library cannot build a 10,000-member group at all (it overflows the call stack writing the
 * commit's 9,999 add proposals; see `bareCommitEncodes`) and needs minutes for a 5,000-member one,
 * none of which is measured. What the bare side is handed is wire data and a ratchet tree, the
 * same bytes and objects either library produces (the patch changes how trees are hashed and
 * copied, not what they hold); the bare members then join with the bare library, which derives
 * its own key schedule and secret tree, and `bareGroup` checks their exporter secrets equal the
 * builder's. Patched states themselves are never handed to the bare library: the patch's lazy
 * secret tree is encoded with sentinel nodes 1.6.4 would read as real ratchets.
 *
 * @module
 */
import {
  createCommit,
  createGroup,
  defaultCapabilities,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  mlsExporter,
  type MLSMessage,
} from "ts-mls";
import type { ClientState } from "ts-mls-bare";
import { randomBytes } from "node:crypto";
import { nodeCryptoProvider } from "../src/mls/crypto/provider.js";
import { SUITE, type KeyPackagePair } from "./mlsHarness.js";

/**
 * Group sizes above this are built with the patched library (at or below it, with the bare one,
 * as every run before this file did: cheap at those sizes).
 */
export const PATCHED_FIXTURES_ABOVE = 1000;

/**
 * A group made by one add commit: the Welcome, the ratchet tree after it, the key packages of
 * leaves 1..n-1, and the epoch's exporter value (label "provider-check").
 *
 * @example
 * ```ts
 * const g: BuiltGroup = await patchedGroup(10_000);
 * ```
 */
export interface BuiltGroup {
  readonly welcome: Uint8Array;
  readonly tree: ClientState["ratchetTree"];
  readonly kps: readonly KeyPackagePair[];
  readonly exporter: Uint8Array;
}

/**
 * Builds a group of `n` members with the patched ts-mls (node provider), in the baseline's
 * ciphersuite, credentials and wire format.
 *
 * @example
 * ```ts
 * const { welcome, tree, kps } = await patchedGroup(10_000);
 * ```
 */
export async function patchedGroup(n: number): Promise<BuiltGroup> {
  const cs = await nodeCryptoProvider.getCiphersuiteImpl(getCiphersuiteFromName(SUITE));
  const keyPackage = () => generateKeyPackage({ credentialType: "basic", identity: new Uint8Array(randomBytes(32)) }, defaultCapabilities(), defaultLifetime, [], cs);
  const creator = await keyPackage();
  const kps: KeyPackagePair[] = [];
  for (let i = 1; i < n; i++) kps.push((await keyPackage()) as KeyPackagePair);
  const owner = await createGroup(new Uint8Array(randomBytes(32)), creator.publicPackage, creator.privatePackage, [], cs);
  const r = await createCommit({ state: owner, cipherSuite: cs }, { extraProposals: kps.map((k) => ({ proposalType: "add", add: { keyPackage: k.publicPackage } })), wireAsPublicMessage: true });
  if (r.welcome === undefined) throw new Error("the add commit made no Welcome");
  const welcome = encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: r.welcome } as MLSMessage);
  const exporter = await mlsExporter(r.newState.keySchedule.exporterSecret, "provider-check", new Uint8Array(), 32, cs);
  return { welcome, tree: r.newState.ratchetTree as ClientState["ratchetTree"], kps, exporter };
}
