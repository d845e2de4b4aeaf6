import { describe, expect, it } from 'vitest';
import { buildOmemoUri, parseOmemoUri } from '../../src/omemo/uri.js';
import { isOmemoError } from '../../src/omemo/errors.js';

const A = 'a1'.repeat(32);
const B = '0f'.repeat(32);

describe('OMEMO URI', () => {
  it('builds Conversations\' format: lower-case 64 hex, no separators, ; between pairs', () => {
    expect(buildOmemoUri('alice@example.org', [{ deviceId: 1234, fingerprint: A.toUpperCase() }, { deviceId: 99, fingerprint: B.match(/.{8}/g)!.join(' ') }])).toBe(
      `xmpp:alice@example.org?omemo-sid-1234=${A};omemo-sid-99=${B}`,
    );
    expect(buildOmemoUri('alice@example.org', [])).toBe('xmpp:alice@example.org');
    expect(() => buildOmemoUri('a@b', [{ deviceId: 1, fingerprint: 'xyz' }])).toThrow(/fingerprint/);
    expect(() => buildOmemoUri('a@b', [{ deviceId: 0, fingerprint: A }])).toThrow(/device id/);
  });

  it('round-trips', () => {
    const devices = [{ deviceId: 1, fingerprint: A }, { deviceId: 2147483647, fingerprint: B }];
    expect(parseOmemoUri(buildOmemoUri('bob@x.org', devices))).toEqual({ jid: 'bob@x.org', devices, ignored: [] });
  });

  it('accepts any case in keys, values and the JID, and both ; and & as separators', () => {
    const r = parseOmemoUri(`XMPP:Bob@X.Org?OMEMO-SID-7=${A.toUpperCase()}&omemo-sid-8=05${B};Omemo-Sid-9=${B.match(/.{8}/g)!.join('%20')}`);
    expect(r.jid).toBe('bob@x.org');
    expect(r.devices).toEqual([
      { deviceId: 7, fingerprint: A },
      { deviceId: 8, fingerprint: B },
      { deviceId: 9, fingerprint: B },
    ]);
    expect(r.ignored).toEqual([]);
  });

  it('reports junk parts instead of failing, and keeps the good pairs', () => {
    const r = parseOmemoUri(`xmpp:bob@x.org/phone?message;body=hi;omemo-sid-0=${A};omemo-sid-12=zz;omemo-sid-abc=${A};omemo-sid-5=${A};;`);
    expect(r.jid).toBe('bob@x.org');
    expect(r.devices).toEqual([{ deviceId: 5, fingerprint: A }]);
    expect(r.ignored.map((i) => i.part)).toEqual(['message', 'body=hi', `omemo-sid-0=${A}`, 'omemo-sid-12=zz', `omemo-sid-abc=${A}`]);
    expect(r.ignored[2].reason).toMatch(/device id/);
    expect(r.ignored[3].reason).toMatch(/64 hex/);
  });

  it('drops a device listed twice with different fingerprints, keeps an exact repeat once', () => {
    const r = parseOmemoUri(`xmpp:b@x?omemo-sid-3=${A};omemo-sid-3=${B};omemo-sid-3=${A};omemo-sid-4=${B};omemo-sid-4=${B}`);
    expect(r.devices).toEqual([{ deviceId: 4, fingerprint: B }]);
    expect(r.ignored.every((i) => /listed twice/.test(i.reason))).toBe(true);
  });

  it('rejects text that is not an xmpp: URI with a JID', () => {
    for (const bad of ['', 'https://x.org', 'bob@x.org', 'xmpp:?omemo-sid-1=' + A, 'xmpp:x.org?omemo-sid-1=' + A, 'xmpp:a b@c']) {
      let err: unknown;
      try {
        parseOmemoUri(bad);
      } catch (e) {
        err = e;
      }
      expect(isOmemoError(err, 'invalid-input'), bad).toBe(true);
    }
  });
});
