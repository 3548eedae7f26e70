/**
 * Our side of the differential test: members driven through our MLS adapter (src/mls, the
 * functions the library calls for every MLS step), in groups that also hold core-crypto
 * (OpenMLS) clients.
 *
 * Those clients' basic credentials are Wire client ids (`<uuid>:<device>@<domain>`) with
 * keys core-crypto generates, which our authentication service (credential identity ==
 * Ed25519 signature key) rightly refuses; so our members here carry `vectorClientConfig`,
 * which accepts any credential, and the library layer (which adds only p2panda key packages)
 * is not used. Our members come in two kinds: `p2panda` (credential = Ed25519 key, as the
 * library makes them) and `wire` (a Wire client id credential over the same Ed25519 key,
 * made through ts-mls here), because core-crypto only decrypts application messages of
 * senders whose credential parses as a Wire client id.
 *
 * @module
 */
import { defaultCapabilities, generateKeyPackageWithKey } from "ts-mls";
import type { ClientState } from "ts-mls";
import { encodeMlsMessageBytes } from "../src/mls/codec.js";
import { mlsSeal, mlsOpen } from "../src/mls/application.js";
import { mlsApplyCommit, mlsCommit } from "../src/mls/commit.js";
import type { MlsCommitChanges } from "../src/mls/commit.js";
import { vectorClientConfig } from "../src/mls/config.js";
import { findLeafByIdentity, mlsCreateGroup, mlsEpochOf, mlsExport, mlsJoin } from "../src/mls/group.js";
import type { MlsState } from "../src/mls/group.js";
import { generateMlsKeyPackage } from "../src/mls/keyPackage.js";
import type { GeneratedKeyPackage } from "../src/mls/keyPackage.js";
import { getSuite } from "../src/mls/suite.js";
import { identityFromSecretKey } from "../src/identity.js";
import type { Identity } from "../src/identity.js";
import assert from "node:assert/strict";
import type { CcMember, SharedSuite } from "./corecrypto-support.js";

const PROVIDER = "node";

/** Key package lifetime inside OpenMLS's accepted range. */
function lifetime(): { notBefore: bigint; notAfter: bigint } {
  const now = BigInt(Math.floor(Date.now() / 1000));
  return { notBefore: now - 3600n, notAfter: now + 7n * 24n * 3600n };
}

/** One of our members: a ts-mls state driven through src/mls. */
export class TsMember {
  readonly kind = "ts" as const;
  mls: MlsState | undefined;
  private pending: GeneratedKeyPackage | undefined;

  /** `wireId` set: the credential is that Wire client id (bytes), else the Ed25519 key. */
  constructor(
    readonly identity: Identity,
    readonly suite: SharedSuite,
    readonly wireId?: Uint8Array,
  ) {}

  static fromSeed(r: { bytes(n: number): Uint8Array }, suite: SharedSuite, wireId?: Uint8Array): TsMember {
    return new TsMember(identityFromSecretKey(r.bytes(32)), suite, wireId);
  }

  /** The credential identity of this member's leaf. */
  get identityBytes(): Uint8Array {
    return this.wireId ?? this.identity.publicKey;
  }

  get state(): MlsState {
    if (this.mls === undefined) throw new Error("not in a group");
    return this.mls;
  }

  /** Creates the group (epoch 0) with this member alone. */
  async createGroup(groupId: Uint8Array): Promise<void> {
    if (this.wireId !== undefined) throw new Error("only p2panda members create groups here");
    this.mls = permissive(await mlsCreateGroup(groupId, this.identity, this.suite, PROVIDER));
  }

