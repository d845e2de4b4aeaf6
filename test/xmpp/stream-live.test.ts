// The stream layer under stress a network or a server causes: a UTF-8 character split across
// socket reads, a server without STARTTLS (tls disable / allow / force), and sending after the
// server vanished.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { client as xmppClient, xml } from '@xmpp/client';
import { startProsody, type Lab } from '../lab/prosody.js';
import { XmppSession, XmppError, type IncomingMessage } from '../../src/xmpp/index.js';
import { decodeUtf8AcrossReads } from '../../src/xmpp/connection.js';

describe('UTF-8 across socket reads', () => {
  it('a character split between two reads reaches the parser whole', () => {
    const c = xmppClient({ service: 'xmpp://127.0.0.1:1', domain: 'localhost' });
    decodeUtf8AcrossReads(c);
    const written: string[] = [];
    const internals = c as unknown as { parser: { write(s: string): void }; _onData(d: Buffer): void };
    internals.parser = { write: (s: string) => void written.push(s) };
    const bytes = Buffer.from('a€b😀c', 'utf8');
    for (let i = 0; i < bytes.length; i++) internals._onData(bytes.subarray(i, i + 1)); // worst case: byte by byte
    expect(written.join('')).toBe('a€b😀c');
  });
});

describe('live: big non-ASCII bodies, servers without TLS, a server that vanishes', () => {
  let lab: Lab;
  let clear: Lab;
  let ca: string;
  const sessions: XmppSession[] = [];
  const session = (): XmppSession => {
    const s = new XmppSession();
    s.on('error', () => undefined);
    sessions.push(s);
    return s;
  };

  beforeAll(async () => {
    [lab, clear] = await Promise.all([startProsody({ name: 'stream' }), startProsody({ name: 'stream-notls', noTls: true })]);
    ca = readFileSync(lab.caFile, 'utf8');
    for (const l of [lab, clear]) for (const u of ['alice', 'bob']) await l.register(u, `pw-${u}`);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.disconnect().catch(() => undefined)));
    await Promise.all([lab?.stop(), clear?.stop()]);
  });

  it('180 KB of € over TLS arrives intact', async () => {
    const alice = session();
    const bob = session();
    await alice.connect({ jid: 'alice@localhost', password: 'pw-alice', server: lab.host, port: lab.c2sPort, ca });
    await bob.connect({ jid: 'bob@localhost', password: 'pw-bob', server: lab.host, port: lab.c2sPort, ca });
    const body = '€'.repeat(60_000) + '😀'.repeat(1000);
    const got = new Promise<IncomingMessage>((resolve) => alice.on('message', (m) => m.body?.startsWith('€') && resolve(m)));
    await bob.send(xml('message', { to: 'alice@localhost', type: 'chat' }, xml('body', {}, body)));
    const m = await got;
    expect(m.body!.length).toBe(body.length);
    expect(m.body!.includes('\uFFFD')).toBe(false);
    expect(m.body).toBe(body);
  }, 60_000);

  for (const mode of ['disable', 'allow'] as const) {
    it(`tls ${mode} against a server without STARTTLS: warns first, then logs in`, async () => {
      const s = session();
      const order: string[] = [];
      s.on('warning', (w) => order.push(`warning: ${w.message}`));
      s.on('online', () => order.push('online'));
      await s.connect({ jid: 'alice@localhost', password: 'pw-alice', server: clear.host, port: clear.c2sPort, tls: mode, resource: `clear-${mode}` });
      expect(s.isOnline).toBe(true);
      expect(order).toHaveLength(2);
      expect(order[0]).toMatch(/^warning: logging in to 127\.0\.0\.1 WITHOUT TLS/);
      expect(order[1]).toBe('online');
      // Really logged in: a message to ourselves comes back.
      const echo = new Promise<IncomingMessage>((resolve) => s.on('message', (m) => m.body === `clear-${mode}` && resolve(m)));
      await s.send(xml('message', { to: s.jid, type: 'chat' }, xml('body', {}, `clear-${mode}`)));
      expect((await echo).body).toBe(`clear-${mode}`);
    }, 30_000);
  }

  it('tls force against a server without STARTTLS refuses before authenticating', async () => {
    const s = session();
    const warnings: string[] = [];
    s.on('warning', (w) => warnings.push(w.message));
    await expect(s.connect({ jid: 'alice@localhost', password: 'pw-alice', server: clear.host, port: clear.c2sPort, tls: 'force', timeoutMs: 5000 })).rejects.toMatchObject({
      condition: 'tls-unavailable',
    });
    expect(warnings).toEqual([]);
    expect(s.isOnline).toBe(false);
  }, 30_000);

  it('sending after the server vanished says "not connected", never a TypeError', async () => {
    const gone = await startProsody({ name: 'stream-gone' });
    await gone.register('bob', 'pw-bob');
    const s = session();
    const offline = new Promise<void>((resolve) => s.on('offline', () => resolve()));
    await s.connect({ jid: 'bob@localhost', password: 'pw-bob', server: gone.host, port: gone.c2sPort, ca: readFileSync(gone.caFile, 'utf8') });
    expect(s.isOnline).toBe(true);
    await gone.stop();
    await offline;
    const err = await s.send(xml('message', { to: 'alice@localhost', type: 'chat' }, xml('body', {}, 'x'))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(XmppError);
    expect((err as Error).message).toBe('not connected');
  }, 30_000);
});
