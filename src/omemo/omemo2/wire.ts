// OMEMO 2 wire codec over protobufjs: OMEMOMessage, OMEMOAuthenticatedMessage and OMEMOKeyExchange
// exactly as python-twomemo declares them, plus the protobuf of our stored session. src/omemo reads
// no files, so the schema is embedded below; test/omemo/omemo2-wire.test.ts checks it equals
// proto/omemo2.proto. Every field a peer sends is checked here (types, key lengths), so the
// ratchet only ever sees well-formed values.
import protobuf from 'protobufjs';
import { OmemoError } from '../errors.js';

/** Verbatim copy of src/omemo/proto/omemo2.proto (the source of truth). */
export const OMEMO2_PROTO = `// OMEMO 2 (urn:xmpp:omemo:2, XEP-0384 0.8+): the wire messages as python-twomemo declares them.
// Source of truth for src/omemo/omemo2/wire.ts, which embeds this text verbatim (src/omemo reads no
// files); test/omemo/omemo2-wire.test.ts checks that the two are identical.
syntax = "proto2";

package xchat.omemo2;

// No version byte and no 0x05 prefix: keys are raw 32 bytes.
message OMEMOMessage {
  required uint32 n          = 1;
  required uint32 pn         = 2;
  required bytes  dh_pub     = 3; // X25519 ratchet public key
  optional bytes  ciphertext = 4;
}

// mac = HMAC-SHA-256(auth key, AD ‖ message)[0:16], over the exact bytes of the message field.
message OMEMOAuthenticatedMessage {
  required bytes mac     = 1;
  required bytes message = 2; // a serialized OMEMOMessage
}

message OMEMOKeyExchange {
  required uint32 pk_id  = 1;
  required uint32 spk_id = 2;
  required bytes  ik     = 3; // Ed25519 identity key of the initiator
  required bytes  ek     = 4; // X25519 ephemeral key
  required OMEMOAuthenticatedMessage message = 5;
}

// ---- local persistence of one session (never on the wire) ----
// Field 1 is a format number in the same place as in legacy.proto's StoredSessionRecord, so a
// record of one version is refused by the other instead of being misread.

message StoredSkippedKey {
  optional bytes  ratchetPub = 1;
  optional uint32 index      = 2;
  optional bytes  messageKey = 3;
}

message StoredKeyExchange {
  optional uint32 preKeyId       = 1;
  optional uint32 signedPreKeyId = 2;
  optional bytes  ephemeralKey   = 3;
}

message StoredSession {
  optional uint32 formatVersion          = 1; // 2
  optional bool   initiator              = 2;
  optional bool   confirmed              = 3;
  optional bytes  localIdentity          = 4; // Ed25519
  optional bytes  remoteIdentity         = 5; // Ed25519
  optional bytes  remoteIdentityCurve    = 6; // its X25519 form (fingerprint, trust)
  optional StoredKeyExchange keyExchange = 7;
  optional bytes  rootKey                = 8;
  optional bytes  ownRatchetPriv         = 9;
  optional bytes  ownRatchetPub          = 10;
  optional bytes  remoteRatchetPub       = 11; // absent until the first message is received
  optional bytes  sendingChainKey        = 12; // absent until the first ratchet step (responder)
  optional uint32 sendingLength          = 13;
  optional uint32 previousSendingLength  = 14;
  optional bytes  receivingChainKey      = 15;
  optional uint32 receivingLength        = 16;
  repeated StoredSkippedKey skipped      = 17;
}
`;

/** The MAC is HMAC-SHA-256 truncated to 16 bytes (twomemo AUTHENTICATION_TAG_TRUNCATED_LENGTH). */
export const MAC_LENGTH = 16;
/** Far above any real key message (a few hundred bytes); bounds work done on hostile input. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
const KEY_LENGTH = 32;

interface Types {
  OMEMOMessage: protobuf.Type;
  OMEMOAuthenticatedMessage: protobuf.Type;
  OMEMOKeyExchange: protobuf.Type;
  StoredSession: protobuf.Type;
}
// Parsed at first use: nothing of OMEMO 2 costs anything until a message needs it.
let types: Types | undefined;
function protoTypes(): Types {
  if (types) return types;
  const root = protobuf.parse(OMEMO2_PROTO, { keepCase: true }).root;
  const t = (name: string) => root.lookupType(`xchat.omemo2.${name}`);
  types = {
    OMEMOMessage: t('OMEMOMessage'),
    OMEMOAuthenticatedMessage: t('OMEMOAuthenticatedMessage'),
    OMEMOKeyExchange: t('OMEMOKeyExchange'),
    StoredSession: t('StoredSession'),
  };
  return types;
}

export interface OmemoMessage {
  n: number;
  pn: number;
  /** Raw 32-byte X25519 ratchet public key. */
  dhPub: Uint8Array;
  ciphertext: Uint8Array;
}

