import { describe, expect, it } from 'vitest';
import { isOmemoError } from '../../src/omemo/errors.js';
import {
  decodeUtf8,
  decryptPayload,
  encodeUtf8,
  encryptPayload,
  keyTransportMaterial,
} from '../../src/omemo/payload.js';
import { aesGcmEncrypt, concatBytes, randomBytes } from '../../src/omemo/primitives.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isOmemoError(e) ? e.code : `non-omemo: ${(e as Error).message}`;
  }
  return undefined;
}

describe('payload (AES-128-GCM, key‖tag)', () => {
  it('round-trips and has the legacy shape: 12-byte IV, no tag in payload, 32-byte key material', () => {
    const pt = encodeUtf8('héllo wörld ✓');
    const enc = encryptPayload(pt);
    expect(enc.iv.length).toBe(12);
    expect(enc.payload.length).toBe(pt.length);
    expect(enc.keyMaterial.length).toBe(32);
    expect(decodeUtf8(decryptPayload(enc.keyMaterial, enc.iv, enc.payload))).toBe('héllo wörld ✓');
  });

  it('key material is key then tag: re-encrypting with the first 16 bytes reproduces payload‖tag', () => {
    const pt = encodeUtf8('check layout');
    const enc = encryptPayload(pt);
    const sealed = aesGcmEncrypt(enc.keyMaterial.subarray(0, 16), enc.iv, pt);
    expect(Buffer.from(sealed)).toEqual(Buffer.from(concatBytes(enc.payload, enc.keyMaterial.subarray(16))));
  });

  it('accepts a 16-byte IV (pre-2020 clients)', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const sealed = aesGcmEncrypt(key, iv, encodeUtf8('old client'));
    const km = concatBytes(key, sealed.subarray(sealed.length - 16));
    expect(decodeUtf8(decryptPayload(km, iv, sealed.subarray(0, sealed.length - 16)))).toBe('old client');
  });

  it('rejects short key material, tampered payload, wrong tag, wrong IV as bad-payload', () => {
    const enc = encryptPayload(encodeUtf8('secret'));
    expect(code(() => decryptPayload(enc.keyMaterial.subarray(0, 16), enc.iv, enc.payload))).toBe('bad-payload');
    expect(code(() => decryptPayload(enc.keyMaterial.subarray(0, 31), enc.iv, enc.payload))).toBe('bad-payload');
    const bad = enc.payload.slice();
    bad[0] ^= 1;
    expect(code(() => decryptPayload(enc.keyMaterial, enc.iv, bad))).toBe('bad-payload');
    const badKm = enc.keyMaterial.slice();
    badKm[31] ^= 0x80;
    expect(code(() => decryptPayload(badKm, enc.iv, enc.payload))).toBe('bad-payload');
    const badIv = enc.iv.slice();
    badIv[0] ^= 1;
    expect(code(() => decryptPayload(enc.keyMaterial, badIv, enc.payload))).toBe('bad-payload');
    expect(code(() => decryptPayload(enc.keyMaterial, new Uint8Array(0), enc.payload))).toBe('bad-payload');
  });

  it('empty body works', () => {
    const enc = encryptPayload(new Uint8Array(0));
    expect(enc.payload.length).toBe(0);
    expect(decryptPayload(enc.keyMaterial, enc.iv, enc.payload).length).toBe(0);
  });

  it('invalid UTF-8 is bad-payload', () => {
    expect(code(() => decodeUtf8(new Uint8Array([0xff, 0xfe])))).toBe('bad-payload');
  });

  it('key transport material is 16 random bytes with a 12-byte IV', () => {
    const a = keyTransportMaterial();
    const b = keyTransportMaterial();
    expect(a.keyMaterial.length).toBe(16);
    expect(a.iv.length).toBe(12);
    expect(Buffer.from(a.keyMaterial)).not.toEqual(Buffer.from(b.keyMaterial));
  });
});
