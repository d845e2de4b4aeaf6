// Key and byte encodings shared by the OMEMO modules: libsignal's 0x05-prefixed public keys,
// strict base64 (stanzas carry attacker-controlled text) and hex.
import { OmemoError } from './errors.js';

/** libsignal DJB_TYPE: the type byte in front of every serialized Curve25519 public key. */
export const DJB_TYPE = 0x05;

/** Raw 32-byte X25519 public key → 33-byte libsignal form `0x05 ‖ key`. */
export function serializePublicKey(raw32: Uint8Array): Uint8Array {
  if (!(raw32 instanceof Uint8Array) || raw32.length !== 32) {
    throw new OmemoError('bad-key', `public key must be 32 raw bytes, got ${lengthOf(raw32)}`);
  }
  const out = new Uint8Array(33);
  out[0] = DJB_TYPE;
  out.set(raw32, 1);
  return out;
}

/** 33-byte libsignal public key → raw 32 bytes. Anything else is 'bad-key' (as curve_decode_point). */
export function parsePublicKey(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 33) {
    throw new OmemoError('bad-key', `public key must be 33 bytes (0x05 ‖ 32), got ${lengthOf(bytes)}`);
  }
  if (bytes[0] !== DJB_TYPE) {
    throw new OmemoError('bad-key', `public key type byte must be 0x05, got 0x${hex2(bytes[0])}`);
  }
  // Uint8Array's slice: a Buffer's slice would be a view into the input.
  return Uint8Array.prototype.slice.call(bytes, 1);
}

/**
 * Lenient variant for places that knowingly accept either the 33-byte form or a bare 32-byte key
 * (e.g. imported fingerprints or OMEMO 2 material). Never use it for wire input of legacy OMEMO.
 */
export function parsePublicKeyOrRaw(bytes: Uint8Array): Uint8Array {
  if (bytes instanceof Uint8Array && bytes.length === 32) return bytes.slice();
  return parsePublicKey(bytes);
}

function lengthOf(b: unknown): string {
  return b instanceof Uint8Array ? `${b.length} bytes` : typeof b;
}
function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

// ------------------------------------------------------------------------------------------------
// base64

/** Standard base64 with padding, no line wrapping (what Conversations sends). */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decode standard base64, ignoring whitespace (some clients wrap lines). Node's decoder silently
 * skips junk, so validate first: any other character, bad padding or a truncated quantum is
 * 'bad-base64'. Missing padding is tolerated when the length makes it unambiguous.
 */
export function fromBase64Strict(text: string): Uint8Array {
  if (typeof text !== 'string') throw new OmemoError('bad-base64', 'base64 input is not a string');
  let s = text.replace(/[\s]+/g, '');
  const rem = s.length % 4;
  if (rem === 1) throw new OmemoError('bad-base64', 'base64 length is invalid');
  if (rem !== 0 && !s.includes('=')) s += '='.repeat(4 - rem);
  if (!B64_RE.test(s)) throw new OmemoError('bad-base64', 'invalid base64 text');
  return new Uint8Array(Buffer.from(s, 'base64'));
}

// ------------------------------------------------------------------------------------------------
// hex

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** Decode hex (either case). Throws 'invalid-input' on odd length or non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new OmemoError('invalid-input', 'invalid hex string');
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