/** A received OMEMOAuthenticatedMessage; byte fields are copies, never views into the input. */
export interface DecodedAuthenticated {
  mac: Uint8Array;
  /** Exactly the received OMEMOMessage bytes: what the MAC covers (never re-encoded). */
  messageBytes: Uint8Array;
  message: OmemoMessage;
}

export interface KeyExchange {
  preKeyId: number;
  signedPreKeyId: number;
  /** Ed25519 identity key of the initiator. */
  identityKey: Uint8Array;
  /** X25519 ephemeral key. */
  ephemeralKey: Uint8Array;
}

export interface DecodedKeyExchange extends KeyExchange {
  authenticated: DecodedAuthenticated;
}

function checkUint32(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new OmemoError('invalid-input', `${name} must be a uint32`);
}

function checkSize(data: Uint8Array, what: string): void {
  if (!(data instanceof Uint8Array)) throw new OmemoError('bad-protobuf', `${what} is not bytes`);
  if (data.length === 0) throw new OmemoError('bad-protobuf', `${what} is empty`);
  if (data.length > MAX_MESSAGE_BYTES) throw new OmemoError('bad-protobuf', `${what} exceeds ${MAX_MESSAGE_BYTES} bytes`);
}

/** protobufjs decode; a missing required field, truncation or junk is 'bad-protobuf'. */
function decodeProto(type: protobuf.Type, body: Uint8Array, what: string): Record<string, unknown> {
  try {
    return type.decode(body);
  } catch (e) {
    throw new OmemoError('bad-protobuf', `${what}: ${(e as Error).message}`);
  }
}

function bytesField(m: Record<string, unknown>, field: string, what: string): Uint8Array {
  const v = m[field];
  if (!(v instanceof Uint8Array)) throw new OmemoError('bad-protobuf', `${what} lacks ${field}`);
  // protobufjs hands out Buffer views into the input; detach them.
  return new Uint8Array(v);
}

function keyField(m: Record<string, unknown>, field: string, what: string): Uint8Array {
  const k = bytesField(m, field, what);
  if (k.length !== KEY_LENGTH) throw new OmemoError('bad-key', `${what} ${field} must be ${KEY_LENGTH} bytes, got ${k.length}`);
  return k;
}

function uintField(m: Record<string, unknown>, field: string, what: string): number {
  const v = m[field];
  if (typeof v !== 'number') throw new OmemoError('bad-protobuf', `${what} lacks ${field}`);
  return v;
}

/** A serialized OMEMOMessage; every required field is emitted, zeros included. */
export function encodeOmemoMessage(m: OmemoMessage): Uint8Array {
  checkUint32('n', m.n);
  checkUint32('pn', m.pn);
  if (m.dhPub.length !== KEY_LENGTH) throw new OmemoError('invalid-input', 'dh_pub must be 32 bytes');
  // Copies: protobufjs returns Buffers carved from a shared pool.
  return new Uint8Array(protoTypes().OMEMOMessage.encode({ n: m.n, pn: m.pn, dh_pub: m.dhPub, ciphertext: m.ciphertext }).finish());
}

export function encodeAuthenticated(mac: Uint8Array, messageBytes: Uint8Array): Uint8Array {
  if (mac.length !== MAC_LENGTH) throw new OmemoError('invalid-input', `MAC must be ${MAC_LENGTH} bytes`);
  return new Uint8Array(protoTypes().OMEMOAuthenticatedMessage.encode({ mac, message: messageBytes }).finish());
}

function readOmemoMessage(bytes: Uint8Array): OmemoMessage {
  const m = decodeProto(protoTypes().OMEMOMessage, bytes, 'OMEMOMessage');
  const ciphertext = bytesField(m, 'ciphertext', 'OMEMOMessage');
  // AES-CBC output is a positive multiple of the block size; anything else is malformed.
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
    throw new OmemoError('bad-protobuf', 'OMEMOMessage ciphertext is not whole AES blocks');
  }
  return {
    n: uintField(m, 'n', 'OMEMOMessage'),
    pn: uintField(m, 'pn', 'OMEMOMessage'),
    dhPub: keyField(m, 'dh_pub', 'OMEMOMessage'),
    ciphertext,
  };
}

function readAuthenticated(m: Record<string, unknown>, what: string): DecodedAuthenticated {
  const mac = bytesField(m, 'mac', what);
  if (mac.length !== MAC_LENGTH) throw new OmemoError('bad-protobuf', `${what} MAC must be ${MAC_LENGTH} bytes, got ${mac.length}`);
  const messageBytes = bytesField(m, 'message', what);
  return { mac, messageBytes, message: readOmemoMessage(messageBytes) };
}

