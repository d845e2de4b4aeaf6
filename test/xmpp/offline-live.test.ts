// Live: a client that reads its archive itself (readsArchive) asks the archive before its initial
// presence, so Prosody does not push the offline copies of archived messages as well — they come
// once, from the archive. Without it the same messages arrive pushed, as for any other client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { startProsody, type Lab } from '../lab/prosody.js';
import { XmppSession } from '../../src/xmpp/index.js';

describe('offline messages and the archive (live)', () => {
  let lab: Lab;
  let ca: string;
  const sessions: XmppSession[] = [];

  beforeAll(async () => {
    lab = await startProsody({ name: 'offline' });
    ca = readFileSync(lab.caFile, 'utf8');
    for (const u of ['alice', 'bob', 'carol']) await lab.register(u, `pw-${u}`);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.disconnect().catch(() => undefined)));
    await lab?.stop();
  });

  async function login(user: string, readsArchive: boolean) {
    const s = new XmppSession();
    const bodies: string[] = [];
    s.on('error', () => undefined);
    s.on('message', (m) => void (m.body && bodies.push(m.body)));
    sessions.push(s);
    await s.connect({ jid: `${user}@localhost`, password: `pw-${user}`, server: lab.host, port: lab.c2sPort, ca, readsArchive });
    return { s, bodies };
  }

  it('pushed to a plain client; not pushed to one that reads the archive, where they are', async () => {
    const alice = await login('alice', false);
    await alice.s.messages.sendChat('bob@localhost', 'while bob was away');
    await alice.s.messages.sendChat('carol@localhost', 'while carol was away');
    await new Promise((r) => setTimeout(r, 500)); // stored offline and archived by now
    const bob = await login('bob', false);
    const carol = await login('carol', true);
    await new Promise((r) => setTimeout(r, 1500)); // a pushed copy would be here by now
    expect(bob.bodies).toEqual(['while bob was away']);
    expect(carol.bodies).toEqual([]);
    const page = await carol.s.mam.query({ max: 10 });
    expect(page.messages.map((m) => m.body)).toContain('while carol was away');
  });
});
