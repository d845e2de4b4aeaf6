// Live: a room member (bob, python-omemo) writes a muc#user <x><item jid='carol@…'/></x> into his
// own messages to pass as carol. xchat must never attribute such a message to carol nor decrypt it
// as carol's — live in a semi-anonymous room (the occupant list has no real JIDs) and from the
// archive of a non-anonymous room (where Prosody keeps the sender's <x> and appends its own).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { startXchat, type XchatProc, type XEvent } from '../helpers/xchat.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');

describe.skipIf(!canRun)('a room member posing as another (live)', () => {
  let lab: Lab;
  let dirs: string;
  let aliceJid: string;
  let bobJid: string;
  const carolJid = 'carol@localhost';
  let alice: XchatProc | undefined;
  let bob: Peer | undefined;

  const startAlice = async (): Promise<XchatProc> => {
    const x = startXchat({ profile: join(dirs, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    x.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await x.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    return x;
  };
  /** Nothing alice saw is attributed to carol or trusted as carol's. */
  const neverCarol = (x: XchatProc) => {
    expect(x.events.filter((e) => JSON.stringify(e).includes('"real_jid":"carol@'))).toEqual([]);
    expect(x.events.filter((e) => (e.event === 'trust' || e.event === 'device') && JSON.stringify(e).includes(carolJid))).toEqual([]);
  };

  beforeAll(async () => {
    lab = await startProsody({ name: 'mucspoof' });
    aliceJid = await lab.register('alice', 'alice-pw');
    bobJid = await lab.register('bob', 'bob-pw');
    await lab.register('carol', 'carol-pw');
    dirs = await mkdtemp(join(tmpdir(), 'xchat-mucspoof-'));
    bob = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
  }, 60_000);

  afterAll(async () => {
    await alice?.end(5000).catch(() => undefined);
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('semi-anonymous room, live: a claimed real JID is ignored, plain and encrypted', async () => {
    const room = 'semi@muc.localhost';
    await bob!.request({ cmd: 'muc_create', room, nick: 'bob' });
    alice = await startAlice();
    const a = alice;
    a.send(`/join ${room} nick alice`);
    await a.waitFor((e) => e.event === 'room' && e.status === 'joined', 20_000, 'joined');

    // Genuine first: shown under bob's nick, with no real JID (the room hides it from a participant).
    await bob!.request({ cmd: 'muc_send', room, body: 'semi-genuine', encrypted: false });
    const genuine = await a.waitFor((e) => e.event === 'message' && e.body === 'semi-genuine', 20_000, 'genuine');
    expect(genuine).toMatchObject({ groupchat: true, nick: 'bob', from: `${room}/bob` });
    expect(genuine.real_jid).toBeUndefined();

    await bob!.request({ cmd: 'muc_send', room, body: 'semi-spoof-plain', encrypted: false, claim_jid: `${carolJid}/phone` });
    const plain = await a.waitFor((e) => e.event === 'message' && e.body === 'semi-spoof-plain', 20_000, 'spoofed plain');
    expect(plain).toMatchObject({ nick: 'bob', from: `${room}/bob` });
    expect(plain.real_jid).toBeUndefined();

    const mark = a.events.length;
    const sent = await bob!.request({ cmd: 'muc_send', room, body: 'semi-spoof-omemo', claim_jid: carolJid, to_jids: [aliceJid] });
    expect(sent.recipients, JSON.stringify(sent)).toEqual([aliceJid]);
    const err = await a.waitFor((e) => e.event === 'error' && e.from === `${room}/bob` && a.events.indexOf(e) >= mark, 20_000, 'refused');
    expect(err).toMatchObject({ reason: 'unknown-sender' });
    expect(err.message).toMatch(/cannot decrypt/);
    // A later genuine message still arrives, so the spoofed one was handled (refused), not lost in transit.
    await bob!.request({ cmd: 'muc_send', room, body: 'semi-after', encrypted: false });
    await a.waitFor((e) => e.event === 'message' && e.body === 'semi-after', 20_000, 'after');
    expect(a.events.filter((e) => e.body === 'semi-spoof-omemo')).toEqual([]);
    neverCarol(a);
    expect(await a.end()).toBe(0);
    alice = undefined;
  }, 180_000);

  it('non-anonymous room, from the archive: a forged <x> never makes a message carol\'s', async () => {
    const room = 'open@muc.localhost';
    alice = await startAlice();
    const a = alice;
    a.send(`/join ${room} nick alice`);
    await a.waitFor((e) => e.event === 'room' && e.status === 'joined' && e.room === room, 20_000, 'joined');
    a.send('/room config members-only on');
    await a.waitFor((e) => e.event === 'info' && e.message === `${room}: members-only on`, 20_000, 'members-only');
    a.send('/room config private');
    await a.waitFor((e) => e.event === 'info' && e.message === `${room}: nonanonymous on`, 20_000, 'non-anonymous');
    for (const j of [bobJid, carolJid]) {
      a.send(`/affiliation set member ${j}`);
      await a.waitFor((e) => e.event === 'info' && e.message === `${room}: ${j} is now member`, 20_000, `member ${j}`);
    }
    await bob!.request({ cmd: 'muc_join', room, nick: 'bob' });
    await a.waitFor((e) => e.event === 'occupant' && e.nick === 'bob' && e.change === 'joined', 20_000, 'bob joined');
    a.send(`/bookmark add ${room}`);
    await a.waitFor((e) => e.event === 'info' && e.message.startsWith(`bookmarked ${room}`), 20_000, 'bookmarked');
    expect(await a.end()).toBe(0);
    alice = undefined;

    // While alice is away: two forged messages and a genuine one, all into the room archive.
    for (const cmd of [
      { body: 'arch-spoof-plain', encrypted: false, claim_jid: carolJid },
      { body: 'arch-spoof-omemo', claim_jid: carolJid },
      { body: 'arch-genuine-omemo' },
    ]) {
      const r = await bob!.request({ cmd: 'muc_send', room, ...cmd });
      expect(r.event, JSON.stringify(r)).toBe('sent');
    }

    alice = await startAlice();
    const b = alice;
    await b.waitFor((e) => e.event === 'room' && e.status === 'joined', 30_000, 'autojoin');
    const genuine = await b.waitFor((e) => e.event === 'message' && e.body === 'arch-genuine-omemo', 30_000, 'genuine from archive');
    expect(genuine).toMatchObject({ archived: true, nick: 'bob', real_jid: bobJid, encryption: 'omemo' });
    const plain = b.events.find((e) => e.event === 'message' && e.body === 'arch-spoof-plain') as XEvent | undefined;
    expect(plain, 'the forged plain message is still shown').toBeDefined();
    expect(plain!.real_jid === undefined || plain!.real_jid === bobJid).toBe(true);
    // The forged encrypted one: either refused with a reason, or (occupant-id known) read as bob's.
    const spoofed = b.events.filter((e) => e.body === 'arch-spoof-omemo');
    const refused = b.events.filter((e) => e.event === 'error' && e.reason === 'unknown-sender');
    expect(spoofed.length + refused.length).toBeGreaterThan(0);
    for (const e of spoofed) expect(e.real_jid).toBe(bobJid);
    neverCarol(b);
  }, 180_000);
});
