/**
 * Incremental persistence of a ts-mls state, so a commit at 1000 members does not re-encode
 * (about 2 MB, 0.45 s) or ship the whole state. A state is stored as parts, keyed relative to
 * its group:
 * - `h`                 head: the caller's wrapper bytes plus the ts-mls state with every tree
 *                       emptied (group context, key schedule, private path, past epochs' small
 *                       secrets). Rewritten only when its bytes change.
 * - `t/<epoch>`         per epoch (current and each retained past one): ratchet-tree length, the
 *                       content key of each non-blank node, and the secret-tree length.
 *                       Written once per epoch (a ratchet tree never changes inside an epoch).
 * - `n/<key>`           one ratchet-tree node, content-addressed (key = SHA-256 of its encoding,
 *                       16 bytes hex), shared by every epoch that holds it; deleted as soon as no
 *                       retained epoch references it.
 * - `s/<epoch>`         the epoch's whole secret tree, written once when the epoch begins.
 * - `o/<epoch>/<index>` a secret-tree node that changed since (a decrypt or an own message
 *                       changes one); the blob is rewritten and the overrides dropped once they
 *                       pass a quarter of the tree. Everything of an epoch is deleted when it
 *                       leaves the retention window, so used secrets do not linger on disk.
 * Changes are found by object identity: ts-mls updates immutably, so an unchanged tree or node
 * is the same object as the one last persisted ({@link PersistMeta} remembers them). The parts
 * are encoded by stateParts.ts.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { encodeGroupState as encodeTsState, decodeGroupState as decodeTsState } from "ts-mls";
import type { ClientConfig, ClientState, EpochReceiverData, RatchetTree, SecretTree, Node } from "ts-mls";
import { encodeNode, decodeNode } from "ts-mls/ratchetTree.js";
import type { SecretTreeNode } from "ts-mls/secretTree.js";
import { Writer, decodeAll } from "../codec/tls.js";
import { MAX_RATCHET_TREE_NODES } from "../constants.js";
import { DecodeError, ErrorCode } from "../errors.js";
import { equalBytes } from "../bytes.js";
import { clientConfig } from "./config.js";
import { guardSync } from "./errors.js";
import {
  blobKey,
  decodeManifest,
  decodeSecretNode,
  decodeSecretTree,
  encodeManifest,
  encodeSecretNode,
  encodeSecretTree,
  manifestKey,
  overrideKey,
  overridePrefix,
} from "./stateParts.js";

/** Content keys of ratchet-tree nodes already encoded, by object identity (nodes are immutable). */
const nodeKeys = new WeakMap<object, string>();

interface EpochMeta {
  readonly ratchetTree: RatchetTree;
  readonly secretTree: SecretTree;
  readonly nodeKeys: readonly string[];
  /** Indices that have an `o/` override part. */
  readonly overrides: ReadonlySet<number>;
}

/**
 * What was persisted last for one state (kept beside the decoded state in the worker).
 *
 * @example
 * ```ts
 * const { parts, meta } = stageState(extra, mls, previousMeta)
 * ```
 */
export interface PersistMeta {
  readonly head: Uint8Array;
  readonly epochs: ReadonlyMap<bigint, EpochMeta>;
  readonly refs: ReadonlySet<string>;
}

/** One part to write (`value`) or delete (`null`), keyed relative to the group. @example `["h", headBytes]` or `["o/00000000000000000003/00000001", null]` */
export type StatePart = readonly [key: string, value: Uint8Array | null];

function keyOfNode(node: Node): { key: string; bytes?: Uint8Array } {
  const known = nodeKeys.get(node);
  if (known !== undefined) return { key: known };
  const bytes = encodeNode(node);
  const key = createHash("sha256").update(bytes).digest("hex").slice(0, 32);
  nodeKeys.set(node, key);
  return { key, bytes };
}

function epochsOf(mls: ClientState): Array<[bigint, RatchetTree, SecretTree]> {
  const out: Array<[bigint, RatchetTree, SecretTree]> = [[mls.groupContext.epoch, mls.ratchetTree, mls.secretTree]];
  for (const [epoch, data] of mls.historicalReceiverData) out.push([epoch, data.ratchetTree, data.secretTree]);
  return out;
}

