/**
 * The sublevels of the engine's LevelDB store (src/engine/store/store.ts) and which of them are
 * sealed at rest. The names are part of the on-disk format.
 *
 * Layout (keys are utf8, ids and public keys lowercase hex, epochs zero-padded decimal):
 * - `meta`      `format` -> engine public key (refuses a database of another identity);
 *               `lastKeyPackage` -> id of the last published key package document
 * - `groups`    `<gid>` -> cold half of the group record (status, owner, ciphersuite, members; written
 *               when one of those changes), `<gid>/hot` -> hot half (chain head, state token, epochs,
 *               nonce reservation; written by every commit and by messages); see groups.ts. A cold half
 *               of formats 1-4 (format 1: every field) stays, its head overridden, until membership changes.
 * - `state`     `<gid>/<part>` -> one part of the incremental group state (src/mls/storage.ts):
 *               `h` head, `m/<epoch>` ratchet-tree manifest, `k/<hash>` content-addressed tree chunk
 *               (since format 7 with its subtree's position hashes),
 *               `l/<epoch>` secret tree, `o/<epoch>/<index>` changed secret-tree node; of older
 *               formats, still read: `n/<hash>` tree node (formats 2-5), `t/<epoch>`, `s/<epoch>`
 * - `docs`      `<docId>` -> signed document bytes (SecretGroup, commits, key packages, deletions)
 * - `commits`   `<gid>/<commitId>` -> {@link CommitRecord} (previous, epoch, pending / applied / superseded / refused)
 * - `next`      format 1 only (a second commit chain): emptied by migrate.ts when the engine opens, never written
 * - `welcomes`  `<gid>/<commitId>` -> key package ref (hex): pending commits that welcome this engine
 * - `keypkgs`   `<refHex>` -> own key package secret record (deleted when consumed by a join)
 * - `sent`      `<sha256(message)>` -> plaintext of an own sender-ratchet message (MLS cannot decrypt
 *               its own messages; the spec asks clients to keep them)
 * - `outbox`    `<seq>-<docId>` -> every document the engine created, until acknowledged (outbox.ts; in
 *               the synced batch of the state change that created it)
 * - `materialise` the materialisation index (src/materialise/store.ts documents its keys), written
 *               in the same batch as the group change that caused it
 * - `ops`       `<opId>` -> `OperationRecord` (store/operations.ts) of an ingested application document (group,
 *               arrival number, decrypted / pending / failed field names); the document itself is in `docs`
 * - `opvalues`  `<opId>/<field>` -> PLAINTEXT: a decrypted field value (the field plaintext encoding,
 *               src/documents/fields.ts), written in the batch that consumed its key; seal at rest
 * - `oplog`     `<gid>/<seq>` -> operation id: a group's operations in arrival order (seq: 16 digits)
 * - `oppending` `<gid>/<seq>` -> `PendingEntry` (store/operations.ts): operations with fields waiting for a commit or
 *               a Welcome (loaded into memory at open for the pending limits, src/engine/pendingOperations.ts)
 *
 * - `meta`      also `keycheck` (storage key check value), `rotation` (an unfinished storage key
 *               rotation), `sealing` (a database in the clear being sealed): src/engine/store/keys.ts
 *
 * Values of the sublevels {@link SUBLEVEL_PROTECTION} marks are sealed (src/engine/store/seal.ts)
 * around their versioned form; own keys live in the keyring file beside LevelDB's (keyring.ts).
 *
 * @module
 */
/**
 * Names of the sublevels. They are part of the on-disk format (the frozen storage fixture
 * holds them): never rename one without a migration.
 *
 * @example `store.get(Sublevel.Groups, gid, "group record")` */
export const Sublevel = {
  Meta: "meta",
  Groups: "groups",
  State: "state",
  Docs: "docs",
  Commits: "commits",
  /** Format 1 only: emptied when the engine opens (src/engine/store/migrate.ts), never written. */
  Next: "next",
  Welcomes: "welcomes",
  KeyPackages: "keypkgs",
  Sent: "sent",
  Outbox: "outbox",
  /** The materialisation index (src/materialise); its values carry their own version byte. */
  Materialise: "materialise",
  /** Records of ingested application documents (operations): src/engine/store/operations.ts. */
  Operations: "ops",
  /** Decrypted field values of operations: plaintext. */
  OperationValues: "opvalues",
  /** A group's operations in arrival order. */
  OperationLog: "oplog",
  /** Operations whose fields wait for a commit or a Welcome. */
  PendingOperations: "oppending",
} as const;
/** One of {@link Sublevel}. @example `const sub: SublevelName = "docs"` */
export type SublevelName = (typeof Sublevel)[keyof typeof Sublevel];

/**
 * How a sublevel's values lie in the files: in the clear, sealed under the storage key, or each
 * sealed under its own key that is destroyed with the value (crypto-shredding; see keyring.ts).
 *
 * @example `Protection.Sealed`
 */
export const Protection = {
  Plain: "plain",
  Sealed: "sealed",
  OwnKey: "own-key",
} as const;
/** One of {@link Protection}. @example `const p: Protection = "sealed"` */
export type Protection = (typeof Protection)[keyof typeof Protection];

/**
 * The one list of what is sealed at rest. Every sublevel must be named (the type says so): a new
 * sublevel of key material or decrypted plaintext is one line here, and get/scan/batch/reader
 * seal and open its values. Plain ones hold only what is public anyway (signed documents the
 * network carries, their ids, chain positions).
 *
 * @example `SUBLEVEL_PROTECTION[Sublevel.State] // "sealed"`
 */
export const SUBLEVEL_PROTECTION: Readonly<Record<SublevelName, Protection>> = {
  /** Engine public key, last key package id, storage key check and rotation records (sealed themselves). */
  meta: Protection.Plain,
  /** Status, owner, members, chain head, state token, epochs and the long-term nonce reservation: sealed for integrity (a nonce reservation changed on disk would hand out used nonces) and membership privacy. */
  groups: Protection.Sealed,
  /** The MLS state: identity signature key, HPKE path keys, key schedule, secret trees, long-term secrets. */
  state: Protection.Sealed,
  /** Signed documents as published. */
  docs: Protection.Plain,
  commits: Protection.Plain,
  next: Protection.Plain,
  /** Key package refs (public). */
  welcomes: Protection.Plain,
  /** Own key packages' private keys (init, encryption, signature): shredded when a join consumes one. */
  keypkgs: Protection.OwnKey,
  /** Plaintexts of own sender-ratchet messages. */
  sent: Protection.Sealed,
  /** Signed documents to publish. */
  outbox: Protection.Plain,
  /** Chain and membership index of public documents. */
  materialise: Protection.Plain,
  /** Operation records: group, arrival number, field names (no values). */
  ops: Protection.Plain,
  /** Decrypted field values of received operations. */
  opvalues: Protection.Sealed,
  /** Arrival order of a group's operations (ids). */
  oplog: Protection.Plain,
  /** Operations waiting for a commit or a Welcome (ids, field names, sizes). */
  oppending: Protection.Plain,
};

/** True when the values of `sub` are sealed (under the storage key or their own). @example `isSealed("state") // true` */
export const isSealed = (sub: SublevelName): boolean => SUBLEVEL_PROTECTION[sub] !== Protection.Plain;
/** Keyring id of the own key of `sub`/`key`. @example `ownKeyId("keypkgs", ref)` */
export const ownKeyId = (sub: string, key: string): string => `${sub}/${key}`;
