/**
 * Rebuilds an MLS state from its stored parts (src/mls/storage.ts documents them): the parts of
 * storage formats 6 and 7 (`m/` manifests, `k/` chunks holding their nodes and, since 7, a complete
 * subtree slot's position hashes, kept for the first commit: src/mls/treeHashes.ts; `l/` secret
 * trees), those of
 * formats 3 to 5 (`k/` chunks naming `n/` node parts) and those of before (`t/`, `s/`), which stay
 * in a store until their epoch leaves the retention window. A missing, corrupt or
 * inconsistent part is a DecodeError, never a different state: content-addressed parts (`k/`,
 * `n/`) must hash to their keys, and stored leaves are decoded on first use (the patch's
 * `decodeStoredNode`), from bytes that passed that check.
 *
 * @module
 */
import { decodeGroupState as decodeTsState } from "ts-mls";
import type { ClientConfig, ClientState, EpochReceiverData, Node, RatchetTree } from "ts-mls";
import { decodeStoredNode as decodeStoredNodeLazily } from "ts-mls/ratchetTree.js";
import type { SecretTreeNode } from "ts-mls/secretTree.js";
import { decodeAll } from "../codec/tls.js";
import { MAX_RATCHET_TREE_NODES, RATCHET_CHUNK_SPAN } from "../constants.js";
import { DecodeError, ErrorCode } from "../errors.js";
import { clientConfig } from "./config.js";
import { guardSync } from "./errors.js";
import { blobKey, chunkManifestKey, chunkPartKey, contentKey, decodeLazySecretTree, decodeManifest, decodeSecretNode, decodeSecretTree, lazyTreeKey, manifestKey, overridePrefix } from "./stateParts.js";
import { checkChunkFits, decodeChunkManifest, decodeSlotChunk } from "./treeChunks.js";
import type { ChunkKeys, DecodedChunk } from "./treeChunks.js";
import { rememberStoredTreeHashes } from "./treeHashes.js";
import { addRef } from "./storageMeta.js";
import type { EpochMeta, PersistMeta } from "./storageMeta.js";

/**
 * A decoded chunk as the epochs holding it share it: its content key checked and its bytes
 * decoded once, whatever the tree lengths of those epochs (a remove of the last leaf shortens the
 * tree, so each retained epoch can have its own), and each node decoded once, on first use.
 */
interface SharedChunk extends DecodedChunk {
  readonly nodes: Array<Node | undefined>;
}

/**
 * An epoch's ratchet tree as the chunks holding its nodes (each `[index, node]` entry a node's
 * encoding, or the key of its `n/` part): from its chunked manifest, else from a `t/` part of
 * before (one chunk of its own). Each chunk is decoded once (`shared`), whichever epochs share it.
 */
function treeChunks(
  byKey: ReadonlyMap<string, Uint8Array>,
  epoch: bigint,
  chunkRefs: Map<string, number>,
  shared: Map<string, SharedChunk>,
): { length: number; used: SharedChunk[]; chunks: ChunkKeys | undefined; hashes: Array<Uint8Array | undefined> | undefined } {
  const chunked = byKey.get(chunkManifestKey(epoch));
  if (chunked === undefined) {
    const legacy = byKey.get(manifestKey(epoch));
    if (legacy === undefined) throw new DecodeError(`stored MLS state: epoch ${epoch} missing`);
    const { length, entries } = decodeManifest(legacy);
    if (length > MAX_RATCHET_TREE_NODES) throw new DecodeError(`stored MLS state: ratchet tree of ${length} nodes (at most ${MAX_RATCHET_TREE_NODES})`);
    return { length, used: [{ entries, hashes: undefined, nodes: new Array<Node | undefined>(entries.length) }], chunks: undefined, hashes: undefined };
  }
  const { length, chunks } = decodeChunkManifest(chunked);
  const used: SharedChunk[] = [];
  let hashes: Array<Uint8Array | undefined> | undefined;
  const read = (key: string | undefined, slot: number | "spine"): void => {
    if (key === undefined) return;
    const memo = `${key}/${slot}`;
    let chunk = shared.get(memo);
    if (chunk === undefined) {
      const bytes = checkedPart(byKey, chunkPartKey(key), key);
      if (bytes === undefined) throw new DecodeError(`stored MLS state: tree chunk ${key} missing`);
      const decoded = decodeSlotChunk(bytes, slot);
      chunk = { ...decoded, nodes: new Array<Node | undefined>(decoded.entries.length) };
      shared.set(memo, chunk);
    }
    checkChunkFits(chunk, slot, length);
    used.push(chunk);
    // a hashed chunk is a complete subtree slot's (checkChunkFits): its positions' hashes
    if (chunk.hashes !== undefined && slot !== "spine") {
      const all = (hashes ??= new Array<Uint8Array | undefined>(length).fill(undefined));
      const first = slot * RATCHET_CHUNK_SPAN;
      chunk.hashes.forEach((hash, i) => (all[first + i] = hash));
    }
    addRef(chunkRefs, key);
  };
  chunks.subtrees.forEach((key, slot) => read(key, slot));
  read(chunks.spine, "spine");
  return { length, used, chunks, hashes };
}