// ts-mls refuses to decode an empty ratchet tree, so a stripped tree keeps one non-blank node.
function stubTree(tree: RatchetTree): RatchetTree {
  const node = tree.find((n) => n !== undefined);
  return node === undefined ? [] : [node];
}

function stripTrees(mls: ClientState): ClientState {
  const hist = new Map<bigint, EpochReceiverData>();
  for (const [epoch, data] of mls.historicalReceiverData) hist.set(epoch, { ...data, ratchetTree: stubTree(data.ratchetTree), secretTree: [] });
  return { ...mls, ratchetTree: stubTree(mls.ratchetTree), secretTree: [], historicalReceiverData: hist };
}

/**
 * The caller's `extra` bytes of a stored state head (the `h` part), read without decoding the
 * MLS state: the head is `opaque extra<V>; opaque mls_head<V>`. Throws only DecodeError.
 *
 * @example
 * ```ts
 * const extra = readStateExtra(headBytes)
 * ```
 */
export function readStateExtra(head: Uint8Array): Uint8Array {
  return decodeAll(head, "stored MLS state head", (r) => {
    const extra = r.opaque();
    r.raw(r.varint()); // the MLS part, skipped without a copy
    return extra;
  });
}

/**
 * Computes the parts to write and delete so the store holds `mls` (plus `extra`, the caller's
 * wrapper bytes), given what was persisted last (`previous`, undefined for a fresh store).
 *
 * @example
 * ```ts
 * const { parts, meta } = stageState(wrapperBytes, mlsState, undefined) // every part of a new group
 * ```
 */
export function stageState(extra: Uint8Array, mls: ClientState, previous: PersistMeta | undefined): { parts: StatePart[]; meta: PersistMeta } {
  return guardSync(ErrorCode.Internal, "staging MLS state", () => {
    const parts: StatePart[] = [];
    const epochs = new Map<bigint, EpochMeta>();
    const refs = new Set<string>();
    const prevRefs = previous?.refs ?? new Set<string>();
    for (const [epoch, ratchetTree, secretTree] of epochsOf(mls)) {
      const old = previous?.epochs.get(epoch);
      let keys: readonly string[];
      if (old !== undefined && old.ratchetTree === ratchetTree) {
        keys = old.nodeKeys;
        for (const k of keys) refs.add(k);
      } else {
        const list: string[] = [];
        for (const node of ratchetTree) {
          if (node === undefined) continue;
          let { key, bytes } = keyOfNode(node);
          list.push(key);
          if (!prevRefs.has(key) && !refs.has(key)) parts.push([`n/${key}`, bytes ?? encodeNode(node)]);
          refs.add(key);
        }
        keys = list;
        parts.push([manifestKey(epoch), encodeManifest(ratchetTree, keys)]);
      }
      let overrides: ReadonlySet<number> = old?.overrides ?? new Set<number>();
      if (old === undefined || old.secretTree.length !== secretTree.length) {
        for (const i of overrides) parts.push([overrideKey(epoch, i), null]);
        overrides = new Set<number>();
        parts.push([blobKey(epoch), encodeSecretTree(secretTree)]);
      } else if (old.secretTree !== secretTree) {
        const changed = new Set(overrides);
        for (let i = 0; i < secretTree.length; i++) if (old.secretTree[i] !== secretTree[i]) changed.add(i);
        if (changed.size * 4 > secretTree.length) {
          // compaction: one blob again instead of many overrides
          for (const i of overrides) parts.push([overrideKey(epoch, i), null]);
          overrides = new Set<number>();
          parts.push([blobKey(epoch), encodeSecretTree(secretTree)]);
        } else {
          for (let i = 0; i < secretTree.length; i++) {
            if (old.secretTree[i] !== secretTree[i]) parts.push([overrideKey(epoch, i), encodeSecretNode(secretTree[i] as SecretTreeNode)]);
          }
          overrides = changed;
        }
      }
      epochs.set(epoch, { ratchetTree, secretTree, nodeKeys: keys, overrides });
    }
    for (const [epoch, old] of previous?.epochs ?? []) {
      if (epochs.has(epoch)) continue;
      parts.push([manifestKey(epoch), null], [blobKey(epoch), null]);
      for (const i of old.overrides) parts.push([overrideKey(epoch, i), null]);
    }
    for (const k of prevRefs) if (!refs.has(k)) parts.push([`n/${k}`, null]);
    const head = new Writer(4096).opaque(extra).opaque(encodeTsState(stripTrees(mls))).finish();
    if (previous === undefined || !equalBytes(previous.head, head)) parts.push(["h", head]);
    return { parts, meta: { head, epochs, refs } };
  });
}