  /** A fresh MLSMessage-encoded key package (its private keys kept for {@link join}). */
  async keyPackage(): Promise<Uint8Array> {
    if (this.wireId === undefined) {
      this.pending = await generateMlsKeyPackage(this.identity, this.suite, PROVIDER, lifetime());
    } else {
      const cs = await getSuite(this.suite, PROVIDER);
      const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
        { credentialType: "basic", identity: this.wireId },
        defaultCapabilities(),
        lifetime(),
        [],
        { signKey: this.identity.secretKey, publicKey: this.identity.publicKey },
        cs,
      );
      this.pending = {
        keyPackage: encodeMlsMessageBytes({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage }),
        initPrivateKey: privatePackage.initPrivateKey,
        hpkePrivateKey: privatePackage.hpkePrivateKey,
      };
    }
    return this.pending.keyPackage;
  }

  /** Joins from an MLSMessage-encoded Welcome through our adapter's `mlsJoin`. */
  async join(welcome: Uint8Array): Promise<void> {
    if (this.pending === undefined) throw new Error("no key package");
    this.mls = await mlsJoin(welcome, this.pending, this.identity, PROVIDER, vectorClientConfig);
    this.pending = undefined;
  }

  /** Applies a commit sent by the member whose credential identity is `committer`; false when it removed us. */
  async applyCommit(commit: Uint8Array, committer: Uint8Array): Promise<boolean> {
    const leaf = findLeafByIdentity(this.state, committer);
    if (leaf === undefined) throw new Error("committer is not in our tree");
    const r = await mlsApplyCommit(this.state, PROVIDER, commit, leaf);
    if (r.removed) return false;
    this.mls = r.state;
    return true;
  }

  /** Commits through our adapter; removals name members by credential identity. */
  async commit(changes: { add?: Uint8Array[]; remove?: Uint8Array[] }): Promise<{ commit: Uint8Array; welcome?: Uint8Array }> {
    const remove = (changes.remove ?? []).map((id) => {
      const leaf = findLeafByIdentity(this.state, id);
      if (leaf === undefined) throw new Error("removing a non-member");
      return leaf;
    });
    const c: MlsCommitChanges = { add: changes.add ?? [], remove };
    const r = await mlsCommit(this.state, PROVIDER, c);
    this.mls = r.state;
    return r.welcome === undefined ? { commit: r.commit } : { commit: r.commit, welcome: r.welcome };
  }

  async encrypt(plaintext: Uint8Array): Promise<Uint8Array> {
    const r = await mlsSeal(this.state, PROVIDER, plaintext, new Uint8Array(0));
    this.mls = r.state;
    return r.message;
  }

  async decrypt(message: Uint8Array): Promise<Uint8Array> {
    const r = await mlsOpen(this.state, PROVIDER, message, new Uint8Array(0));
    this.mls = r.state;
    return r.plaintext;
  }

  async epoch(): Promise<bigint> {
    return mlsEpochOf(this.state);
  }

  /** Our adapter's MLS-Exporter(label, "", length). */
  async export(label: string, length: number): Promise<Uint8Array> {
    return mlsExport(this.state, PROVIDER, label, length);
  }

  /** The epoch's exporter_secret (input of the test's own RFC 9420 exporter). */
  get exporterSecret(): Uint8Array {
    return (this.state as ClientState).keySchedule.exporterSecret;
  }

  get leaf(): number {
    return this.state.privatePath.leafIndex;
  }
}

/** A member of either implementation. */
export type Member = TsMember | CcMember;

/** Credential identity of a member of either implementation. @example `identityOf(m)` */
export function identityOf(m: Member): Uint8Array {
  return m.kind === "cc" ? m.identity : m.identityBytes;
}

/** Everyone in `members` applies `commit` from `committer`; returns those still in the group. */
export async function applyAll(members: Member[], committer: Member, commit: Uint8Array): Promise<Member[]> {
  const by = identityOf(committer);
  const stay: Member[] = [committer];
  for (const m of members) {
    if (m === committer) continue;
    const active = m.kind === "cc" ? await m.applyCommit(commit) : await m.applyCommit(commit, by);
    if (active) stay.push(m);
  }
  return stay;
}

/** Every joiner joins from the Welcome. @example `await joinAll(added, welcome)` */
export async function joinAll(joiners: Member[], welcome: Uint8Array): Promise<void> {
  for (const j of joiners) await j.join(welcome);
}

/** MLS-Exporter("exporter", "", 32) of a member of either implementation. */
async function exporterOf(m: Member): Promise<Uint8Array> {
  return m.kind === "cc" ? m.exporter(32) : m.export("exporter", 32);
}

/** After an epoch: all members at `epoch`, one exporter value across both implementations. */
export async function assertAgree(members: Member[], epoch: bigint, where: string): Promise<void> {
  let first: string | undefined;
  for (const m of members) {
    assert.equal(await m.epoch(), epoch, `${where}: ${m.kind} member epoch`);
    const value = hex(await exporterOf(m));
    first ??= value;
    assert.equal(value, first, `${where}: ${m.kind} member exporter differs`);
  }
  assert.ok(members.some((m) => m.kind === "cc") && members.some((m) => m.kind === "ts"), `${where}: both implementations present`);
}

/** Our state with the any-credential configuration (OpenMLS peers carry Wire credentials). */
export function permissive(state: MlsState): MlsState {
  return { ...state, clientConfig: vectorClientConfig };
}

/** Hex, for assertion messages. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}
