// Live: local history of group chats. xchat stores room messages once in the room's window, keeps
// the plaintext of its own encrypted room messages across a restart, catches up from the room's
// archive (XEP-0313 to the room JID) after being offline, and a retraction leaves /search.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer, type PeerEvent } from '../helpers/peer.js';
import { startXchat, type XchatProc, type XEvent } from '../helpers/xchat.js';
import { searchHead } from '../../src/ui/search-text.js';
import type { XchatEvent } from '../../src/core/api.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');

describe.skipIf(!canRun)('group chat history and room archive catch-up (live)', () => {
  let lab: Lab;
  let dirs: string;
  let aliceJid: string;
  let bobJid: string;
  let alice: XchatProc | undefined;
  let bob: Peer | undefined;
  const room = 'archived@muc.localhost';

  const startAlice = async (): Promise<XchatProc> => {
    const x = startXchat({ profile: join(dirs, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    x.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await x.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    return x;
  };
  const peerMsg = (body: string) => (e: PeerEvent) => e.event === 'message' && e.groupchat === true && e.body === body;
  const since = (x: XchatProc, n: number) => x.events.slice(n);
  /** Runs a command and returns the events up to the info line `done` matches. */
  const ask = async (x: XchatProc, line: string, done: (e: XEvent) => boolean, what: string): Promise<XEvent[]> => {
    const mark = x.events.length;
    x.send(line);
    await x.waitFor((e) => done(e) && x.events.indexOf(e) >= mark, 20_000, what);
    return since(x, mark);
  };
  /** /search ARGS: its one 'search' event, the hits and the head line a reader sees. */
  const search = async (x: XchatProc, args: string, text: string): Promise<{ info: string; bodies: XEvent[] }> => {
    const mark = x.events.length;
    x.send(`/search ${args}`);
    const e = await x.waitFor((ev) => ev.event === 'search' && ev.text === text && x.events.indexOf(ev) >= mark, 20_000, `search ${text}`);
    const found = e as Extract<XchatEvent, { event: 'search' }>;
    return { info: searchHead(found), bodies: found.hits };
  };

  beforeAll(async () => {
    lab = await startProsody({ name: 'muchist' });
    aliceJid = await lab.register('alice', 'alice-pw');
    bobJid = await lab.register('bob', 'bob-pw');
    dirs = await mkdtemp(join(tmpdir(), 'xchat-muchist-'));
  }, 60_000);

  afterAll(async () => {
    await alice?.end(5000).catch(() => undefined);
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('stores room messages once in the room window; /search finds them', async () => {
    alice = await startAlice();
    const a = alice;
    a.send('/join archived nick alice');
    await a.waitFor((e) => e.event === 'room' && e.status === 'joined', 20_000, 'joined');
    a.send('/room config members-only on');
    await a.waitFor((e) => e.event === 'info' && e.message === `${room}: members-only on`, 20_000, 'members-only');
    a.send('/room config private');
    await a.waitFor((e) => e.event === 'info' && e.message === `${room}: nonanonymous on`, 20_000, 'private');
    a.send(`/affiliation set member ${bobJid}`);
    await a.waitFor((e) => e.event === 'info' && e.message === `${room}: ${bobJid} is now member`, 20_000, 'member');
    bob = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
    await bob.request({ cmd: 'muc_join', room, nick: 'bob' });
    await a.waitFor((e) => e.event === 'occupant' && e.nick === 'bob' && e.change === 'joined', 20_000, 'bob joined');
    a.send('/omemo start');
    await a.waitFor((e) => e.event === 'chat' && e.jid === room && e.encryption === 'omemo', 20_000, 'omemo on');

    a.send('own-room-words-before-restart');
    const sent = await a.waitFor((e) => e.event === 'sent' && e.body === 'own-room-words-before-restart', 30_000, 'sent');
    expect(sent).toMatchObject({ encryption: 'omemo', groupchat: true });
    await bob.waitFor(peerMsg('own-room-words-before-restart'), 20_000);
    await a.waitFor((e) => e.event === 'message' && e.own === true && e.body === 'own-room-words-before-restart', 20_000, 'reflection');

    const r = await bob.request({ cmd: 'muc_send', room, body: 'bob-live-room-words' });
    expect(r.event, JSON.stringify(r)).toBe('sent');
    await a.waitFor((e) => e.event === 'message' && e.body === 'bob-live-room-words', 20_000, 'bob live');

    // /search in the room window: each message once (the reflection did not add a second copy).
    const found = await search(a, 'room-words', 'room-words');
    expect(found.info).toContain(`2 stored messages with "room-words" in ${room}`);
    expect(found.bodies.map((e) => e.body)).toEqual(['own-room-words-before-restart', 'bob-live-room-words']);
    expect(found.bodies[1]).toMatchObject({ groupchat: true, nick: 'bob', from: `${room}/bob` });
    const hist = await ask(a, '/history 10', (e) => e.event === 'message' && e.body === 'bob-live-room-words', 'history');
    expect(hist.filter((e) => e.event === 'message')).toMatchObject([
      { body: 'own-room-words-before-restart', groupchat: true, own: true, archived: true },
      { body: 'bob-live-room-words', groupchat: true, nick: 'bob', archived: true },
    ]);
    expect(a.events.filter((e) => e.event === 'error')).toEqual([]);
  }, 180_000);

  it('after a restart: the message sent while away comes from the room archive once, our own message keeps its plaintext', async () => {
    const a = alice!;
    a.send(`/bookmark add ${room}`);
    await a.waitFor((e) => e.event === 'info' && e.message.startsWith(`bookmarked ${room}`), 20_000, 'bookmarked');
    expect(await a.end()).toBe(0);
    alice = undefined;

    const r = await bob!.request({ cmd: 'muc_send', room, body: 'bob-while-alice-away' });
    expect(r.event, JSON.stringify(r)).toBe('sent');

    alice = await startAlice();
    const b = alice;
    await b.waitFor((e) => e.event === 'room' && e.status === 'joined', 30_000, 'autojoin');
    const got = await b.waitFor((e) => e.event === 'message' && e.body === 'bob-while-alice-away', 30_000, 'from the room archive');
    expect(got).toMatchObject({ groupchat: true, archived: true, nick: 'bob', real_jid: bobJid, encryption: 'omemo' });
    // A live message after the catch-up is not marked archived, and nothing came twice.
    await bob!.request({ cmd: 'muc_send', room, body: 'bob-after-rejoin' });
    const live = await b.waitFor((e) => e.event === 'message' && e.body === 'bob-after-rejoin', 20_000, 'live after rejoin');
    expect(live.archived).toBeUndefined();
    const bodies = b.events.filter((e) => e.event === 'message').map((e) => e.body);
    expect(bodies.filter((x) => x === 'bob-while-alice-away')).toHaveLength(1);
    expect(bodies.filter((x) => x === 'bob-live-room-words')).toHaveLength(0);

    // Our own encrypted message from before the restart, with its plaintext, in the room window.
    await ask(b, `/msg ${room}`, (e) => e.event === 'chat' && e.jid === room, 'room window');
    const hist = await ask(b, '/history 10', (e) => e.event === 'message' && e.body === 'bob-after-rejoin', 'history');
    // (Order not asserted: the room stamps its delays to the second, and this runs faster.)
    const rows = hist.filter((e) => e.event === 'message').map((e) => `${e.body} ${e.own ?? false}`);
    expect(rows.sort()).toEqual([
      'bob-after-rejoin false',
      'bob-live-room-words false',
      'bob-while-alice-away false',
      'own-room-words-before-restart true',
    ]);
    expect(b.events.filter((e) => e.event === 'error')).toEqual([]);
  }, 180_000);

  it('a retracted message is gone from /search', async () => {
    const a = alice!;
    a.send(`/msg ${bobJid} retract-me-secret-words`);
    await a.waitFor((e) => e.event === 'sent' && e.body === 'retract-me-secret-words', 30_000, 'sent');
    await bob!.waitFor((e) => e.event === 'message' && e.body === 'retract-me-secret-words', 20_000);
    const before = await search(a, 'retract-me-secret', 'retract-me-secret');
    expect(before.bodies.map((e) => e.body)).toEqual(['retract-me-secret-words']);
    a.send('/retract');
    await a.waitFor((e) => e.event === 'retraction', 20_000, 'retraction');
    const after = await search(a, 'all retract-me-secret', 'retract-me-secret');
    expect(after.bodies).toEqual([]);
    expect(after.info).toContain('no stored message with "retract-me-secret"');
  }, 120_000);
});
