// Identity fingerprints as Conversations/Dino show them: hex of the 32-byte Curve25519 identity
// key (without the 0x05 type byte), 8 groups of 8.
import { OmemoError } from './errors.js';
import { toHex } from './keys.js';

/** 64 lower-case hex characters of a raw 32-byte identity key. */
export function fingerprintHex(identityRaw32: Uint8Array): string {
  if (!(identityRaw32 instanceof Uint8Array) || identityRaw32.length !== 32) {
    throw new OmemoError('bad-key', 'identity key must be 32 raw bytes');
  }
  return toHex(identityRaw32);
}

/** "aaaaaaaa bbbbbbbb …": 8 groups of 8. Input is normalized first; junk gives 'invalid-input'. */
export function formatFingerprint(hex: string): string {
  const n = normalizeFingerprint(hex);
  if (n === null) throw new OmemoError('invalid-input', 'not a fingerprint');
  return n.match(/.{8}/g)!.join(' ');
}

/**
 * Accepts user input in any common shape (spaces, colons, dashes, either case, an optional
 * leading 05 type byte on 66-hex input) and returns 64 lower-case hex characters, or null.
 */
export function normalizeFingerprint(input: string): string | null {
  if (typeof input !== 'string') return null;
  const stripped = input.replace(/[\s:._\-]+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(stripped)) return null;
  let h = stripped.toLowerCase();
  if (h.length === 66 && h.startsWith('05')) h = h.slice(2);
  return h.length === 64 ? h : null;
}

/** First 8 hex characters, for compact lists. */
export function shortFingerprint(hex: string): string {
  const n = normalizeFingerprint(hex);
  return (n ?? hex).slice(0, 8);
}
