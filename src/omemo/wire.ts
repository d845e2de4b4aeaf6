// Legacy OMEMO wire codec: libsignal v3 WhisperMessage / PreKeyWhisperMessage framing over
// protobufjs, plus the protobuf types of our stored session record. src/omemo reads no files, so
// the schema is embedded below; test/omemo/wire.test.ts checks it equals proto/legacy.proto.
import protobuf from 'protobufjs';
import { OmemoError } from './errors.js';
import { parsePublicKey, serializePublicKey } from './keys.js';
import { concatBytes } from './primitives.js';

/** Verbatim copy of src/omemo/proto/legacy.proto (the source of truth). */
export const LEGACY_PROTO = `// Legacy OMEMO (eu.siacs.conversations.axolotl) = libsignal WhisperTextProtocol v3.
// Source of truth for src/omemo/wire.ts, which embeds this text verbatim (src/omemo reads no
// files); test/omemo/wire.test.ts checks that the two are identical.
syntax = "proto2";

package xchat.legacy;

// Framed as 0x33 ‖ WhisperMessage ‖ mac[8].
message WhisperMessage {
  optional bytes  ratchetKey      = 1; // 0x05 ‖ X25519 public key
  optional uint32 counter         = 2;
  optional uint32 previousCounter = 3;
  optional bytes  ciphertext      = 4;
}

// Framed as 0x33 ‖ PreKeyWhisperMessage (no MAC of its own; field 4 carries one).
message PreKeyWhisperMessage {
  optional uint32 registrationId = 5;
  optional uint32 preKeyId       = 1;
  optional uint32 signedPreKeyId = 6;
  optional bytes  baseKey        = 2;
  optional bytes  identityKey    = 3;
  optional bytes  message        = 4; // a complete serialized WhisperMessage, MAC included
}

// ---- local persistence of a session record (never on the wire) ----
// Keys are raw 32 bytes here; message keys are kept as their 32-byte seed (HKDF gives the rest).

message StoredMessageKey {
  optional uint32 index = 1;
  optional bytes  seed  = 2;
}

message StoredChain {
  optional bytes  ratchetPub  = 1;
  optional bytes  ratchetPriv = 2; // sending chain only
  optional bytes  chainKey    = 3;
  optional uint32 index       = 4;
  repeated StoredMessageKey messageKeys = 5;
}

message StoredPendingPreKey {
  optional uint32 preKeyId       = 1;
  optional uint32 signedPreKeyId = 2;
  optional bytes  baseKey        = 3;
}

message StoredSessionState {
  optional bytes  localIdentity        = 1;
  optional bytes  remoteIdentity       = 2;
  optional bytes  rootKey              = 3;
  optional uint32 previousCounter      = 4;
  optional StoredChain senderChain     = 5;
  repeated StoredChain receiverChains  = 6;
  optional StoredPendingPreKey pendingPreKey = 7;
  optional uint32 localRegistrationId  = 8;
  optional uint32 remoteRegistrationId = 9;
  optional bytes  aliceBaseKey         = 10;
}

message StoredSessionRecord {
  optional uint32 formatVersion = 1;
  optional StoredSessionState current = 2;
  repeated StoredSessionState previous = 3;
}
`;

/** (3 << 4) | 3: message version 3, current version 3. */
export const VERSION_BYTE = 0x33;
/** SIGNAL_MESSAGE_MAC_LENGTH */
export const MAC_LENGTH = 8;
/** Far above any real key message (a few hundred bytes); bounds work done on hostile input. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

// Parsed at first use: `xchat send` connects before it needs any OMEMO message type.
let types: { WhisperMessage: protobuf.Type; PreKeyWhisperMessage: protobuf.Type; StoredSessionRecord: protobuf.Type } | undefined;
function protoTypes() {
  if (types) return types;
  const root = protobuf.parse(LEGACY_PROTO, { keepCase: true }).root;
  types = {
    WhisperMessage: root.lookupType('xchat.legacy.WhisperMessage'),
    PreKeyWhisperMessage: root.lookupType('xchat.legacy.PreKeyWhisperMessage'),
    StoredSessionRecord: root.lookupType('xchat.legacy.StoredSessionRecord'),
  };
  return types;
}

export interface WhisperMessage {
  /** Raw 32-byte sender ratchet public key (0x05 is added/removed by the codec). */
  ratchetKey: Uint8Array;
  counter: number;
  previousCounter: number;
  ciphertext: Uint8Array;
}