export function decodeAuthenticated(data: Uint8Array): DecodedAuthenticated {
  checkSize(data, 'OMEMOAuthenticatedMessage');
  const m = decodeProto(protoTypes().OMEMOAuthenticatedMessage, data, 'OMEMOAuthenticatedMessage');
  return readAuthenticated(m, 'OMEMOAuthenticatedMessage');
}

/**
 * OMEMOKeyExchange around an already serialized OMEMOAuthenticatedMessage, written field by field
 * in field order (as python's protobuf does) so the embedded message's bytes travel untouched.
 */
export function encodeKeyExchange(k: KeyExchange, authenticated: Uint8Array): Uint8Array {
  checkUint32('pk_id', k.preKeyId);
  checkUint32('spk_id', k.signedPreKeyId);
  if (k.identityKey.length !== KEY_LENGTH || k.ephemeralKey.length !== KEY_LENGTH) {
    throw new OmemoError('invalid-input', 'ik and ek must be 32 bytes');
  }
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 0).uint32(k.preKeyId);
  w.uint32((2 << 3) | 0).uint32(k.signedPreKeyId);
  w.uint32((3 << 3) | 2).bytes(k.identityKey);
  w.uint32((4 << 3) | 2).bytes(k.ephemeralKey);
  w.uint32((5 << 3) | 2).bytes(authenticated);
  return new Uint8Array(w.finish());
}

export function decodeKeyExchange(data: Uint8Array): DecodedKeyExchange {
  checkSize(data, 'OMEMOKeyExchange');
  const m = decodeProto(protoTypes().OMEMOKeyExchange, data, 'OMEMOKeyExchange');
  const inner = m.message;
  if (!inner || typeof inner !== 'object') throw new OmemoError('bad-protobuf', 'OMEMOKeyExchange lacks message');
  return {
    preKeyId: uintField(m, 'pk_id', 'OMEMOKeyExchange'),
    signedPreKeyId: uintField(m, 'spk_id', 'OMEMOKeyExchange'),
    identityKey: keyField(m, 'ik', 'OMEMOKeyExchange'),
    ephemeralKey: keyField(m, 'ek', 'OMEMOKeyExchange'),
    authenticated: readAuthenticated(inner as Record<string, unknown>, 'OMEMOKeyExchange message'),
  };
}

// ---- stored session (local persistence) ----

/** Field 1 of a stored record: legacy records say 1. */
export const SESSION_FORMAT = 2;

export interface StoredSkippedKey {
  ratchetPub: Uint8Array;
  index: number;
  messageKey: Uint8Array;
}

export interface StoredSession {
  initiator: boolean;
  confirmed: boolean;
  localIdentity: Uint8Array;
  remoteIdentity: Uint8Array;
  remoteIdentityCurve: Uint8Array;
  keyExchange: { preKeyId: number; signedPreKeyId: number; ephemeralKey: Uint8Array };
  rootKey: Uint8Array;
  ownRatchetPriv: Uint8Array;
  ownRatchetPub: Uint8Array;
  remoteRatchetPub?: Uint8Array;
  sendingChainKey?: Uint8Array;
  sendingLength: number;
  previousSendingLength: number;
  receivingChainKey?: Uint8Array;
  receivingLength: number;
  skipped: StoredSkippedKey[];
}

export function encodeStoredSession(s: StoredSession): Uint8Array {
  return new Uint8Array(protoTypes().StoredSession.encode({ formatVersion: SESSION_FORMAT, ...s }).finish());
}

const OPTIONAL_KEYS = ['remoteRatchetPub', 'sendingChainKey', 'receivingChainKey'] as const;

/** Throws OmemoError 'invalid-input' when the stored bytes are not an OMEMO 2 session. */
export function decodeStoredSession(data: Uint8Array): StoredSession {
  let obj: Record<string, unknown>;
  try {
    const type = protoTypes().StoredSession;
    obj = type.toObject(type.decode(data), { defaults: true, arrays: true });
  } catch (e) {
    throw new OmemoError('invalid-input', `stored OMEMO 2 session is corrupt: ${(e as Error).message}`);
  }
  if (obj.formatVersion !== SESSION_FORMAT) {
    throw new OmemoError('invalid-input', `stored session is not an OMEMO 2 session (format ${String(obj.formatVersion)})`);
  }
  delete obj.formatVersion;
  const s = detachBytes(obj) as StoredSession;
  // toObject fills empty bytes for absent optional fields: turn those back into "absent".
  for (const k of OPTIONAL_KEYS) if (s[k]?.length === 0) delete s[k];
  return s;
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