/**
 * Rebuilds a state from every stored part of its group (as read from the store).
 *
 * @example
 * ```ts
 * const { extra, mls, meta } = loadState(parts) // or loadState(parts, vectorClientConfig)
 * ```
 */
export function loadState(
  parts: ReadonlyArray<readonly [string, Uint8Array]>,
  config: ClientConfig = clientConfig,
): { extra: Uint8Array; mls: ClientState; meta: PersistMeta } {
  const byKey = new Map<string, Uint8Array>(parts.map(([k, v]) => [k, v]));
  const head = byKey.get("h");
  if (head === undefined) throw new DecodeError("stored MLS state: head missing");
  const [extra, tsHead] = decodeAll(head, "stored MLS state head", (r) => [r.opaque(), r.opaque()] as const);
  const decoded = guardSync(ErrorCode.Decode, "stored MLS state", () => decodeTsState(tsHead, 0));
  if (decoded === undefined || decoded[1] !== tsHead.length) throw new DecodeError("stored MLS state: bad head");
  const stripped = decoded[0];
  const nodes = new Map<string, Node>();
  const epochs = new Map<bigint, EpochMeta>();
  const refs = new Set<string>();
  const rebuild = (epoch: bigint): EpochMeta => {
    const manifest = byKey.get(manifestKey(epoch));
    if (manifest === undefined) throw new DecodeError(`stored MLS state: epoch ${epoch} missing`);
    const { length, entries } = decodeManifest(manifest);
    if (length > MAX_RATCHET_TREE_NODES) throw new DecodeError(`stored MLS state: ratchet tree of ${length} nodes (at most ${MAX_RATCHET_TREE_NODES})`);
    const ratchetTree: RatchetTree = new Array<Node | undefined>(length).fill(undefined);
    const keys: string[] = [];
    for (const [index, key] of entries) {
      let node = nodes.get(key);
      if (node === undefined) {
        const bytes = byKey.get(`n/${key}`);
        if (bytes === undefined) throw new DecodeError(`stored MLS state: node ${key} missing`);
        const d = guardSync(ErrorCode.Decode, "stored ratchet node", () => decodeNode(bytes, 0));
        if (d === undefined) throw new DecodeError("stored MLS state: bad ratchet node");
        node = d[0];
        nodes.set(key, node);
        nodeKeys.set(node, key);
      }
      if (index >= length) throw new DecodeError("stored MLS state: node index out of range");
      ratchetTree[index] = node;
      keys.push(key);
      refs.add(key);
    }
    const blob = byKey.get(blobKey(epoch));
    if (blob === undefined) throw new DecodeError(`stored MLS state: secret tree of epoch ${epoch} missing`);
    const secretTree = decodeSecretTree(blob);
    const overrides = new Set<number>();
    const prefix = overridePrefix(epoch);
    for (const [key, bytes] of byKey) {
      if (!key.startsWith(prefix)) continue;
      const i = Number(key.slice(prefix.length));
      if (!Number.isInteger(i) || i < 0 || i >= secretTree.length) throw new DecodeError("stored MLS state: secret override out of range");
      secretTree[i] = decodeSecretNode(bytes);
      overrides.add(i);
    }
    const meta = { ratchetTree, secretTree, nodeKeys: keys, overrides };
    epochs.set(epoch, meta);
    return meta;
  };
  const current = rebuild(stripped.groupContext.epoch);
  const hist = new Map<bigint, EpochReceiverData>();
  for (const [epoch, data] of stripped.historicalReceiverData) {
    const m = rebuild(epoch);
    hist.set(epoch, { ...data, ratchetTree: m.ratchetTree, secretTree: m.secretTree });
  }
  // the client configuration is code, not data: attach it again (see src/mls/config.ts)
  const mls: ClientState = { ...stripped, ratchetTree: current.ratchetTree, secretTree: current.secretTree, historicalReceiverData: hist, clientConfig: config };
  return { extra, mls, meta: { head, epochs, refs } };
}
