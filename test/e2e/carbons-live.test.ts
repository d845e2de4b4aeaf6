// Live: two xchat profiles on one account (two devices of alice) see each other's sent messages as
// carbons, decrypted (we encrypt for our own other devices), and each stores them in its history.
// One sent while the other was away comes from the archive instead, filed the same way: in the
// chat with the contact, as sent by us, never in a window of our own JID (issue 9, item 8).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { startXchat, type XchatProc } from '../helpers/xchat.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');

describe.skipIf(!canRun)('carbons between own devices (live)', () => {
  let lab: Lab;
  let dirs: string;
  let aliceJid: string;
  let bobJid: string;
  let bob: Peer | undefined;
  const procs: XchatProc[] = [];

  const startAlice = async (name: string): Promise<XchatProc> => {
    const x = startXchat({ profile: join(dirs, name), password: 'alice-pw', caFile: lab.caFile });
    procs.push(x);
    x.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await x.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    return x;
  };

  beforeAll(async () => {
    lab = await startProsody({ name: 'carbons' });
    aliceJid = await lab.register('alice', 'alice-pw');
    bobJid = await lab.register('bob', 'bob-pw');
    dirs = await mkdtemp(join(tmpdir(), 'xchat-carbons-'));
  });

  afterAll(async () => {
    for (const p of procs) await p.end(5000).catch(() => undefined);
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('each device shows and stores what the other sent', async () => {
    bob = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
    const one = await startAlice('one');
    const two = await startAlice('two');
    // One learns two's device from the own device list notification.
    await one.waitFor((e) => e.event === 'device' && e.jid === aliceJid, 20_000, 'own second device');

    one.send(`/msg ${bobJid} from-device-one`);
    await one.waitFor((e) => e.event === 'sent' && e.body === 'from-device-one', 30_000, 'sent one');
    const c1 = await two.waitFor((e) => e.event === 'message' && e.body === 'from-device-one', 30_000, 'carbon at two');
    expect(c1).toMatchObject({ carbon: 'sent', encryption: 'omemo' });
    expect(c1.to.startsWith(bobJid)).toBe(true);

    two.send(`/msg ${bobJid} from-device-two`);
    await two.waitFor((e) => e.event === 'sent' && e.body === 'from-device-two', 30_000, 'sent two');
    const c2 = await one.waitFor((e) => e.event === 'message' && e.body === 'from-device-two', 30_000, 'carbon at one');
    expect(c2).toMatchObject({ carbon: 'sent', encryption: 'omemo' });
    await bob.waitFor((e) => e.event === 'message' && e.body === 'from-device-two', 20_000);

    // Both stored both, in the window with bob.
    for (const x of [one, two]) {
      const before = x.events.length;
      x.send('/history 10');
      await x.waitFor((e) => x.events.indexOf(e) >= before && e.event === 'message' && e.archived && e.body === 'from-device-two', 10_000, 'history');
      const shown = x.events.slice(before).filter((e) => e.event === 'message' && e.archived).map((e) => e.body);
      expect(shown).toEqual(['from-device-one', 'from-device-two']);
    }
    for (const x of [one, two]) expect(x.events.filter((e) => e.event === 'error')).toEqual([]);
  }, 120_000);

  it('our message sent from the other device while this one was away comes from the archive, in the chat with the contact as sent by us', async () => {
    const [one, two] = procs;
    expect(await two.end()).toBe(0);
    one.send(`/msg ${bobJid} sent-while-two-away`);
    await one.waitFor((e) => e.event === 'sent' && e.body === 'sent-while-two-away', 30_000, 'sent while two is away');
    await bob!.waitFor((e) => e.event === 'message' && e.body === 'sent-while-two-away', 20_000); // archived by then

    const again = await startAlice('two');
    const m = await again.waitFor((e) => e.event === 'message' && e.body === 'sent-while-two-away', 60_000, 'own message from the archive');
    expect(m).toMatchObject({ carbon: 'sent', encryption: 'omemo', archived: true });
    expect(String(m.from).startsWith(aliceJid)).toBe(true);
    expect(String(m.to).startsWith(bobJid)).toBe(true);
    // Stored in the window with bob; the window of our own JID has nothing.
    const before = again.events.length;
    again.send(`/msg ${bobJid}`);
    again.send('/history 5');
    await again.waitFor((e) => again.events.indexOf(e) >= before && e.event === 'message' && e.body === 'sent-while-two-away', 10_000, 'history with bob');
    again.send(`/msg ${aliceJid}`);
    again.send('/history 5');
    await again.waitFor((e) => e.event === 'info' && e.message === `no stored messages with ${aliceJid}`, 10_000, 'nothing with our own JID');
    expect(again.events.filter((e) => e.event === 'error')).toEqual([]);
  }, 120_000);
});