/** Its byte fields are views into the decoded input, which must not change while it is in use. */
export interface DecodedWhisperMessage extends WhisperMessage {
  /** Exactly the received bytes `0x33 ‖ protobuf` that the MAC covers (never re-encoded). */
  macInput: Uint8Array;
  mac: Uint8Array;
}

export interface PreKeyWhisperMessage {
  registrationId: number;
  preKeyId: number;
  signedPreKeyId: number;
  /** Raw 32-byte X3DH ephemeral ("base") key. */
  baseKey: Uint8Array;
  /** Raw 32-byte Curve25519 identity key of the sender. */
  identityKey: Uint8Array;
  /** Complete serialized WhisperMessage (MAC included). */
  message: Uint8Array;
}

export interface DecodedPreKeyWhisperMessage extends PreKeyWhisperMessage {
  whisper: DecodedWhisperMessage;
}

function has(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function copy(b: Uint8Array): Uint8Array {
  // protobufjs hands out Buffer views into the input; detach them.
  return new Uint8Array(b);
}

function checkUint32(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new OmemoError('invalid-input', `${name} must be a uint32`);
}

function checkFrame(data: Uint8Array, what: string): void {
  if (!(data instanceof Uint8Array)) throw new OmemoError('bad-protobuf', `${what} is not bytes`);
  if (data.length > MAX_MESSAGE_BYTES) throw new OmemoError('bad-protobuf', `${what} exceeds ${MAX_MESSAGE_BYTES} bytes`);
  if (data.length < 1) throw new OmemoError('bad-protobuf', `${what} is empty`);
  const v = data[0] >> 4;
  // libsignal: high nibble <= 1 is "legacy", > 3 is "unknown version"; we only speak 3.
  if (v !== 3) throw new OmemoError('bad-version', `${what} has unsupported version byte 0x${data[0].toString(16)}`);
}

function decodeProto(type: protobuf.Type, body: Uint8Array, what: string): Record<string, unknown> {
  try {
    return type.decode(body);
  } catch (e) {
    throw new OmemoError('bad-protobuf', `${what}: ${(e as Error).message}`);
  }
}

function requireFields(m: Record<string, unknown>, fields: string[], what: string): void {
  for (const f of fields) if (!has(m, f) || m[f] == null) throw new OmemoError('bad-protobuf', `${what} lacks ${f}`);
}

/** `0x33 ‖ protobuf` of a WhisperMessage: what the MAC is computed over. Zero counters are emitted. */
export function encodeWhisperMessageBody(m: WhisperMessage): Uint8Array {
  checkUint32('counter', m.counter);
  checkUint32('previousCounter', m.previousCounter);
  const body = protoTypes().WhisperMessage.encode({
    ratchetKey: serializePublicKey(m.ratchetKey),
    counter: m.counter,
    previousCounter: m.previousCounter,
    ciphertext: m.ciphertext,
  }).finish();
  return concatBytes(Uint8Array.of(VERSION_BYTE), body);
}

/** Complete WhisperMessage: `macInput ‖ mac[8]`. */
export function assembleWhisperMessage(macInput: Uint8Array, mac: Uint8Array): Uint8Array {
  if (mac.length !== MAC_LENGTH) throw new OmemoError('invalid-input', 'MAC must be 8 bytes');
  return concatBytes(macInput, mac);
}

export function decodeWhisperMessage(data: Uint8Array): DecodedWhisperMessage {
  checkFrame(data, 'WhisperMessage');
  if (data.length < 1 + MAC_LENGTH + 1) throw new OmemoError('bad-protobuf', 'WhisperMessage is truncated');
  const macInput = data.subarray(0, data.length - MAC_LENGTH);
  const mac = data.subarray(data.length - MAC_LENGTH);
  const m = decodeProto(protoTypes().WhisperMessage, macInput.subarray(1), 'WhisperMessage');
  requireFields(m, ['ratchetKey', 'counter', 'ciphertext'], 'WhisperMessage');
  if (!(m.ratchetKey instanceof Uint8Array) || !(m.ciphertext instanceof Uint8Array) || typeof m.counter !== 'number') {
    throw new OmemoError('bad-protobuf', 'WhisperMessage field has the wrong type');
  }
  const ciphertext = m.ciphertext;
  // AES-CBC output is a positive multiple of the block size; anything else is malformed.
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
    throw new OmemoError('bad-protobuf', 'WhisperMessage ciphertext is not whole AES blocks');
  }
  return {
    ratchetKey: parsePublicKey(m.ratchetKey), // a copy: it may be kept in the session state
    counter: m.counter,
    previousCounter: has(m, 'previousCounter') ? Number(m.previousCounter) : 0,
    ciphertext,
    macInput,
    mac,
  };
}

