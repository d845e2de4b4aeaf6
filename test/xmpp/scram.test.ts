// SCRAM as RFC 5802 (SHA-1) and RFC 7677 (SHA-256) specify it, checked with their published
// exchanges; the server's proof is verified; weak or broken server messages are refused.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { xml } from '@xmpp/client';
import { createServer, connect, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { announcedBindings, channelBindingOf, chooseScram, gs2Header, mechanismFor, useScram, type ScramState } from '../../src/xmpp/scram.js';

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

  it('prefers channel binding, then SCRAM-SHA-256, then SCRAM-SHA-1; PLAIN never', () => {
    const unique = { type: 'tls-unique' as const, data: Buffer.alloc(12) };
    expect(chooseScram(['SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN'])).toBe('SCRAM-SHA-256');
    expect(chooseScram(['PLAIN', 'SCRAM-SHA-1'])).toBe('XCHAT-SCRAM-SHA-1');
    expect(chooseScram(['PLAIN'])).toBeUndefined();
    const all = ['SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'];
    expect(chooseScram(all, unique)).toBe('SCRAM-SHA-256-PLUS');
    expect(chooseScram(['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256'], unique)).toBe('SCRAM-SHA-1-PLUS');
    // Without a channel to bind to (no TLS), -PLUS is never chosen.
    expect(chooseScram(all)).toBe('SCRAM-SHA-256');
    // XEP-0440: a server that lists its binding types is taken at its word.
    expect(chooseScram(all, unique, new Set(['tls-exporter']))).toBe('SCRAM-SHA-256');
    expect(chooseScram(all, unique, new Set(['tls-unique', 'tls-exporter']))).toBe('SCRAM-SHA-256-PLUS');
  });

  it('GS2 header: p=TYPE when binding, y when we could but the server offered no -PLUS, n without TLS', () => {
    const exporter = { type: 'tls-exporter' as const, data: Buffer.alloc(32) };
    expect(gs2Header(true, exporter)).toBe('p=tls-exporter,,');
    expect(gs2Header(false, exporter)).toBe('y,,');
    expect(gs2Header(false, undefined)).toBe('n,,');
    expect(() => gs2Header(true, undefined)).toThrow(/offers no binding/);
  });

  it('-PLUS sends the binding data inside c= (RFC 5802 vector with a known binding)', async () => {
    const state: ScramState = {};
    const data = Buffer.from('0123456789ab');
    const Mech = mechanismFor('sha1', state, () => 'fyko+d2lbbFgONRv9qkxdawL', { plus: true, binding: () => ({ type: 'tls-unique', data }) });
    const m = new Mech();
    expect(await m.response({ username: 'user', password: 'pencil' })).toBe('p=tls-unique,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    m.challenge('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    const final = await m.response({ username: 'user', password: 'pencil' });
    const c = /^c=([^,]+),/.exec(final)![1];
    expect(Buffer.from(c, 'base64')).toEqual(Buffer.concat([Buffer.from('p=tls-unique,,'), data]));
    expect(state).toMatchObject({ mechanism: 'SCRAM-SHA-1-PLUS', binding: 'tls-unique', fromCache: false });
  });

  it('reads XEP-0440 channel binding types from stream features', () => {
    const features = xml('stream:features', {}, xml('sasl-channel-binding', { xmlns: 'urn:xmpp:sasl-cb:0' }, xml('channel-binding', { type: 'tls-exporter' }), xml('channel-binding', { type: 'tls-server-end-point' })));
    expect([...announcedBindings(features)!]).toEqual(['tls-exporter', 'tls-server-end-point']);
    expect(announcedBindings(xml('stream:features'))).toBeUndefined();
  });

  it('the binding we compute is what the server side of the same TLS session computes (1.3: exporter, 1.2: tls-unique)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xchat-cb-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
    const pair = async (version: 'TLSv1.2' | 'TLSv1.3') => {
      let serverSide!: TLSSocket;
      const server = createServer({ key: readFileSync(join(dir, 'k')), cert: readFileSync(join(dir, 'c')), minVersion: version, maxVersion: version }, (s) => {
        serverSide = s;
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const client = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1', rejectUnauthorized: false });
      await new Promise<void>((r) => client.once('secureConnect', () => r()));
      while (!serverSide) await new Promise((r) => setTimeout(r, 5));
      const ours = channelBindingOf(client)!;
      const theirs = version === 'TLSv1.3' ? serverSide.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)) : serverSide.getPeerFinished()!;
      client.destroy();
      server.close();
      return { ours, theirs };
    };
    const t13 = await pair('TLSv1.3');
    expect(t13.ours.type).toBe('tls-exporter');
    expect(t13.ours.data.equals(t13.theirs)).toBe(true);
    const t12 = await pair('TLSv1.2');
    expect(t12.ours.type).toBe('tls-unique');
    expect(t12.ours.data.length).toBe(12);
    expect(t12.ours.data.equals(t12.theirs)).toBe(true);
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
    useScram(client as never, (e) => failures.push(e), {}, () => 'fyko+d2lbbFgONRv9qkxdawL');
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
