/**
 * Rebuilds an MLS state from its stored parts (src/mls/storage.ts documents them): the parts of
 * storage formats 6 and 7 (`m/` manifests, `k/` chunks holding their nodes and, since 7, a complete
 * subtree slot's position hashes, kept for the first commit: src/mls/treeHashes.ts; `l/` secret
 * trees), those of formats 3 to 5 (`k/` chunks naming `n/` node parts) and those of before (`t/`,
 * `s/`), which stay in a store until their epoch leaves the retention window. A missing, corrupt
 * or inconsistent part is a DecodeError, never a different state: content-addressed parts (`k/`,
 * `n/`) must hash to their keys (unless the caller's store authenticated each part under its key:
 * {@link LoadOptions}), and stored leaves are decoded on first use (the patch's
 * `decodeStoredNode`), from bytes that passed that check.
 *
 * A retained past epoch stored in chunks of format 6 or 7 with a compact secret tree (`l/`) has
 * its trees built on first use ({@link pastEpochBuilt}): a commit reads only the current epoch's,
 * and each past epoch's ratchet tree, secret tree and tree-hash array are arrays as long as the
 * tree (16 epochs of 20,000 slots at 10,000 members). At load its manifest is read, its parts are
 * checked present and its references counted; its chunks are checked against their content keys
 * and decoded when it is built (a late message of that epoch, or a staging that finds its entry
 * replaced). Epochs of older formats are built at load, as their `n/` references must be counted.
 *
 * @module
 */
import type { ClientConfig, ClientState, EpochReceiverData, Node, RatchetTree, SecretTree } from "ts-mls";
import { decodeStoredNode as decodeStoredNodeLazily } from "ts-mls/ratchetTree.js";
import type { SecretTreeNode } from "ts-mls/secretTree.js";
import { decodeAll } from "../codec/tls.js";
import { MAX_RATCHET_TREE_NODES, RATCHET_CHUNK_SPAN, STATE_PART_FORMAT } from "../constants.js";
import { DecodeError, ErrorCode } from "../errors.js";
import { clientConfig } from "./config.js";
import { guardSync } from "./errors.js";
import { blobKey, chunkKeyOf, chunkManifestKey, chunkPartKey, contentKey, decodeLazySecretTree, decodeManifest, decodeSecretNode, decodeSecretTree, lazySecretTreeLength, lazyTreeKey, manifestKey, nodePartKey, overridePrefix } from "./stateParts.js";
import { checkChunkFits, chunkKeysOf, decodeChunkManifest, decodeSlotChunk } from "./treeChunks.js";
import type { ChunkKeys, DecodedChunk } from "./treeChunks.js";
import { rememberStoredTreeHashes } from "./treeHashes.js";
import { decodeStrippedState, keepStrippedEntry } from "./headCodec.js";
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
 * The parts of one load: `k/` chunks by their content key (looked up by the keys a manifest
 * names, with no part key made for each: 16 retained epochs name ~500 chunks at 1000 members),
 * every other part by its key. `authenticated`: each part's bytes are known to be the ones stored
 * under its key ({@link LoadOptions}), so a content-addressed part is not hashed again.
 */
interface PartIndex {
  readonly byKey: ReadonlyMap<string, Uint8Array>;
  readonly chunks: ReadonlyMap<string, Uint8Array>;
  readonly authenticated: boolean;
}

/**
 * An epoch's ratchet tree as the chunks holding its nodes (each `[index, node]` entry a node's
 * encoding, or the key of its `n/` part): from its chunked manifest, else from a `t/` part of
 * before (one chunk of its own). Each chunk is decoded once (`shared`), whichever epochs share it.
 * Each chunk key is counted in `chunkRefs`, unless the epoch's keys were counted already.
 */
