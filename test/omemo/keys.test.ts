import { describe, expect, it } from 'vitest';
import {
  fromBase64Strict,
  fromHex,
  parsePublicKey,
  parsePublicKeyOrRaw,
  serializePublicKey,
  toBase64,
  toHex,
} from '../../src/omemo/keys.js';
import { isOmemoError, type OmemoErrorCode } from '../../src/omemo/errors.js';

function code(fn: () => unknown): OmemoErrorCode | 'no-throw' | 'other' {
  try {
    fn();
    return 'no-throw';
  } catch (e) {
    return isOmemoError(e) ? e.code : 'other';
  }
}

const RAW = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);

describe('public key serialization', () => {
  it('round-trips 0x05 ‖ key', () => {
    const s = serializePublicKey(RAW);
    expect(s.length).toBe(33);
    expect(s[0]).toBe(0x05);
    expect(parsePublicKey(s)).toEqual(RAW);
  });

  it('rejects wrong lengths and type bytes as bad-key', () => {
    expect(code(() => serializePublicKey(new Uint8Array(33)))).toBe('bad-key');
    expect(code(() => parsePublicKey(RAW))).toBe('bad-key');
    expect(code(() => parsePublicKey(new Uint8Array(34)))).toBe('bad-key');
    const wrongType = serializePublicKey(RAW);
    wrongType[0] = 0x06;
    expect(code(() => parsePublicKey(wrongType))).toBe('bad-key');
    expect(code(() => parsePublicKey(new Uint8Array(0)))).toBe('bad-key');
  });

  it('parsePublicKeyOrRaw accepts exactly 32 raw bytes or the 33-byte form', () => {
    expect(parsePublicKeyOrRaw(RAW)).toEqual(RAW);
    expect(parsePublicKeyOrRaw(serializePublicKey(RAW))).toEqual(RAW);
    expect(code(() => parsePublicKeyOrRaw(new Uint8Array(31)))).toBe('bad-key');
  });
});

describe('base64', () => {
  it('round-trips and tolerates whitespace/line wrapping', () => {
    for (const n of [0, 1, 2, 3, 16, 33, 100]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 31) & 0xff);
      const t = toBase64(b);
      expect(fromBase64Strict(t)).toEqual(b);
      expect(fromBase64Strict(` ${t.replace(/(.{4})/g, '$1\n')}\t`)).toEqual(b);
    }
    expect(toBase64(Uint8Array.of(0xfb, 0xff))).toBe('+/8=');
  });

  it('rejects junk as bad-base64', () => {
    for (const bad of ['abc$', 'ab=c', '====', 'a', 'abcde', 'ab==cd==', '-_8=', 'QUJD=']) {
      expect(code(() => fromBase64Strict(bad)), bad).toBe('bad-base64');
    }
  });

  it('accepts unpadded input whose length is unambiguous', () => {
    expect(fromBase64Strict('QUI')).toEqual(new TextEncoder().encode('AB'));
  });
});

describe('hex', () => {
  it('round-trips and rejects junk', () => {
    expect(toHex(Uint8Array.of(0, 255, 16))).toBe('00ff10');
    expect(fromHex('00FF10')).toEqual(Uint8Array.of(0, 255, 16));
    expect(code(() => fromHex('abc'))).toBe('invalid-input');
    expect(code(() => fromHex('zz'))).toBe('invalid-input');
  });
});
