/**
 * An added key package's two signature checks (RFC 9420 10.1: its LeafNodeTBS and KeyPackageTBS
 * signatures), started from the package's received bytes before ts-mls validates the commit's
 * Add proposals; ts-mls's node provider then takes their answers (src/mls/crypto/preverified.ts).
 *
 * Why from the bytes: ts-mls words each signed content by encoding the decoded package again
 * (~150 us a package here, ~150 ms of an owner's worker at 999 members when done twice); the
 * received encoding is the same bytes (its decoders refuse non-minimal lengths and each field
 * decodes one-to-one), so the TBS are slices of it. Should a slice ever differ from what ts-mls
 * asks for, the provider does not hand the answer out (it compares key, message and signature in
 * full) and verifies itself: a wrong slice costs time, never a wrong answer.
 *
 * @module
 */
import type { KeyPackage } from "ts-mls";
import { Reader, Writer } from "../codec/tls.js";
import { startEd25519Verify } from "./crypto/signature.js";
import type { PreverifyScope } from "./crypto/preverified.js";
import { isMlsCiphersuiteName, usesEd25519 } from "./suite.js";

const LEAF_NODE_TBS = new TextEncoder().encode("MLS 1.0 LeafNodeTBS");
const KEY_PACKAGE_TBS = new TextEncoder().encode("MLS 1.0 KeyPackageTBS");
/** LeafNodeSource key_package (RFC 9420 7.2). */
const SOURCE_KEY_PACKAGE = 1;

/** SignContent (RFC 9420 5.1.2): the label and the content, each `opaque <V>`. */
const signContent = (label: Uint8Array, content: Uint8Array): Uint8Array => new Writer(label.length + content.length + 8).opaque(label).opaque(content).finish();

/**
 * The LeafNodeTBS and KeyPackageTBS of an MLSMessage-encoded key package, as views into it;
 * undefined when its layout is not the one read here (then nothing is started).
 */
function signedContents(bytes: Uint8Array): { readonly leaf: Uint8Array; readonly keyPackage: Uint8Array } | undefined {
  const r = new Reader(bytes, "key package");
  const at = (): number => bytes.length - r.remaining;
  r.raw(4); // MLSMessage version, wire format
  const kpStart = at();
  r.raw(4); // version, cipher_suite
  r.opaqueView(); // init_key
  const leafStart = at();
  r.opaqueView(); // encryption_key
  r.opaqueView(); // signature_key
  if (r.u8() !== 0 || r.u8() !== 1) return undefined; // credential_type basic
  r.opaqueView(); // identity
  for (let i = 0; i < 5; i++) r.opaqueView(); // capabilities: versions, cipher_suites, extensions, proposals, credentials
  if (r.u8() !== SOURCE_KEY_PACKAGE) return undefined;
  r.u64(); // lifetime
  r.u64();
  r.opaqueView(); // leaf extensions
  const leafEnd = at();
  r.opaqueView(); // leaf signature
  r.opaqueView(); // key package extensions
  const kpEnd = at();
  return { leaf: bytes.subarray(leafStart, leafEnd), keyPackage: bytes.subarray(kpStart, kpEnd) };
}

/**
 * Starts `kp`'s leaf and package signature checks (decoded from `bytes`) and registers them in
 * `scope`. An owner's worker calls this as it decodes each of 999 packages, so the checks run on
 * libuv's pool while it decodes the rest. Ed25519 packages only (the group refuses the others).
 *
 * @example
 * ```ts
 * preverifyKeyPackage(scope, bytes, decodeAddableKeyPackage(bytes).keyPackage)
 * ```
 */
export function preverifyKeyPackage(scope: PreverifyScope, bytes: Uint8Array, kp: KeyPackage): void {
  if (!isMlsCiphersuiteName(kp.cipherSuite) || !usesEd25519(kp.cipherSuite)) return;
  let tbs: ReturnType<typeof signedContents>;
  try {
    tbs = signedContents(bytes);
  } catch {
    return; // ts-mls decoded it, so this cannot fail; if it did, ts-mls verifies itself
  }
  if (tbs === undefined) return;
  const publicKey = kp.leafNode.signaturePublicKey;
  startEd25519Verify(scope, publicKey, signContent(LEAF_NODE_TBS, tbs.leaf), kp.leafNode.signature);
  startEd25519Verify(scope, publicKey, signContent(KEY_PACKAGE_TBS, tbs.keyPackage), kp.signature);
}
