// Live: roster, presence and the OMEMO trust UX (/omemo devices|verify|qrcode|clear_device_list,
// pre-send warnings, device announcements) with the real `xchat run --json` against python-omemo
// peers through a Prosody this file starts. The steps build on each other (one account, alice).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer, type PeerEvent } from '../helpers/peer.js';
import { startXchat, type XchatProc, type XEvent } from '../helpers/xchat.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody and python3-omemo (scripts/install-test-deps)');

const spaced = (fp: string) => fp.match(/.{8}/g)!.join(' ');
const BOB = 'bob@localhost';
const ALICE = 'alice@localhost';

describe.skipIf(!canRun)('roster, presence and OMEMO trust UX (live)', () => {
  let lab: Lab;
  let dirs: string;
  let alice: XchatProc;
  let aliceDevice = 0;
  let aliceFp = '';
  const peers: Peer[] = [];
  let bob1: Peer;
  let bob2: Peer;

  const peer = async (user: string, state: string, autoSubscribe = false): Promise<Peer> => {
    const p = await startPeer({ jid: `${user}@localhost`, password: `${user}-pw`, lab, stateDir: join(dirs, state), autoSubscribe });
    peers.push(p);
    return p;
  };
  /** Matches only events of alice emitted after this call. */
  const mark = () => {
    const from = alice.events.length;
    return (pred: (e: XEvent) => boolean) => (e: XEvent) => alice.events.indexOf(e) >= from && pred(e);
  };
  /** Runs a command and returns its first info (or error) event. */
  const run = async (line: string, what = line): Promise<XEvent> => {
    const since = mark();
    alice.send(line);
    return alice.waitFor(since((e) => e.event === 'info' || e.event === 'error'), 30_000, what);
  };
  const got = (body: string) => (e: PeerEvent) => e.event === 'message' && e.body === body;

  beforeAll(async () => {
    lab = await startProsody({ name: 'ux' });
    for (const u of ['alice', 'bob']) await lab.register(u, `${u}-pw`);
    dirs = await mkdtemp(join(tmpdir(), 'xchat-ux-'));
    bob1 = await peer('bob', 'bob-1', true);
    alice = startXchat({ profile: join(dirs, 'x-alice'), password: 'alice-pw', caFile: lab.caFile });
    alice.send(`/connect ${ALICE} server ${lab.host} port ${lab.c2sPort} tls force`);
    await alice.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'alice online');
    const gen = await run('/omemo gen');
    const m = /device (\d+), fingerprint ([0-9a-f ]+)/.exec(gen.message);
    expect(m, gen.message).not.toBeNull();
    aliceDevice = Number(m![1]);
    aliceFp = m![2].replace(/ /g, '');
  });

  afterAll(async () => {
    await alice?.end(5000).catch(() => undefined);
    await Promise.all(peers.map((p) => p.stop().catch(() => undefined)));
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('/roster add and list; subscriptions; /status away reaches the contact; /presence lists the contact', async () => {
    const added = await run(`/roster add ${BOB} Bob the Peer`);
    expect(added.message).toMatch(/roster: bob@localhost added as Bob the Peer/);
    let list = await run('/roster');
    expect(list.message).toMatch(/bob@localhost \(Bob the Peer\): offline \[subscription none\]/);

    // Mutual subscription: bob (auto-subscribe) accepts and asks back; alice allows.
    alice.send(`/sub request ${BOB}`);
    await alice.waitFor((e) => e.event === 'subscription' && e.type === 'subscribed' && e.from === BOB, 15_000, 'bob accepted');
    await alice.waitFor((e) => e.event === 'subscription' && e.type === 'subscribe' && e.from === BOB, 15_000, 'bob asks back');
    alice.send(`/sub allow ${BOB}`);
    await bob1.waitFor((e) => e.event === 'presence' && e.type === 'subscribed' && e.from === ALICE, 15_000);
    // bob's presence reaches alice as an event, and /presence lists it.
    await alice.waitFor((e) => e.event === 'presence' && e.jid.startsWith(`${BOB}/`) && e.show === 'online', 15_000, 'bob presence');
    const pres = await run('/presence');
    expect(pres.message).toMatch(/bob@localhost \(Bob the Peer\): online/);
    // The server's roster push for "both" may come a moment after bob's "subscribed" presence.
    for (let i = 0; i < 50; i++) {
      list = await run('/roster');
      if (/\[subscription both\]/.test(list.message)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(list.message).toMatch(/bob@localhost \(Bob the Peer\): online .*\[subscription both\]/);

    const since = bob1.events.length;
    const st = await run('/status away out for lunch');
    expect(st.message).toBe('status: away (out for lunch)');
    const seen = await bob1.waitFor((e) => e.event === 'presence' && e.from === ALICE && e.type === 'available' && e.show === 'away', 15_000, since);
    expect(seen.status).toBe('out for lunch');
    await run('/status online');
    await bob1.waitFor((e) => e.event === 'presence' && e.from === ALICE && e.type === 'available' && e.show === '', 15_000, since);

    const bad = await run('/status sleeping');
    expect(bad.event).toBe('error');
    expect(bad.message).toMatch(/invalid status "sleeping"/);
  });

  it('announces a contact\'s new device with its fingerprint; /omemo devices shows id, fingerprint, trust, active', async () => {
    const since = mark();
    bob2 = await peer('bob', 'bob-2');
    const dev = await alice.waitFor(since((e) => e.event === 'device' && e.device === bob2.ready.device_id), 20_000, 'bob2 announced');
    expect(dev).toMatchObject({ jid: BOB, change: 'new', fingerprint: bob2.ready.fingerprint, trust: 'trusted' });

    const out = await run(`/omemo devices ${BOB}`);
    expect(out.message).toContain(`device ${bob1.ready.device_id}: ${spaced(bob1.ready.fingerprint)} (trusted, active; last seen `);
    expect(out.message).toContain(`device ${bob2.ready.device_id}: ${spaced(bob2.ready.fingerprint)} (trusted, active; last seen `);
    const own = await run('/omemo devices');
    expect(own.message).toContain(`device ${aliceDevice}: ${spaced(aliceFp)} (this device, verified, active`);
  });

  it('a message not encrypted for this device: an error naming the sender device and why, never the fallback body', async () => {
    const b64 = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i)).toString('base64');
    const since = mark();
    await bob1.request({
      cmd: 'send_raw',
      xml:
        `<message to='${ALICE}' type='chat' id='not-for-us'><encrypted xmlns='eu.siacs.conversations.axolotl'>` +
        `<header sid='${bob1.ready.device_id}'><key rid='${aliceDevice + 1}'>${b64(40)}</key><iv>${b64(12)}</iv></header>` +
        `<payload>${b64(16)}</payload></encrypted><body>FALLBACK-BODY-NEVER-SHOWN</body></message>`,
    });
    const err = await alice.waitFor(since((e) => e.event === 'error'), 15_000, 'no-key error');
    expect(err.reason).toBe('no-key-for-us');
    expect(err.message).toContain(`(device ${bob1.ready.device_id})`);
    expect(err.message).toContain(`this device (${aliceDevice})`);
    expect(err.message).toMatch(/does not know or does not trust this device/);
    expect(err.message).toContain(aliceFp);
    expect(JSON.stringify(alice.events.filter(since(() => true)))).not.toMatch(/FALLBACK-BODY|AAECAwQF/);
  });

  it('/omemo verify URI: verifies the matching fingerprint, warns on a MISMATCH and on an unknown device', async () => {
    const evil = 'e'.repeat(64);
    const unknownFp = 'c'.repeat(64);
    // Mixed case and & as a separator, as people paste.
    const uri =
      `xmpp:Bob@localhost?omemo-sid-${bob1.ready.device_id}=${bob1.ready.fingerprint.toUpperCase()}` +
      `&omemo-sid-${bob2.ready.device_id}=${evil};omemo-sid-424242=${unknownFp}`;
    const since = mark();
    const summary = await run(`/omemo verify ${uri}`);
    expect(summary.event).toBe('info');
    expect(summary.message).toMatch(/verify bob@localhost: 1 device newly verified, 0 already verified, 1 MISMATCHED, 1 unknown/);
    const trust = alice.events.filter(since((e) => e.event === 'trust'));
    expect(trust).toEqual([{ event: 'trust', jid: BOB, fingerprint: bob1.ready.fingerprint, state: 'verified' }]);
    const warnings = alice.events.filter(since((e) => e.event === 'warning'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0].message).toMatch(/^MISMATCH/);
    expect(warnings[0].message).toContain(spaced(bob2.ready.fingerprint));
    expect(warnings[0].devices).toEqual([bob2.ready.device_id]);
    expect(warnings[1].message).toMatch(/unknown device: bob@localhost device 424242/);
    expect(warnings[1].devices).toEqual([424242]);

    const out = await run(`/omemo devices ${BOB}`);
    expect(out.message).toContain(`device ${bob1.ready.device_id}: ${spaced(bob1.ready.fingerprint)} (verified, active`);
    // The mismatching URI did not change bob2's trust.
    expect(out.message).toContain(`device ${bob2.ready.device_id}: ${spaced(bob2.ready.fingerprint)} (trusted, active`);

    const junk = await run('/omemo verify https://example.org');
    expect(junk.event).toBe('error');
    expect(junk.message).toMatch(/not an xmpp: URI/);
  });

  it('warns once before sending when a device cannot read the message, not again while nothing changes', async () => {
    await bob2.stop();
    // A device appearing after a verification is held back under btbv.
    let since = mark();
    const bob3 = await peer('bob', 'bob-3');
    const dev3 = bob3.ready.device_id;
    await alice.waitFor(since((e) => e.event === 'device' && e.device === dev3 && e.trust === 'undecided'), 20_000, 'bob3 announced');

    since = mark();
    alice.send(`/msg ${BOB} ux-first`);
    await alice.waitFor(since((e) => e.event === 'sent' && e.body === 'ux-first'), 30_000, 'first sent');
    const warned = alice.events.filter(since((e) => e.event === 'warning'));
    expect(warned).toHaveLength(1);
    expect(warned[0].devices).toEqual([dev3]);
    expect(warned[0].message).toContain(`device ${dev3} (${bob3.ready.fingerprint.slice(0, 8)})`);
    expect(warned[0].message).toContain(`/omemo trust ${BOB} ${bob3.ready.fingerprint}`);
    await bob1.waitFor(got('ux-first'), 20_000);

    since = mark();
    alice.send(`/msg ${BOB} ux-second`);
    await alice.waitFor(since((e) => e.event === 'sent' && e.body === 'ux-second'), 30_000, 'second sent');
    await bob1.waitFor(got('ux-second'), 20_000);
    expect(alice.events.filter(since((e) => e.event === 'warning'))).toEqual([]);
    await bob3.stop();
  });

  it('announces a new own device; /omemo qrcode lists this and trusted own devices; /omemo clear_device_list leaves only this device', async () => {
    let since = mark();
    const other = await peer('alice', 'alice-2'); // a second client of alice's
    const ann = await alice.waitFor(since((e) => e.event === 'device' && e.jid === ALICE && e.device === other.ready.device_id), 20_000, 'own device announced');
    expect(ann).toMatchObject({ change: 'new', fingerprint: other.ready.fingerprint, trust: 'trusted' });

    const qr = await run('/omemo qrcode');
    const lines: string[] = String(qr.message).split('\n');
    const uri = lines.at(-1)!;
    expect(uri).toBe(`xmpp:${ALICE}?omemo-sid-${aliceDevice}=${aliceFp};omemo-sid-${other.ready.device_id}=${other.ready.fingerprint}`);
    expect(lines.length).toBeGreaterThan(20); // the drawing above it
    expect(lines.slice(0, -1).every((l) => /^[\u2588\u2580\u2584 ]+$/.test(l))).toBe(true);

    // The other client is gone for good: it would re-add itself while online.
    await other.stop();
    since = mark();
    const cleared = await run('/omemo clear_device_list');
    expect(cleared.message).toContain(`removed ${other.ready.device_id}`);
    const seen = await bob1.request({ cmd: 'devices', jid: ALICE });
    const active = (seen.devices as { id: number; active: boolean }[]).filter((d) => d.active).map((d) => d.id);
    expect(active).toEqual([aliceDevice]);
    const qr2 = await run('/omemo qrcode');
    expect(qr2.message.split('\n').at(-1)).toBe(`xmpp:${ALICE}?omemo-sid-${aliceDevice}=${aliceFp}`);
    expect(alice.events.filter(since((e) => e.event === 'error'))).toEqual([]);
  });
});
