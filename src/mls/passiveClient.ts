/**
 * Runs the MLS working group's passive-client test vectors (`passive-client-welcome.json`,
 * `passive-client-handling-commit.json`, `passive-client-random.json` of mls-implementations)
 * through our ts-mls adapter: join from a Welcome, check the epoch authenticator, then apply
 * each epoch's proposals and commit and check it again. The engine can reuse it as an interop
 * self-check.
 *
 * @module
 */
import { bytesToBase64, joinGroup, makePskIndex, processPrivateMessage, processPublicMessage } from "ts-mls";
import type { ClientState, PskIndex, RatchetTree } from "ts-mls";
import { decodeRatchetTree } from "ts-mls/ratchetTree.js";
import { equalBytes, fromHex, toHex } from "../bytes.js";
import { CryptoError, DecodeError, ErrorCode, UsageError } from "../errors.js";
import { vectorClientConfig } from "./config.js";
import { decodeKeyPackageBytes, decodeMlsMessageBytes, decodeWelcomeBytes } from "./codec.js";
import { guard, guardSync } from "./errors.js";
import { getSuite, mlsCiphersuiteNameFromId } from "./suite.js";
import type { ProviderName } from "./suite.js";
import { DEFAULT_PROVIDER } from "./suite.js";

/** One passive-client test vector, as the JSON files spell it (hex strings). @example `const vectors: PassiveClientVector[] = JSON.parse(json)` */
export interface PassiveClientVector {
  readonly cipher_suite: number;
  readonly external_psks: readonly { readonly psk_id: string; readonly psk: string }[];
  readonly key_package: string;
  readonly signature_priv: string;
  readonly encryption_priv: string;
  readonly init_priv: string;
  readonly welcome: string;
  readonly ratchet_tree: string | null;
  readonly initial_epoch_authenticator: string;
  readonly epochs: readonly {
    readonly proposals: readonly string[];
    readonly commit: string;
    readonly epoch_authenticator: string;
  }[];
}

/** Outcome of one vector that ran. @example `(await runPassiveClientVector(v)).epochsChecked` */
export interface PassiveClientResult {
  readonly ciphersuite: string;
  /** Epoch authenticators checked, including the initial one. */
  readonly epochsChecked: number;
}

/**
 * Why a vector's ciphersuite cannot run with the installed dependencies, or undefined when
 * it can.
 *
 * @example
 * ```ts
 * const reason = await passiveClientSkipReason(4) // undefined when @hpke/dhkem-x448 is installed
 * ```
 */
