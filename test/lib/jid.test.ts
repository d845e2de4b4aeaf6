// The one JID module and the one fingerprint formatter: the case rules and shapes stated once.
import { describe, expect, it } from 'vitest';
import { bareAsWritten, bareJid, localPart, parseJid, resourceOf, sameBareJid, sameFullJid } from '../../src/lib/jid.js';
import { displayFingerprint, groupFingerprint, normalizeFingerprint, parseFingerprintWords, shortFingerprint } from '../../src/lib/fingerprint.js';

describe('JIDs', () => {
  it('bare JIDs are lower-case; resources keep their case', () => {
    expect(bareJid('Alice@Example.ORG/Phone')).toBe('alice@example.org');
    expect(resourceOf('Alice@Example.ORG/Phone/2')).toBe('Phone/2');
    expect(resourceOf('alice@example.org')).toBeUndefined();
    expect(bareAsWritten('Alice@Example.ORG/Phone')).toBe('Alice@Example.ORG');
    expect(sameBareJid('ALICE@example.org/a', 'alice@EXAMPLE.org/b')).toBe(true);
    expect(sameFullJid('alice@example.org/Phone', 'ALICE@example.org/phone')).toBe(false);
    expect(sameFullJid('alice@example.org/Phone', 'ALICE@example.org/Phone')).toBe(true);
  });

  it('parses local, domain and resource; refuses empty parts', () => {
    expect(parseJid('Bob@X.org/r')).toEqual({ local: 'bob', domain: 'x.org', resource: 'r' });
    expect(parseJid('muc.x.org')).toEqual({ domain: 'muc.x.org' });
    expect(parseJid('@x.org')).toBeNull();
    expect(parseJid('bob@x.org/')).toBeNull();
    expect(parseJid('bob@')).toBeNull();
    expect(localPart('bob@x.org')).toBe('bob');
  });
});

describe('fingerprints', () => {
  const HEX = 'ab12cd34'.repeat(8);
  it('normalizes any typed shape and groups by 8', () => {
    expect(normalizeFingerprint(`05${HEX.toUpperCase()}`)).toBe(HEX);
    expect(groupFingerprint(HEX.match(/../g)!.join(':'))).toBe(HEX.match(/.{8}/g)!.join(' '));
    expect(groupFingerprint('nope')).toBeNull();
    expect(displayFingerprint(undefined)).toBe('(identity key not known yet)');
    expect(shortFingerprint(HEX)).toBe('ab12cd34');
  });

  it('reads the words of /omemo trust, or says what is wrong', () => {
    expect(parseFingerprintWords(HEX.match(/.{8}/g)!)).toEqual({ hex: HEX });
    expect(parseFingerprintWords([])).toEqual({ error: 'missing fingerprint' });
    expect(parseFingerprintWords(['xyz'])).toEqual({ error: '"xyz" is not a fingerprint (hex digits)' });
    expect(parseFingerprintWords(['abcd'])).toEqual({ error: 'a fingerprint has 64 hex digits, got 4' });
  });
});