/** `0x33 ‖ protobuf`; every field is always emitted (OMEMO needs preKeyId, libsignal the rest). */
export function encodePreKeyWhisperMessage(m: PreKeyWhisperMessage): Uint8Array {
  checkUint32('registrationId', m.registrationId);
  checkUint32('preKeyId', m.preKeyId);
  checkUint32('signedPreKeyId', m.signedPreKeyId);
  const body = protoTypes().PreKeyWhisperMessage.encode({
    registrationId: m.registrationId,
    preKeyId: m.preKeyId,
    signedPreKeyId: m.signedPreKeyId,
    baseKey: serializePublicKey(m.baseKey),
    identityKey: serializePublicKey(m.identityKey),
    message: m.message,
  }).finish();
  return concatBytes(Uint8Array.of(VERSION_BYTE), body);
}

export function decodePreKeyWhisperMessage(data: Uint8Array): DecodedPreKeyWhisperMessage {
  checkFrame(data, 'PreKeyWhisperMessage');
  const m = decodeProto(protoTypes().PreKeyWhisperMessage, data.subarray(1), 'PreKeyWhisperMessage');
  // preKeyId is optional in libsignal but mandatory in OMEMO (Conversations#1832).
  requireFields(m, ['signedPreKeyId', 'baseKey', 'identityKey', 'message', 'preKeyId'], 'PreKeyWhisperMessage');
  if (
    !(m.baseKey instanceof Uint8Array) ||
    !(m.identityKey instanceof Uint8Array) ||
    !(m.message instanceof Uint8Array) ||
    typeof m.preKeyId !== 'number' ||
    typeof m.signedPreKeyId !== 'number'
  ) {
    throw new OmemoError('bad-protobuf', 'PreKeyWhisperMessage field has the wrong type');
  }
  const message = copy(m.message);
  return {
    registrationId: has(m, 'registrationId') ? Number(m.registrationId) : 0,
    preKeyId: m.preKeyId,
    signedPreKeyId: m.signedPreKeyId,
    baseKey: parsePublicKey(copy(m.baseKey)),
    identityKey: parsePublicKey(copy(m.identityKey)),
    message,
    whisper: decodeWhisperMessage(message),
  };
}

// ---- stored session record (local persistence) ----

export interface StoredMessageKey {
  index: number;
  seed: Uint8Array;
}
export interface StoredChain {
  ratchetPub: Uint8Array;
  ratchetPriv?: Uint8Array;
  chainKey: Uint8Array;
  index: number;
  messageKeys: StoredMessageKey[];
}
export interface StoredPendingPreKey {
  preKeyId: number;
  signedPreKeyId: number;
  baseKey: Uint8Array;
}
export interface StoredSessionState {
  localIdentity: Uint8Array;
  remoteIdentity: Uint8Array;
  rootKey: Uint8Array;
  previousCounter: number;
  senderChain?: StoredChain;
  receiverChains: StoredChain[];
  pendingPreKey?: StoredPendingPreKey;
  localRegistrationId: number;
  remoteRegistrationId: number;
  aliceBaseKey: Uint8Array;
}
export interface StoredSessionRecord {
  formatVersion: number;
  current?: StoredSessionState;
  previous: StoredSessionState[];
}

export function encodeStoredSessionRecord(r: StoredSessionRecord): Uint8Array {
  return new Uint8Array(protoTypes().StoredSessionRecord.encode(r).finish());
}

/** Throws OmemoError 'invalid-input' when the stored bytes are not a session record. */
export function decodeStoredSessionRecord(data: Uint8Array): StoredSessionRecord {
  let obj: Record<string, unknown>;
  try {
    const msg = protoTypes().StoredSessionRecord.decode(data);
    // Plain objects; absent optional sub-messages stay undefined, scalars get their defaults.
    obj = protoTypes().StoredSessionRecord.toObject(msg, { defaults: true, arrays: true });
  } catch (e) {
    throw new OmemoError('invalid-input', `stored session record is corrupt: ${(e as Error).message}`);
  }
  return detachBytes(obj) as StoredSessionRecord;
}

function detachBytes(v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(detachBytes);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = detachBytes(x);
    return out;
  }
  return v;
}