function treeChunks(
  parts: PartIndex,
  epoch: bigint,
  chunkRefs: Map<string, number> | undefined,
  shared: Map<string, SharedChunk>,
): { length: number; used: SharedChunk[]; chunks: ChunkKeys | undefined; hashes: Array<Uint8Array | undefined> | undefined } {
  const chunked = parts.byKey.get(chunkManifestKey(epoch));
  if (chunked === undefined) {
    const legacy = parts.byKey.get(manifestKey(epoch));
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
      const bytes = checkedPart(parts, parts.chunks.get(key), key, chunkPartKey);
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
    if (chunkRefs !== undefined) addRef(chunkRefs, key);
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
 * signature checks read them too). The bytes are those of the part holding them, checked against
 * its content key or authenticated under it ({@link checkedPart}), so they are a node we encoded,
 * which decodes one-to-one.
 */
function decodeStoredNode(bytes: Uint8Array): Node {
  const node = guardSync(ErrorCode.Decode, "stored ratchet node", () => decodeStoredNodeLazily(bytes));
  if (node === undefined) throw new DecodeError("stored MLS state: bad ratchet node");
  return node;
}

/**
 * A content-addressed part's bytes (a `k/` chunk, an `n/` node: `partKey` names its part),
 * which must hash to its content key `key`: a part that does not is a DecodeError, so a leaf decoded later (above)
 * decodes what was stored, and a part changed in a way that would still decode is not taken for a
 * different state. Parts authenticated under their keys are not hashed again.
 */
function checkedPart(parts: PartIndex, bytes: Uint8Array | undefined, key: string, partKey: (key: string) => string): Uint8Array | undefined {
  if (bytes !== undefined && !parts.authenticated && contentKey(bytes) !== key) throw new DecodeError(`stored MLS state: part ${partKey(key)} does not match its content key`);
  return bytes;
}

/** What the epochs of one load share: chunks and `n/` nodes decoded once, and `n/` reference counts. */
interface Shared {
  readonly chunks: Map<string, SharedChunk>;
  readonly partNodes: Map<string, Node>;
  readonly refs: Map<string, number>;
}

/** An epoch's secret-tree overrides (`o/` parts): node index, part key and bytes, each index checked against the tree's node count. */
function overridesOf(byKey: ReadonlyMap<string, Uint8Array>, epoch: bigint, size: number): Array<readonly [number, string, Uint8Array]> {
  const out: Array<readonly [number, string, Uint8Array]> = [];
  const prefix = overridePrefix(epoch);
  for (const [key, bytes] of byKey) {
    if (!key.startsWith(prefix)) continue;
    const i = Number(key.slice(prefix.length));
    if (!Number.isInteger(i) || i < 0 || i >= size) throw new DecodeError("stored MLS state: secret override out of range");
    out.push([i, key, bytes]);
  }
  return out;
}

/**
 * One epoch's trees from its parts, counting its chunk keys in `chunkRefs` (undefined:
 * counted already) and its `n/` references in `shared.refs`.
 */
function buildEpoch(parts: PartIndex, epoch: bigint, shared: Shared, chunkRefs: Map<string, number> | undefined): EpochMeta {
  const { byKey } = parts;
  const partNode = (key: string): Node => {
    let node = shared.partNodes.get(key);
    if (node === undefined) {
      const bytes = checkedPart(parts, byKey.get(nodePartKey(key)), key, nodePartKey);
      if (bytes === undefined) throw new DecodeError(`stored MLS state: node ${key} missing`);
      shared.partNodes.set(key, (node = decodeStoredNode(bytes)));
    }
    return node;
  };
  const { length, used, chunks, hashes } = treeChunks(parts, epoch, chunkRefs, shared.chunks);
  const ratchetTree: RatchetTree = new Array<Node | undefined>(length).fill(undefined);
  const keys: string[] = [];
  for (const chunk of used) {
    chunk.entries.forEach(([index, ref], i) => {
      if (index >= length) throw new DecodeError("stored MLS state: node index out of range");
      ratchetTree[index] = chunk.nodes[i] ??= typeof ref === "string" ? partNode(ref) : decodeStoredNode(ref);
      if (typeof ref === "string") {
        keys.push(ref);
        addRef(shared.refs, ref);
      }
    });
  }
  if (hashes !== undefined) rememberStoredTreeHashes(ratchetTree, hashes);
  const lazy = byKey.get(lazyTreeKey(epoch));
  const blob = lazy ?? byKey.get(blobKey(epoch));
  if (blob === undefined) throw new DecodeError(`stored MLS state: secret tree of epoch ${epoch} missing`);
  const secretTree = lazy === undefined ? decodeSecretTree(blob) : decodeLazySecretTree(blob);
  const overrides = new Set<number>();
  for (const [i, , bytes] of overridesOf(byKey, epoch, secretTree.length)) {
    secretTree[i] = decodeSecretNode(bytes) as SecretTreeNode;
    overrides.add(i);
  }
  return { ratchetTree, secretTree, nodeKeys: keys, chunks, legacyBlob: lazy === undefined, overrides };
}

/** Past entries whose trees are built on first use, each with whether they were. */
const lazyEntries = new WeakMap<EpochReceiverData, () => boolean>();

/**
 * Whether a past epoch's entry of a loaded state had its trees built: undefined for an entry that
 * was not loaded lazily (built at load, or made in memory).
 *
 * @example
 * ```ts
 * pastEpochBuilt(loaded.mls.historicalReceiverData.get(3n)!) // false until a message of epoch 3
 * ```
 */
export function pastEpochBuilt(entry: EpochReceiverData): boolean | undefined {
  return lazyEntries.get(entry)?.();
}

/**
 * A retained past epoch whose trees are built on first use: its entry (`stripped`'s fields, the
 * trees as getters) and its meta (the same trees through the entry, `source`: the entry, which
 * staging compares first). Undefined when the epoch is not stored in chunks holding their nodes
 * with a compact secret tree (then it is built now). Only this epoch's parts are kept for the build.
 */
function lazyPastEpoch(parts: PartIndex, epoch: bigint, stripped: EpochReceiverData, shared: Shared, chunkRefs: Map<string, number>): { entry: EpochReceiverData; meta: EpochMeta } | undefined {
  const manifest = parts.byKey.get(chunkManifestKey(epoch));
  const blob = parts.byKey.get(lazyTreeKey(epoch));
  if (manifest === undefined || blob === undefined) return undefined;
  const { chunks } = decodeChunkManifest(manifest);
  const byKey = new Map<string, Uint8Array>([
    [chunkManifestKey(epoch), manifest],
    [lazyTreeKey(epoch), blob],
  ]);
  const ownChunks = new Map<string, Uint8Array>();
  const keys = chunkKeysOf(chunks);
  for (const key of keys) {
    const bytes = parts.chunks.get(key);
    if (bytes === undefined) throw new DecodeError(`stored MLS state: tree chunk ${key} missing`);
    if (bytes[0] === STATE_PART_FORMAT) return undefined; // it names `n/` parts, whose references are counted now
    ownChunks.set(key, bytes);
  }
  const overrides = new Set<number>();
  for (const [i, key, bytes] of overridesOf(parts.byKey, epoch, lazySecretTreeLength(blob))) {
    byKey.set(key, bytes);
    overrides.add(i);
  }
  for (const key of keys) addRef(chunkRefs, key);
  const own: PartIndex = { byKey, chunks: ownChunks, authenticated: parts.authenticated };
  let built: EpochMeta | undefined;
  const build = (): EpochMeta => (built ??= buildEpoch(own, epoch, shared, undefined));
  const entry = { ...stripped } as EpochReceiverData;
  Object.defineProperty(entry, "ratchetTree", { get: (): RatchetTree => build().ratchetTree, enumerable: true });
  Object.defineProperty(entry, "secretTree", { get: (): SecretTree => build().secretTree, enumerable: true });
  lazyEntries.set(entry, () => built !== undefined);
  keepStrippedEntry(entry, stripped);
  const meta: EpochMeta = {
    get ratchetTree(): RatchetTree {
      return entry.ratchetTree;
    },
    get secretTree(): SecretTree {
      return entry.secretTree;
    },
    nodeKeys: [],
    chunks,
    legacyBlob: false,
    overrides,
    source: entry,
  };
  return { entry, meta };
}

/** How {@link loadState} reads its parts. */
export interface LoadOptions {
  /** The ts-mls client configuration to attach (default: ours, src/mls/config.ts). */
  readonly config?: ClientConfig;
  /**
   * Each part's bytes are known to be the ones stored under its key: the engine's store seals
   * every state part with its key in the AEAD's associated data (src/engine/store/sealedValue.ts),
   * so a part changed, or moved from another key, does not open there. Its content-addressed
   * parts are then not hashed against their keys again (~0.3 ms of a 1000-member load). Default
   * false: each is checked.
   */
  readonly authenticated?: boolean;
}

/**
 * Rebuilds a state from every stored part of its group (as read from the store).
 *
 * @example
 * ```ts
 * const { extra, mls, meta } = loadState(parts) // or loadState(parts, { config: vectorClientConfig })
 * ```
 */
export function loadState(parts: ReadonlyArray<readonly [string, Uint8Array]>, options: LoadOptions = {}): { extra: Uint8Array; mls: ClientState; meta: PersistMeta } {
  const byKey = new Map<string, Uint8Array>();
  const chunks = new Map<string, Uint8Array>();
  for (const [k, v] of parts) {
    const chunk = chunkKeyOf(k);
    if (chunk === undefined) byKey.set(k, v);
    else chunks.set(chunk, v);
  }
  const index: PartIndex = { byKey, chunks, authenticated: options.authenticated === true };
  const head = byKey.get("h");
  if (head === undefined) throw new DecodeError("stored MLS state: head missing");
  // the ts-mls half as a view: the past entries' bytes kept from it (headCodec.ts) then lie in the head part, which meta.head holds anyway
  const [extra, tsHead] = decodeAll(head, "stored MLS state head", (r) => [r.opaque(), r.opaqueView()] as const);
  const stripped = guardSync(ErrorCode.Decode, "stored MLS state", () => decodeStrippedState(tsHead));
  if (stripped === undefined) throw new DecodeError("stored MLS state: bad head");
  const shared: Shared = { chunks: new Map(), partNodes: new Map(), refs: new Map() };
  const chunkRefs = new Map<string, number>();
  const epochs = new Map<bigint, EpochMeta>();
  const current = buildEpoch(index, stripped.groupContext.epoch, shared, chunkRefs);
  epochs.set(stripped.groupContext.epoch, current);
  const hist = new Map<bigint, EpochReceiverData>();
  for (const [epoch, data] of stripped.historicalReceiverData) {
    const lazy = lazyPastEpoch(index, epoch, data, shared, chunkRefs);
    if (lazy !== undefined) {
      epochs.set(epoch, lazy.meta);
      hist.set(epoch, lazy.entry);
      continue;
    }
    const m = buildEpoch(index, epoch, shared, chunkRefs);
    epochs.set(epoch, m);
    hist.set(epoch, { ...data, ratchetTree: m.ratchetTree, secretTree: m.secretTree });
  }
  // the client configuration is code, not data: attach it again (see src/mls/config.ts)
  const mls: ClientState = { ...stripped, ratchetTree: current.ratchetTree, secretTree: current.secretTree, historicalReceiverData: hist, clientConfig: options.config ?? clientConfig };
  return { extra, mls, meta: { head, epochs, refs: shared.refs, chunkRefs } };
}
