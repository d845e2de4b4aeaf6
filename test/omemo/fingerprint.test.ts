import { describe, expect, it } from 'vitest';
import {
  fingerprintHex,
  formatFingerprint,
  normalizeFingerprint,
  shortFingerprint,
} from '../../src/omemo/fingerprint.js';
import { isOmemoError } from '../../src/omemo/errors.js';

const RAW = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 171) & 0xff);
const HEX = Buffer.from(RAW).toString('hex');

describe('fingerprint', () => {
  it('fingerprintHex is 64 lower-case hex of the raw key', () => {
    const fp = fingerprintHex(RAW);
    expect(fp).toBe(HEX);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(() => fingerprintHex(new Uint8Array(33))).toThrow(expect.objectContaining({ code: 'bad-key' }));
  });

  it('formats as 8 groups of 8', () => {
    const f = formatFingerprint(HEX);
    expect(f.split(' ')).toHaveLength(8);
    expect(f.split(' ').every((g) => g.length === 8)).toBe(true);
    expect(f.replace(/ /g, '')).toBe(HEX);
    expect(formatFingerprint(HEX.toUpperCase())).toBe(f);
    let err: unknown;
    try {
      formatFingerprint('xyz');
    } catch (e) {
      err = e;
    }
    expect(isOmemoError(err, 'invalid-input')).toBe(true);
  });

  it('normalizes any separators, case, and a leading 05 on 66-hex input', () => {
    const grouped = HEX.toUpperCase().match(/.{8}/g)!.join(' ');
    expect(normalizeFingerprint(grouped)).toBe(HEX);
    expect(normalizeFingerprint(HEX.match(/../g)!.join(':'))).toBe(HEX);
    expect(normalizeFingerprint(` ${HEX.match(/.{4}/g)!.join('-')}\n`)).toBe(HEX);
    expect(normalizeFingerprint('05' + HEX)).toBe(HEX);
    expect(normalizeFingerprint('05 ' + grouped)).toBe(HEX);
  });

  it('rejects wrong lengths and junk', () => {
    expect(normalizeFingerprint(HEX.slice(2))).toBeNull();
    expect(normalizeFingerprint(HEX + '00')).toBeNull();
    expect(normalizeFingerprint('06' + HEX)).toBeNull();
    expect(normalizeFingerprint(HEX.slice(1) + 'g')).toBeNull();
    expect(normalizeFingerprint('')).toBeNull();
    expect(normalizeFingerprint(undefined as unknown as string)).toBeNull();
  });

  it('shortFingerprint is the first 8 characters', () => {
    expect(shortFingerprint(HEX)).toBe(HEX.slice(0, 8));
    expect(shortFingerprint(formatFingerprint(HEX))).toBe(HEX.slice(0, 8));
  });
});
