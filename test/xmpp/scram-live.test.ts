// SCRAM against Prosody's real offer: the mechanism chosen from what it offers, channel binding
// (tls-unique on TLS 1.2, checked by the server), and salted keys cached between logins — used
// without PBKDF2 next time, dropped and recomputed when the server refuses them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { startProsody, type Lab } from '../lab/prosody.js';
import { XmppSession } from '../../src/xmpp/index.js';
import type { ScramKeyCache, ScramKeys } from '../../src/xmpp/scram.js';

class MapCache implements ScramKeyCache {
  readonly map = new Map<string, ScramKeys>();
  get(id: string) {
    return this.map.get(id);
  }
  set(id: string, keys: ScramKeys) {
    this.map.set(id, keys);
  }
  delete(id: string) {
    this.map.delete(id);
  }
}

describe('SCRAM against Prosody (live)', () => {
  let modern: Lab; // SCRAM-SHA-256, TLS 1.2 only: Prosody offers -PLUS with tls-unique
  let legacy: Lab; // SCRAM-SHA-1 (Prosody's default), TLS 1.3: no -PLUS offered
  const sessions: XmppSession[] = [];

  beforeAll(async () => {
    [modern, legacy] = await Promise.all([
      startProsody({ name: 'scram-256', passwordHash: 'SHA-256', tls12: true }),
      startProsody({ name: 'scram-1' }),
    ]);
    await Promise.all([modern.register('alice', 'alice-pw'), legacy.register('alice', 'alice-pw')]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.disconnect().catch(() => undefined)));
    await Promise.all([modern?.stop(), legacy?.stop()]);
  });

  const login = async (lab: Lab, password: string, cache?: ScramKeyCache) => {
    const s = new XmppSession();
    s.on('error', () => undefined);
    sessions.push(s);
    await s.connect({ jid: 'alice@localhost', password, server: lab.host, port: lab.c2sPort, ca: readFileSync(lab.caFile, 'utf8'), ...(cache ? { scramKeys: cache } : {}) });
    const security = s.security;
    await s.disconnect();
    return security;
  };

  it('binds to the TLS 1.2 channel with SCRAM-SHA-256-PLUS (tls-unique) when Prosody offers it', async () => {
    const sec = await login(modern, 'alice-pw');
    expect(sec.offered).toEqual(expect.arrayContaining(['SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS']));
    expect(sec).toMatchObject({ tls: 'TLSv1.2', mechanism: 'SCRAM-SHA-256-PLUS', channelBinding: 'tls-unique' });
  });

  it('on TLS 1.3 against SCRAM-SHA-1 only: SCRAM-SHA-1, no binding offered, none claimed', async () => {
    const sec = await login(legacy, 'alice-pw');
    expect(sec.offered).toContain('SCRAM-SHA-1');
    expect(sec.offered).not.toContain('SCRAM-SHA-1-PLUS');
    expect(sec).toMatchObject({ tls: 'TLSv1.3', mechanism: 'SCRAM-SHA-1' });
    expect(sec.channelBinding).toBeUndefined();
  });

  it('caches the salted keys after the server proved itself, and logs in from them without the password', async () => {
    const cache = new MapCache();
    expect(await login(modern, 'alice-pw', cache)).toMatchObject({ cachedKeys: false });
    expect([...cache.map.keys()]).toEqual([expect.stringMatching(/^alice@localhost sha256 \d+ \S+$/)]);
    const [keys] = [...cache.map.values()];
    expect(keys.clientKey).toHaveLength(32);
    // Only the cached keys can make this login work: the password given is wrong.
    expect(await login(modern, 'not-the-password', cache)).toMatchObject({ cachedKeys: true, mechanism: 'SCRAM-SHA-256-PLUS' });
    // A wrong password without usable keys is still refused, and nothing is cached for it.
    const empty = new MapCache();
    await expect(login(modern, 'not-the-password', empty)).rejects.toThrow(/authentication failed/);
    expect(empty.map.size).toBe(0);
  });

  it('cached keys the server refuses are dropped; the login goes on with the password and caches the right ones', async () => {
    const cache = new MapCache();
    await login(modern, 'alice-pw', cache);
    const [[id, good]] = [...cache.map.entries()];
    const stale = { clientKey: Buffer.alloc(32, 7), serverKey: Buffer.alloc(32, 9) };
    cache.set(id, stale);
    expect(await login(modern, 'alice-pw', cache)).toMatchObject({ cachedKeys: false });
    expect(cache.map.get(id)?.clientKey.equals(good.clientKey)).toBe(true);
  });
});