export async function passiveClientSkipReason(cipherSuite: number, provider: ProviderName = DEFAULT_PROVIDER): Promise<string | undefined> {
  try {
    const cs = await getSuite(mlsCiphersuiteNameFromId(cipherSuite), provider);
    // HPKE back ends load lazily: generate a key pair to find a missing optional dependency now.
    await cs.hpke.generateKeyPair();
    await cs.signature.keygen();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

async function process(
  state: ClientState,
  hex: string,
  psks: Record<string, Uint8Array>,
  provider: ProviderName,
  what: string,
): Promise<ClientState> {
  const msg = decodeMlsMessageBytes(fromHex(hex), what);
  const cs = await getSuite(state.groupContext.cipherSuite, provider);
  const pskIndex: PskIndex = makePskIndex(state, psks);
  if (msg.wireformat === "mls_public_message") {
    const r = await guard(ErrorCode.MlsFailure, what, () => processPublicMessage(state, msg.publicMessage, pskIndex, cs));
    return r.newState;
  }
  if (msg.wireformat === "mls_private_message") {
    // ts-mls 1.6.4's processMessage passes an empty PSK index for private messages; call the
    // private path directly so PSK proposals in private commits resolve.
    const r = await guard(ErrorCode.MlsFailure, what, () => processPrivateMessage(state, msg.privateMessage, pskIndex, cs));
    return r.newState;
  }
  throw new DecodeError(`${what}: unexpected wire format ${msg.wireformat}`);
}

function checkAuthenticator(state: ClientState, expectedHex: string, what: string): void {
  const got = state.keySchedule.epochAuthenticator;
  if (!equalBytes(got, fromHex(expectedHex))) {
    throw new CryptoError(ErrorCode.MlsFailure, `${what}: epoch authenticator ${toHex(got)} differs from ${expectedHex}`);
  }
}

function externalPsks(vector: PassiveClientVector): Record<string, Uint8Array> {
  const psks: Record<string, Uint8Array> = {};
  for (const p of vector.external_psks) psks[bytesToBase64(fromHex(p.psk_id))] = fromHex(p.psk);
  return psks;
}

/**
 * Joins a vector's group from its Welcome and checks the initial epoch authenticator. The
 * state is a raw ts-mls state (no p2panda group), for the engine's stepwise vector path.
 *
 * @example
 * ```ts
 * let state = await joinPassiveClient(vector)
 * ```
 */
export async function joinPassiveClient(vector: PassiveClientVector, provider: ProviderName = DEFAULT_PROVIDER): Promise<ClientState> {
  const cs = await getSuite(mlsCiphersuiteNameFromId(vector.cipher_suite), provider);
  const keyPackage = decodeKeyPackageBytes(fromHex(vector.key_package));
  const welcome = decodeWelcomeBytes(fromHex(vector.welcome));
  let tree: RatchetTree | undefined;
  if (vector.ratchet_tree !== null) {
    const bytes = fromHex(vector.ratchet_tree);
    const decoded = guardSync(ErrorCode.Decode, "ratchet tree", () => decodeRatchetTree(bytes, 0));
    if (decoded === undefined || decoded[1] !== bytes.length) throw new DecodeError("ratchet tree: malformed");
    tree = decoded[0];
  }
  const state = await guard(ErrorCode.InvalidWelcome, "vector welcome", () =>
    joinGroup(
      welcome,
      keyPackage,
      {
        initPrivateKey: fromHex(vector.init_priv),
        hpkePrivateKey: fromHex(vector.encryption_priv),
        signaturePrivateKey: fromHex(vector.signature_priv),
      },
      makePskIndex(undefined, externalPsks(vector)),
      cs,
      tree,
      undefined,
      vectorClientConfig,
    ),
  );
  checkAuthenticator(state, vector.initial_epoch_authenticator, "initial epoch");
  return state;
}

/**
 * Applies epoch `index` (0-based) of a vector, its proposals then its commit, and checks that
 * epoch's authenticator.
 *
 * @example
 * ```ts
 * for (let i = 0; i < vector.epochs.length; i++) state = await applyPassiveClientEpoch(state, vector, i)
 * ```
 */
export async function applyPassiveClientEpoch(
  state: ClientState,
  vector: PassiveClientVector,
  index: number,
  provider: ProviderName = DEFAULT_PROVIDER,
): Promise<ClientState> {
  const epoch = vector.epochs[index];
  if (epoch === undefined) throw new UsageError(ErrorCode.InvalidArgument, `vector has no epoch ${index + 1}`);
  const psks = externalPsks(vector);
  const what = `epoch ${index + 1}`;
  let next = state;
  for (const proposal of epoch.proposals) next = await process(next, proposal, psks, provider, `${what} proposal`);
  next = await process(next, epoch.commit, psks, provider, `${what} commit`);
  checkAuthenticator(next, epoch.epoch_authenticator, what);
  return next;
}

/**
 * Runs one passive-client vector; throws a typed error (`MLS_FAILURE` on an authenticator
 * mismatch) when our MLS stack disagrees with the vector.
 *
 * @example
 * ```ts
 * for (const v of JSON.parse(readFileSync(file, "utf8"))) await runPassiveClientVector(v)
 * ```
 */
export async function runPassiveClientVector(
  vector: PassiveClientVector,
  provider: ProviderName = DEFAULT_PROVIDER,
): Promise<PassiveClientResult> {
  let state = await joinPassiveClient(vector, provider);
  for (let i = 0; i < vector.epochs.length; i++) state = await applyPassiveClientEpoch(state, vector, i, provider);
  return { ciphersuite: mlsCiphersuiteNameFromId(vector.cipher_suite), epochsChecked: vector.epochs.length + 1 };
}
