// Input checks and error classification both implementations share, so they fail alike.
import { OmemoError } from '../errors.js';

export function checkLen(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) {
    throw new OmemoError('bad-key', `${what} must be ${n} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`);
  }
}

/** A low-order public key gives an all-zero secret; both implementations reject it the same way. */
export function rejectZero(secret: Uint8Array): Uint8Array {
  let acc = 0;
  for (const b of secret) acc |= b;
  if (acc === 0) throw new OmemoError('bad-key', 'X25519 public key has low order (all-zero shared secret)');
  return secret;
}

/** Decryption failures (bad tag, bad padding, bad length) surface as one classified error. */
export function decryptFailure(what: string, fn: () => Uint8Array): Uint8Array {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OmemoError) throw e;
    throw new OmemoError('bad-payload', `${what} decryption failed: ${(e as Error).message}`);
  }
}

export function aesName(key: Uint8Array, mode: 'gcm' | 'cbc'): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new OmemoError('invalid-input', `AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
  return `aes-${key.length * 8}-${mode}`;
}

export const GCM_TAG = 16;

/** Same IV policy as noble (minimum 8 bytes), so both implementations accept the same inputs. */
export function checkGcmIv(iv: Uint8Array): void {
  if (iv.length < 8) throw new OmemoError('bad-payload', `AES-GCM IV must be at least 8 bytes, got ${iv.length}`);
}
