/**
 * Which key and nonce each published message used, for the crash test's "never twice" check:
 * a long-term ciphertext names its group, long-term epoch and nonce in the clear; a
 * sender-ratchet message hides its sender leaf and generation in the encrypted sender data,
 * opened here with the sender data secret of its epoch from a member's stored MLS state (the
 * owner's, which holds every epoch the script reaches).
 *
 * @module
 */
import { decryptSenderData } from "ts-mls/privateMessage.js";
import { toHex } from "../src/bytes.js";
import { decodeSecretGroupMessage } from "../src/message.js";
import { decodePrivateMessageBytes } from "../src/mls/codec.js";
import { getSuite } from "../src/mls/suite.js";
import { loadGroupState } from "../src/engine/store/stateCodec.js";
import { EngineStore } from "../src/engine/store/store.js";
import { Sublevel } from "../src/engine/store/sublevels.js";
import { deriveStorageKey } from "../src/engine/store/seal.js";

/** `group/ltsEpoch/nonce` of long-term messages, `group/epoch/leaf/generation` of sender-ratchet ones. */
export async function senderKeys(
  path: string,
  self: { readonly publicKey: Uint8Array; readonly secretKey: Uint8Array },
  groupId: Uint8Array,
  messages: readonly Uint8Array[],
): Promise<{ longTerm: string[]; ratchet: string[]; unchecked: number }> {
  const store = await EngineStore.open(path, self.publicKey, deriveStorageKey(self.secretKey));
  const gid = toHex(groupId);
  const prefix = `${gid}/`;
  let parts: Array<readonly [string, Uint8Array]>;
  try {
    parts = (await store.scan(Sublevel.State, prefix, "group state")).map(([k, v]) => [k.slice(prefix.length), v] as const);
  } finally {
    await store.close();
  }
  const { mls } = loadGroupState(parts, 0n).state;
  const cs = await getSuite(mls.groupContext.cipherSuite);
  const longTerm: string[] = [];
  const ratchet: string[] = [];
  let unchecked = 0;
  for (const bytes of messages) {
    const m = decodeSecretGroupMessage(bytes);
    if (m.type === "long-term") {
      longTerm.push(`${toHex(m.ciphertext.groupId)}/${m.ciphertext.epoch}/${toHex(m.ciphertext.nonce)}`);
      continue;
    }
    const pm = decodePrivateMessageBytes(m.mlsMessage, "MLS ciphertext");
    const secret = pm.epoch === mls.groupContext.epoch ? mls.keySchedule.senderDataSecret : mls.historicalReceiverData.get(pm.epoch)?.senderDataSecret;
    const data = secret === undefined ? undefined : await decryptSenderData(pm, secret, cs);
    if (data === undefined) {
      unchecked++;
      continue;
    }
    ratchet.push(`${toHex(pm.groupId)}/${pm.epoch}/${data.leafIndex}/${data.generation}`);
  }
  return { longTerm, ratchet, unchecked };
}
