// Live: offline catch-up from the server archive (XEP-0313). The python-omemo peer sends 200
// encrypted messages (its first ones open a new session: PreKey messages) while xchat is offline;
// xchat connects, reads the archive, and shows all of them decrypted, in order, once — also after
// another restart. A MAM <result> injected by a contact is rejected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { startXchat, type XchatProc } from '../helpers/xchat.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');
const N = 200;

describe.skipIf(!canRun)('MAM catch-up (live)', () => {
  let lab: Lab;
  let dirs: string;
  let aliceJid: string;
  let bobJid: string;
  let bob: Peer | undefined;
  let alice: XchatProc | undefined;

  const startAlice = async (): Promise<XchatProc> => {
    const x = startXchat({ profile: join(dirs, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    x.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await x.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    return x;
  };
  /** Sends through the serial queue: once 'sent' arrives, the catch-up before it is done. */
  const barrier = async (x: XchatProc, tag: string) => {
    x.send(`/msg ${bobJid} barrier-${tag}`);
    await x.waitFor((e) => e.event === 'sent' && e.body === `barrier-${tag}`, 60_000, `barrier ${tag}`);
  };

  beforeAll(async () => {
    lab = await startProsody({ name: 'mam' });
    aliceJid = await lab.register('alice', 'alice-pw');
    bobJid = await lab.register('bob', 'bob-pw');
    dirs = await mkdtemp(join(tmpdir(), 'xchat-mam-'));
  });

  afterAll(async () => {
    await alice?.end(5000).catch(() => undefined);
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('catches up 200 encrypted messages sent while offline (new session included), in order, once', async () => {
    bob = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
    // A fresh profile: publishes its device and bundle, then goes away.
    alice = await startAlice();
    expect(await alice.end()).toBe(0);
    alice = undefined;

    for (let i = 0; i < N; i++) {
      const r = await bob.request({ cmd: 'send', to: aliceJid, body: `catch-${i}` }, 30_000);
      expect(r.event, JSON.stringify(r)).toBe('sent');
      if (i === 0) expect((r.prekey_rids as number[]).length).toBe(1); // a new session: PreKey message
    }

    alice = await startAlice();
    await alice.waitFor((e) => e.event === 'info' && /200 messages from bob@/.test(e.message), 120_000, 'away summary');
    const got = alice.events.filter((e) => e.event === 'message' && /^catch-\d+$/.test(e.body));
    expect(got.map((e) => e.body)).toEqual(Array.from({ length: N }, (_, i) => `catch-${i}`));
    for (const e of got) expect(e).toMatchObject({ encryption: 'omemo', archived: true, sender_device: bob.ready.device_id });
    expect(alice.events.filter((e) => e.event === 'error')).toEqual([]);
    // The new session is completed by one empty message once catch-up ended (not one per message).
    await bob.waitFor((e) => e.event === 'empty' && String(e.from).startsWith(aliceJid), 30_000);
    await barrier(alice, 'one');
    expect(bob.events.filter((e) => e.event === 'empty').length).toBe(1);
    // Stored: /history shows them without the server.
    alice.send('/msg ' + bobJid);
    alice.send('/history 3');
    await alice.waitFor((e) => e.event === 'message' && e.body === `catch-${N - 1}` && alice!.events.indexOf(e) > alice!.events.findIndex((x) => x.event === 'sent'), 10_000, 'history');
    expect(await alice.end()).toBe(0);

    // Restart: nothing is shown twice, and the session still works both ways.
    alice = await startAlice();
    await barrier(alice, 'two');
    expect(alice.events.filter((e) => e.event === 'message' && /^catch-/.test(e.body))).toEqual([]);
    await bob.request({ cmd: 'send', to: aliceJid, body: 'after-catch-up' });
    const live = await alice.waitFor((e) => e.event === 'message' && e.body === 'after-catch-up', 30_000, 'live message');
    expect(live.archived).toBeUndefined();
    await bob.waitFor((e) => e.event === 'message' && e.body === 'barrier-two', 30_000);
    expect(alice.events.filter((e) => e.event === 'error')).toEqual([]);
  }, 400_000);

  it('rejects an archive result injected by a contact, naming the sender', async () => {
    alice ??= await startAlice();
    const xmlText =
      `<message to='${aliceJid}' type='chat'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='fake-1'>` +
      `<forwarded xmlns='urn:xmpp:forward:0'><message from='carol@localhost/x' to='${aliceJid}' type='chat'>` +
      `<body>spoofed-archive-body</body></message></forwarded></result></message>`;
    await bob!.request({ cmd: 'send_raw', xml: xmlText });
    const err = await alice.waitFor((e) => e.event === 'error' && /MAM/.test(e.message), 20_000, 'spoof error');
    expect(String(err.from).startsWith(bobJid)).toBe(true);
    await barrier(alice, 'three');
    expect(alice.events.filter((e) => e.event === 'message' && e.body === 'spoofed-archive-body')).toEqual([]);
  }, 60_000);
});
