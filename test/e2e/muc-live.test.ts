// Live: group chat with OMEMO. xchat (`xchat run --json`) creates a room, makes it members-only and
// non-anonymous, adds two python-omemo peers as members, and all three exchange encrypted messages;
// OMEMO is refused in rooms that do not show real JIDs to members; a member who was offline reads
// the message from the room's archive; bookmarks round-trip and autojoin on the next connect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer, type PeerEvent } from '../helpers/peer.js';
import { startXchat, type XchatProc, type XEvent } from '../helpers/xchat.js';
import { grepTree } from '../helpers/files.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');

describe.skipIf(!canRun)('group chat with OMEMO over Prosody (live)', () => {
  let lab: Lab;
  let dirs: string;
  let aliceJid: string;
  let bobJid: string;
  let carolJid: string;
  let alice: XchatProc | undefined;
  let bob: Peer | undefined;
  let carol: Peer | undefined;
  const room = 'secret@muc.localhost';

  const startAlice = async (): Promise<XchatProc> => {
    const x = startXchat({ profile: join(dirs, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    x.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await x.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    return x;
  };
  const startMember = (user: 'bob' | 'carol') =>
    startPeer({ jid: `${user}@localhost`, password: `${user}-pw`, lab, stateDir: join(dirs, user) });
  const errorsSince = (x: XchatProc, n: number) => x.events.slice(n).filter((e) => e.event === 'error');
  const peerMsg = (body: string) => (e: PeerEvent) => e.event === 'message' && e.groupchat === true && e.body === body;

  beforeAll(async () => {
    lab = await startProsody({ name: 'muc' });
    aliceJid = await lab.register('alice', 'alice-pw');
    bobJid = await lab.register('bob', 'bob-pw');
    carolJid = await lab.register('carol', 'carol-pw');
    dirs = await mkdtemp(join(tmpdir(), 'xchat-muc-'));
  }, 60_000);

  afterAll(async () => {
    await alice?.end(5000).catch(() => undefined);
    await bob?.stop().catch(() => undefined);
    await carol?.stop().catch(() => undefined);
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('refuses OMEMO in an open room, naming what is missing, then encrypts for all members once private', async () => {
    alice = await startAlice();
    alice.send('/join secret nick alice');
    const joined = await alice.waitFor((e) => e.event === 'room' && e.status === 'joined', 20_000, 'joined');
    expect(joined).toMatchObject({ room, nick: 'alice', created: true });

    // Open (not members-only) and semi-anonymous: members' real JIDs are not guaranteed.
    let mark = alice.events.length;
    alice.send('/omemo start');
    const refused = await alice.waitFor((e) => e.event === 'error' && /OMEMO refused/.test(e.message), 20_000, 'refusal');
    expect(refused.message).toContain('members-only');
    expect(refused.message).toContain('non-anonymous');
    expect(alice.events.slice(mark).some((e) => e.event === 'chat' && e.encryption === 'omemo')).toBe(false);

    // Members-only but still anonymous: only the missing feature is named.
    alice.send('/room config members-only on');
    await alice.waitFor((e) => e.event === 'info' && e.message === `${room}: members-only on`, 20_000, 'members-only');
    mark = alice.events.length;
    alice.send('/omemo start');
    const refused2 = await alice.waitFor((e) => e.event === 'error' && /OMEMO refused/.test(e.message) && alice!.events.indexOf(e) >= mark, 20_000, 'refusal 2');
    expect(refused2.message).toContain('non-anonymous');
    expect(refused2.message).not.toContain('members-only');

    alice.send('/room config private');
    await alice.waitFor((e) => e.event === 'info' && e.message === `${room}: nonanonymous on`, 20_000, 'private');
    alice.send(`/affiliation set member ${bobJid}`);
    alice.send(`/affiliation set member ${carolJid}`);
    await alice.waitFor((e) => e.event === 'info' && e.message === `${room}: ${carolJid} is now member`, 20_000, 'members');
    mark = alice.events.length;
    alice.send('/affiliation list member');
    const list = await alice.waitFor((e) => e.event === 'info' && e.message.startsWith('members:'), 20_000, 'member list');
    expect(list.message).toContain(bobJid);
    expect(list.message).toContain(carolJid);

    bob = await startMember('bob');
    carol = await startMember('carol');
    await bob.request({ cmd: 'muc_join', room, nick: 'bob' });
    await carol.request({ cmd: 'muc_join', room, nick: 'carol' });
    await alice.waitFor((e) => e.event === 'occupant' && e.nick === 'carol' && e.change === 'joined', 20_000, 'carol joined');
    const occ = alice.events.find((e) => e.event === 'occupant' && e.nick === 'bob' && e.change === 'joined')!;
    expect(occ.jid).toBe(bobJid); // non-anonymous: real JIDs shown

    mark = alice.events.length;
    alice.send('/omemo start');
    await alice.waitFor((e) => e.event === 'chat' && e.jid === room && e.encryption === 'omemo', 20_000, 'omemo on');

    // xchat -> both members
    alice.send('room-secret-from-alice');
    const sent = await alice.waitFor((e) => e.event === 'sent' && e.body === 'room-secret-from-alice', 30_000, 'sent');
    expect(sent).toMatchObject({ encryption: 'omemo', groupchat: true, to: room });
    for (const p of [bob, carol]) {
      const got = await p.waitFor(peerMsg('room-secret-from-alice'), 20_000);
      expect(got).toMatchObject({ encrypted: true, from: aliceJid, nick: 'alice', room });
    }
    // Our own reflection is not encrypted for this device: the kept plaintext is shown.
    const own = await alice.waitFor((e) => e.event === 'message' && e.own === true && e.body === 'room-secret-from-alice', 20_000, 'reflection');
    expect(own).toMatchObject({ groupchat: true, encryption: 'omemo', id: sent.id });

    // python members -> xchat and each other, with the sender's real JID and trust on xchat's side
    for (const [p, nick, jid] of [[bob, 'bob', bobJid], [carol, 'carol', carolJid]] as const) {
      const body = `room-secret-from-${nick}`;
      const r = await p.request({ cmd: 'muc_send', room, body });
      expect(r.event, JSON.stringify(r)).toBe('sent');
      expect(r.recipients).toEqual([aliceJid, nick === 'bob' ? carolJid : bobJid].sort());
      const got = await alice.waitFor((e: XEvent) => e.event === 'message' && e.body === body, 20_000, body);
      expect(got).toMatchObject({ groupchat: true, nick, real_jid: jid, from: `${room}/${nick}`, encryption: 'omemo', sender_device: p.ready.device_id });
      expect(['trusted', 'verified']).toContain(got.trust);
      const other = p === bob ? carol : bob;
      const seen = await other.waitFor(peerMsg(body), 20_000);
      expect(seen).toMatchObject({ encrypted: true, from: jid });
    }
    expect(errorsSince(alice, mark)).toEqual([]);
  }, 180_000);

  it('a member who was offline reads the message from the room archive', async () => {
    await carol!.stop();
    carol = undefined;
    const mark = alice!.events.length;
    alice!.send('room-secret-while-carol-away');
    const sent = await alice!.waitFor((e) => e.event === 'sent' && e.body === 'room-secret-while-carol-away', 30_000, 'sent');
    expect(sent.encryption).toBe('omemo');
    await bob!.waitFor(peerMsg('room-secret-while-carol-away'), 20_000);

    carol = await startMember('carol');
    await carol.request({ cmd: 'muc_join', room, nick: 'carol', history: 0 });
    const done = await carol.request({ cmd: 'muc_mam', room }, 30_000);
    expect(done.event).toBe('mam_done');
    const got = carol.events.find((e) => e.event === 'message' && e.archived === true && e.body === 'room-secret-while-carol-away');
    expect(got, JSON.stringify(carol.events.slice(-10))).toMatchObject({ encrypted: true, from: aliceJid });
    expect(errorsSince(alice!, mark)).toEqual([]);

    // The server holds OMEMO elements only, never the room's plaintext.
    for (const s of ['room-secret-from-alice', 'room-secret-from-bob', 'room-secret-while-carol-away']) {
      expect(await grepTree(lab.dir, s), s).toEqual([]);
    }
  }, 120_000);

  it('bookmarks round-trip, and autojoin rejoins the room (still encrypted) on the next connect', async () => {
    const a = alice!;
    a.send(`/bookmark add ${room}`);
    a.send('/bookmark add other@muc.localhost autojoin off nick al');
    await a.waitFor((e) => e.event === 'info' && e.message.startsWith('bookmarked other@'), 20_000, 'bookmarked');
    a.send('/bookmark list');
    const l1 = await a.waitFor((e) => e.event === 'info' && e.message.startsWith('bookmarks:'), 20_000, 'list');
    expect(l1.message).toContain(`${room} nick alice (autojoin)`);
    expect(l1.message).toMatch(/other@muc\.localhost nick al$/m);
    a.send('/bookmark remove other@muc.localhost');
    await a.waitFor((e) => e.event === 'info' && e.message === 'bookmark other@muc.localhost removed', 20_000, 'removed');
    const mark = a.events.length;
    a.send('/bookmark list');
    const l2 = await a.waitFor((e) => e.event === 'info' && e.message.startsWith('bookmarks:') && a.events.indexOf(e) >= mark, 20_000, 'list 2');
    expect(l2.message).not.toContain('other@');

    expect(await a.end()).toBe(0);
    alice = await startAlice();
    const rejoined = await alice.waitFor((e) => e.event === 'room' && e.status === 'joined', 30_000, 'autojoin');
    expect(rejoined).toMatchObject({ room, nick: 'alice', encryption: 'omemo' });
    expect(rejoined.created).toBeUndefined();
    alice.send(`/msg ${room} room-secret-after-autojoin`);
    const sent = await alice.waitFor((e) => e.event === 'sent' && e.body === 'room-secret-after-autojoin', 30_000, 'sent');
    expect(sent.encryption).toBe('omemo');
    await bob!.waitFor(peerMsg('room-secret-after-autojoin'), 20_000);
    // The room's history replayed on rejoin holds messages already read: dropped quietly.
    expect(alice.events.filter((e) => e.event === 'error')).toEqual([]);
  }, 120_000);
});
