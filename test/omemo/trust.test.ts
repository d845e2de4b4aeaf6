import { describe, expect, it } from 'vitest';
import type { TrustRecord, TrustState } from '../../src/omemo/store.js';
import { DEFAULT_TRUST_MODE, decideNewIdentity, isTrustMode, isUsable } from '../../src/omemo/trust.js';

const rec = (fp: string, state: TrustState): TrustRecord => ({
  jid: 'bob@example.org',
  fingerprint: fp.repeat(64).slice(0, 64),
  deviceId: fp.charCodeAt(0),
  state,
  firstSeen: 0,
});

describe('trust decisions', () => {
  it('default is btbv', () => {
    expect(DEFAULT_TRUST_MODE).toBe('btbv');
    expect(isTrustMode('btbv')).toBe(true);
    expect(isTrustMode('tofu')).toBe(false);
  });

  it('blind always trusts, manual never', () => {
    expect(decideNewIdentity('blind', [rec('a', 'verified')])).toBe('trusted');
    expect(decideNewIdentity('manual', [])).toBe('undecided');
  });

  it('btbv trusts until one device is verified', () => {
    expect(decideNewIdentity('btbv', [])).toBe('trusted');
    expect(decideNewIdentity('btbv', [rec('a', 'trusted'), rec('b', 'untrusted')])).toBe('trusted');
    expect(decideNewIdentity('btbv', [rec('a', 'trusted'), rec('b', 'verified')])).toBe('undecided');
  });

  it('firstusage trusts only the first contact batch', () => {
    expect(decideNewIdentity('firstusage', [])).toBe('trusted');
    const a = rec('a', 'trusted');
    // a second device discovered in the same first use is still first use
    expect(decideNewIdentity('firstusage', [a], [a])).toBe('trusted');
    expect(decideNewIdentity('firstusage', [a])).toBe('undecided');
  });

  it('only trusted and verified are usable', () => {
    expect(isUsable('trusted')).toBe(true);
    expect(isUsable('verified')).toBe(true);
    expect(isUsable('undecided')).toBe(false);
    expect(isUsable('untrusted')).toBe(false);
    expect(isUsable(undefined)).toBe(false);
  });
});
