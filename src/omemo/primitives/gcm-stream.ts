import * as nodeCrypto from 'node:crypto';
import { Transform } from 'node:stream';
import { OmemoError } from '../errors.js';
import { aesName, checkGcmIv, GCM_TAG } from './checks.js';

// ---------------------------------------------------------------------------------------------
// Streaming AES-GCM for files (XEP-0454): constant memory whatever the size. Always node:crypto
// (noble has no streaming GCM); tests cross-check the output against noble's one-shot gcm.

function gcmParams(key: Uint8Array, iv: Uint8Array): [nodeCrypto.CipherGCMTypes, Uint8Array, Uint8Array] {
  checkGcmIv(iv);
  if (iv.length > 128) throw new OmemoError('invalid-input', `AES-GCM IV too long for streaming: ${iv.length} bytes`);
  return [aesName(key, 'gcm') as nodeCrypto.CipherGCMTypes, key, iv];
}

/** Plaintext in, ciphertext‖tag(16) out. */
export function createGcmEncryptStream(key: Uint8Array, iv: Uint8Array): Transform {
  const [alg, k, i] = gcmParams(key, iv);
  const c = nodeCrypto.createCipheriv(alg, k, i, { authTagLength: GCM_TAG });
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      cb(null, c.update(chunk));
    },
    flush(cb) {
      const last = c.final();
      if (last.length) this.push(last);
      cb(null, c.getAuthTag());
    },
  });
}

/**
 * ciphertext‖tag(16) in, plaintext out. The tag is the stream's last 16 bytes, so they are held
 * back; the stream fails with OmemoError 'bad-payload' at its end when the tag does not verify.
 * Plaintext is emitted before that check: callers must treat the output as unverified until
 * the stream has finished without error.
 */
export function createGcmDecryptStream(key: Uint8Array, iv: Uint8Array): Transform {
  const [alg, k, i] = gcmParams(key, iv);
  const d = nodeCrypto.createDecipheriv(alg, k, i, { authTagLength: GCM_TAG });
  let tail = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (chunk.length >= GCM_TAG) {
        // Common case: no concatenation of big chunks, only the 16-byte tail is copied.
        if (tail.length) this.push(d.update(tail));
        const out = d.update(chunk.subarray(0, chunk.length - GCM_TAG));
        tail = Buffer.from(chunk.subarray(chunk.length - GCM_TAG));
        cb(null, out);
        return;
      }
      const all = Buffer.concat([tail, chunk]);
      const n = Math.max(0, all.length - GCM_TAG);
      tail = Buffer.from(all.subarray(n));
      cb(null, n > 0 ? d.update(all.subarray(0, n)) : undefined);
    },
    flush(cb) {
      if (tail.length < GCM_TAG) {
        cb(new OmemoError('bad-payload', 'AES-GCM stream shorter than its tag (truncated)'));
        return;
      }
      try {
        d.setAuthTag(tail);
        cb(null, d.final());
      } catch {
        cb(new OmemoError('bad-payload', 'AES-GCM authentication failed: the data was corrupted or tampered with'));
      }
    },
  });
}
