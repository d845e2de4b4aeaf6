// Legacy OMEMO body encryption (XEP-0384 v0.3 as Conversations/Dino/python-oldmemo do it):
// AES-128-GCM with a fresh key and 12-byte IV; <payload> is the ciphertext without the tag and the
// 32-byte key‖tag travels through each device's Signal session.
import { OmemoError } from './errors.js';
import { aesGcmDecrypt, aesGcmEncrypt, concatBytes, randomBytes } from './primitives.js';

export const PAYLOAD_KEY_LENGTH = 16;
export const PAYLOAD_TAG_LENGTH = 16;
export const PAYLOAD_IV_LENGTH = 12;
/** Legacy key-transport messages carry 16 random bytes through the ratchet. */
export const KEY_TRANSPORT_LENGTH = 16;

export interface EncryptedPayload {
  iv: Uint8Array;
  /** AES-GCM ciphertext without the tag. */
  payload: Uint8Array;
  /** key(16) ‖ tag(16): what each recipient's session encrypts. */
  keyMaterial: Uint8Array;
}

export function encryptPayload(plaintext: Uint8Array): EncryptedPayload {
  const key = randomBytes(PAYLOAD_KEY_LENGTH);
  const iv = randomBytes(PAYLOAD_IV_LENGTH);
  const sealed = aesGcmEncrypt(key, iv, plaintext);
  const cut = sealed.length - PAYLOAD_TAG_LENGTH;
  return {
    iv,
    payload: sealed.slice(0, cut),
    keyMaterial: concatBytes(key, sealed.slice(cut)),
  };
}

/**
 * Decrypt a <payload>. Accepts any IV length (old clients sent 16 bytes) and key material of at
 * least 32 bytes: key = first 16, tag = the rest (Conversations tolerates longer tags the same way).
 */
export function decryptPayload(keyMaterial: Uint8Array, iv: Uint8Array, payload: Uint8Array): Uint8Array {
  if (!(keyMaterial instanceof Uint8Array) || keyMaterial.length < PAYLOAD_KEY_LENGTH + PAYLOAD_TAG_LENGTH) {
    throw new OmemoError(
      'bad-payload',
      `key material is ${keyMaterial instanceof Uint8Array ? keyMaterial.length : 0} bytes, need at least 32 (sender uses an outdated format)`,
    );
  }
  if (!(iv instanceof Uint8Array) || iv.length === 0) throw new OmemoError('bad-payload', 'missing IV');
  const key = keyMaterial.subarray(0, PAYLOAD_KEY_LENGTH);
  const tag = keyMaterial.subarray(PAYLOAD_KEY_LENGTH);
  // GCM verification is defined over a 16-byte tag; longer "tags" are the first 16 bytes
  // plus junk we cannot authenticate, so only the first 16 are used (as Conversations does).
  const tag16 = tag.subarray(0, PAYLOAD_TAG_LENGTH);
  try {
    return aesGcmDecrypt(key, iv, concatBytes(payload, tag16));
  } catch (e) {
    throw new OmemoError('bad-payload', `payload authentication failed: ${(e as Error).message}`);
  }
}

/** Ratchet plaintext of a legacy key-transport (empty) message. */
export function keyTransportMaterial(): { iv: Uint8Array; keyMaterial: Uint8Array } {
  return { iv: randomBytes(PAYLOAD_IV_LENGTH), keyMaterial: randomBytes(KEY_TRANSPORT_LENGTH) };
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export function encodeUtf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Strict UTF-8 decode; invalid bytes are a bad payload rather than U+FFFD noise. */
export function decodeUtf8(b: Uint8Array): string {
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw new OmemoError('bad-payload', 'decrypted body is not valid UTF-8');
  }
}
