// SCRAM as RFC 5802 (SHA-1) and RFC 7677 (SHA-256) specify it, checked with their published
// exchanges; the server's proof is verified; weak or broken server messages are refused.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { xml } from '@xmpp/client';
import { chooseScram, mechanismFor, useScram, type ScramState } from '../../src/xmpp/scram.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function exchange(hash: 'sha1' | 'sha256', cnonce: string, serverFirst: string) {
  const state: ScramState = {};
  const Mech = mechanismFor(hash, state, () => cnonce);
  const m = new Mech();
  const first = await m.response({ username: 'user', password: 'pencil' });
  m.challenge(serverFirst);
  const final = await m.response({ username: 'user', password: 'pencil' });
  return { first, final, serverSignature: state.serverSignature?.toString('base64') };
}

describe('SCRAM', () => {
  it('RFC 5802 SCRAM-SHA-1 example', async () => {
    const r = await exchange('sha1', 'fyko+d2lbbFgONRv9qkxdawL', 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    expect(r.first).toBe('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    expect(r.final).toBe('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
    expect(r.serverSignature).toBe('rmF9pqV8S7suAoZWja4dJRkFsKQ=');
  });

  it('RFC 7677 SCRAM-SHA-256 example', async () => {
    const r = await exchange('sha256', 'rOprNGfwEbeRWgbNEkqO', 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    expect(r.final).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(r.serverSignature).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('prefers SCRAM-SHA-256, then SCRAM-SHA-1; PLAIN never', () => {
    expect(chooseScram(['SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN'])).toBe('SCRAM-SHA-256');
    expect(chooseScram(['PLAIN', 'SCRAM-SHA-1'])).toBe('XCHAT-SCRAM-SHA-1');
    expect(chooseScram(['PLAIN'])).toBeUndefined();
  });

  it('refuses too few iterations and a nonce that does not extend ours', async () => {
    await expect(exchange('sha256', 'abc', 'r=abcdef,s=c2FsdA==,i=1000')).rejects.toThrow(/iteration count 1000 refused/);
    await expect(exchange('sha256', 'abc', 'r=xyz123,s=c2FsdA==,i=4096')).rejects.toThrow(/nonce does not extend ours/);
  });

  it('a server that cannot prove it knows the password aborts the login', async () => {
    const client = Object.assign(new EventEmitter(), {
      mechs: new Map<string, new () => { response(c: object): Promise<string>; challenge(s: string): unknown }>(),
      saslFactory: { use(name: string, mech: never) { client.mechs.set(name, mech); } },
    });
    const failures: Error[] = [];
    useScram(client as never, (e) => failures.push(e), () => 'fyko+d2lbbFgONRv9qkxdawL');
    const m = new (client.mechs.get('XCHAT-SCRAM-SHA-1')!)();
    await m.response({ username: 'user', password: 'pencil' });
    m.challenge('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    await m.response({ username: 'user', password: 'pencil' });
    const success = (v: string) => xml('success', { xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl' }, b64(`v=${v}`));
    client.emit('element', success('rmF9pqV8S7suAoZWja4dJRkFsKQ='));
    expect(failures).toEqual([]);
    client.emit('element', success(b64('forged signature!!!!')));
    expect(failures.map((e) => e.message)).toEqual([expect.stringMatching(/server signature mismatch/)]);
  });
});
