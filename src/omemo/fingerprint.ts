// Identity fingerprints as Conversations/Dino show them: hex of the 32-byte Curve25519 identity
// key (without the 0x05 type byte), 8 groups of 8.
import { OmemoError } from './errors.js';
import { toHex } from './keys.js';
import { groupFingerprint } from '../lib/fingerprint.js';

export { normalizeFingerprint, shortFingerprint } from '../lib/fingerprint.js';

/** 64 lower-case hex characters of a raw 32-byte identity key. */
export function fingerprintHex(identityRaw32: Uint8Array): string {
  if (!(identityRaw32 instanceof Uint8Array) || identityRaw32.length !== 32) {
    throw new OmemoError('bad-key', 'identity key must be 32 raw bytes');
  }
  return toHex(identityRaw32);
}

/** "aaaaaaaa bbbbbbbb …": 8 groups of 8. Input is normalized first; junk gives 'invalid-input'. */
export function formatFingerprint(hex: string): string {
  const grouped = groupFingerprint(hex);
  if (grouped === null) throw new OmemoError('invalid-input', 'not a fingerprint');
  return grouped;
}
