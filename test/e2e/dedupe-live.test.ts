// Live: clients that number their messages per session repeat `id`s. Two messages from bob with
// the same id (and different server stanza-ids) are two messages: both shown and stored. A message
// the archive replays after a restart is still shown once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { startXchat, type XchatProc } from '../helpers/xchat.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');

describe.skipIf(!canRun)('de-duplication by server id, not by the sender\'s id (live)', () => {
  let lab: Lab;
  let dirs: string;
  let alice: XchatProc | undefined;
  let bob: Peer | undefined;
  const aliceJid = 'alice@localhost';

  const startAlice = async (): Promise<XchatProc> => {
    const x = startXchat({ profile: join(dirs, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    x.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await x.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    return x;
  };
  const bodies = (x: XchatProc, prefix: string) => x.events.filter((e) => e.event === 'message' && String(e.body).startsWith(prefix)).map((e) => e.body);

  beforeAll(async () => {
    lab = await startProsody({ name: 'dedupe' });
    for (const u of ['alice', 'bob']) await lab.register(u, `${u}-pw`);
    dirs = await mkdtemp(join(tmpdir(), 'xchat-dedupe-'));
    bob = await startPeer({ jid: 'bob@localhost', password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
  }, 60_000);

  afterAll(async () => {
    await alice?.end(5000).catch(() => undefined);
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('two messages with the same id both arrive, encrypted and plain; the archive replays none of them again', async () => {
    alice = await startAlice();
    const a = alice;
    await bob!.request({ cmd: 'send', to: aliceJid, body: 'dup-omemo-1', id: 'msg-1' });
    await a.waitFor((e) => e.event === 'message' && e.body === 'dup-omemo-1', 20_000, 'first');
    await bob!.request({ cmd: 'send', to: aliceJid, body: 'dup-omemo-2', id: 'msg-1' });
    await a.waitFor((e) => e.event === 'message' && e.body === 'dup-omemo-2', 20_000, 'second, same id');
    await bob!.request({ cmd: 'send_plain', to: aliceJid, body: 'dup-plain-1', id: 'p-1' });
    await bob!.request({ cmd: 'send_plain', to: aliceJid, body: 'dup-plain-2', id: 'p-1' });
    await a.waitFor((e) => e.event === 'message' && e.body === 'dup-plain-2', 20_000, 'second plain, same id');
    expect(bodies(a, 'dup-')).toEqual(['dup-omemo-1', 'dup-omemo-2', 'dup-plain-1', 'dup-plain-2']);
    expect(await a.end()).toBe(0);

    // Away: one more with the same id; back: it arrives from the archive, the others do not again.
    await bob!.request({ cmd: 'send', to: aliceJid, body: 'dup-omemo-3', id: 'msg-1' });
    alice = await startAlice();
    const b = alice;
    const caught = await b.waitFor((e) => e.event === 'message' && e.body === 'dup-omemo-3', 30_000, 'from the archive');
    expect(caught.archived).toBe(true);
    await bob!.request({ cmd: 'send_plain', to: aliceJid, body: 'dup-live-after' });
    await b.waitFor((e) => e.event === 'message' && e.body === 'dup-live-after', 20_000, 'live after catch-up');
    expect(bodies(b, 'dup-')).toEqual(['dup-omemo-3', 'dup-live-after']);

    // All five stored once each.
    b.send(`/msg ${'bob@localhost'}`);
    const mark = b.events.length;
    b.send('/history 20');
    await b.waitFor((e) => e.event === 'message' && e.body === 'dup-live-after' && b.events.indexOf(e) >= mark, 20_000, 'history');
    // (Sorted: the archive's delay stamps are to the second, so the order within one second varies.)
    const stored = b.events.slice(mark).filter((e) => e.event === 'message').map((e) => e.body);
    expect(stored.sort()).toEqual(['dup-live-after', 'dup-omemo-1', 'dup-omemo-2', 'dup-omemo-3', 'dup-plain-1', 'dup-plain-2']);
  }, 180_000);
});
