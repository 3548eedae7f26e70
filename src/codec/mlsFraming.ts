/**
 * The framing every MLSMessage starts with (RFC 9420 section 6: protocol version, wire format,
 * then the group id and epoch both PublicMessage and PrivateMessage put first), read without
 * keys. One reader for the PrivateMessage header of a `SecretGroupMessage` (src/message.ts) and
 * the PublicMessage header of a commit (src/mls/commit.ts).
 *
 * @module
 */
import { MAX_GROUP_ID_SIZE, MLS_PROTOCOL_VERSION } from "../constants.js";
import type { MlsWireFormat } from "../constants.js";
import { DecodeError } from "../errors.js";
import type { Reader } from "./tls.js";

const WIRE_FORMAT_NAME: Readonly<Record<MlsWireFormat, string>> = { 1: "PublicMessage", 2: "PrivateMessage" };

/**
 * Reads an MLSMessage's version and wire format (refusing any but mls10 and `wireFormat`), then
 * the group id and epoch that follow. Throws only {@link DecodeError}, naming `what`.
 *
 * @example
 * ```ts
 * const { groupId, epoch } = readMlsFraming(new Reader(bytes, "MLS commit"), MlsWireFormat.PublicMessage, "MLS commit")
 * ```
 */
export function readMlsFraming(r: Reader, wireFormat: MlsWireFormat, what: string): { groupId: Uint8Array; epoch: bigint } {
  const version = (r.u8() << 8) | r.u8();
  if (version !== MLS_PROTOCOL_VERSION) throw new DecodeError(`${what}: unsupported protocol version ${version}`);
  const format = (r.u8() << 8) | r.u8();
  if (format !== wireFormat) throw new DecodeError(`${what}: wire format ${format} is not a ${WIRE_FORMAT_NAME[wireFormat]}`);
  const groupId = r.opaque(MAX_GROUP_ID_SIZE);
  return { groupId, epoch: r.u64() };
}