/**
 * One stored ratchet-tree node, with the patch's stored-node decoder: a leaf is decoded on first
 * use of its LeafNode (its keys and credential are read from its bytes: a reloaded state's commit
 * at 1000 members decodes a handful of leaves, not 1000), a parent now. Either keeps its bytes (a
 * view into its chunk, which staging reuses: storageMeta.ts `bytesOfNode`; a leaf's tree hash and
 * signature checks read them too). The bytes passed the content-key check of the part holding
 * them ({@link checkedPart}), so they are a node we encoded, which decodes one-to-one.
 */
function decodeStoredNode(bytes: Uint8Array): Node {
  const node = guardSync(ErrorCode.Decode, "stored ratchet node", () => decodeStoredNodeLazily(bytes));
  if (node === undefined) throw new DecodeError("stored MLS state: bad ratchet node");
  return node;
}

/**
 * A content-addressed part (a `k/` chunk, an `n/` node) whose bytes hash to its key: a part that
 * does not is a DecodeError, so a leaf decoded later (above) decodes what was stored, and a part
 * changed in a way that would still decode is not taken for a different state.
 */
function checkedPart(byKey: ReadonlyMap<string, Uint8Array>, part: string, key: string): Uint8Array | undefined {
  const bytes = byKey.get(part);
  if (bytes !== undefined && contentKey(bytes) !== key) throw new DecodeError(`stored MLS state: part ${part} does not match its content key`);
  return bytes;
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
  // nodes of `n/` parts by key, shared by the chunks and epochs naming them (inline nodes: their chunk's `nodes`)
  const partNodes = new Map<string, Node>();
  const sharedChunks = new Map<string, SharedChunk>();
  const epochs = new Map<bigint, EpochMeta>();
  const refs = new Map<string, number>();
  const chunkRefs = new Map<string, number>();
  const partNode = (key: string): Node => {
    let node = partNodes.get(key);
    if (node === undefined) {
      const bytes = checkedPart(byKey, `n/${key}`, key);
      if (bytes === undefined) throw new DecodeError(`stored MLS state: node ${key} missing`);
      partNodes.set(key, (node = decodeStoredNode(bytes)));
    }
    return node;
  };
  const rebuild = (epoch: bigint): EpochMeta => {
    const { length, used, chunks, hashes } = treeChunks(byKey, epoch, chunkRefs, sharedChunks);
    const ratchetTree: RatchetTree = new Array<Node | undefined>(length).fill(undefined);
    const keys: string[] = [];
    for (const chunk of used) {
      chunk.entries.forEach(([index, ref], i) => {
        if (index >= length) throw new DecodeError("stored MLS state: node index out of range");
        ratchetTree[index] = chunk.nodes[i] ??= typeof ref === "string" ? partNode(ref) : decodeStoredNode(ref);
        if (typeof ref === "string") {
          keys.push(ref);
          addRef(refs, ref);
        }
      });
    }
    if (hashes !== undefined) rememberStoredTreeHashes(ratchetTree, hashes);
    const lazy = byKey.get(lazyTreeKey(epoch));
    const blob = lazy ?? byKey.get(blobKey(epoch));
    if (blob === undefined) throw new DecodeError(`stored MLS state: secret tree of epoch ${epoch} missing`);
    const secretTree = lazy === undefined ? decodeSecretTree(blob) : decodeLazySecretTree(blob);
    const overrides = new Set<number>();
    const prefix = overridePrefix(epoch);
    for (const [key, bytes] of byKey) {
      if (!key.startsWith(prefix)) continue;
      const i = Number(key.slice(prefix.length));
      if (!Number.isInteger(i) || i < 0 || i >= secretTree.length) throw new DecodeError("stored MLS state: secret override out of range");
      secretTree[i] = decodeSecretNode(bytes) as SecretTreeNode;
      overrides.add(i);
    }
    const meta: EpochMeta = { ratchetTree, secretTree, nodeKeys: keys, chunks, legacyBlob: lazy === undefined, overrides };
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
  return { extra, mls, meta: { head, epochs, refs, chunkRefs } };
}
