// Live: trust decisions, presence subscriptions and presence-only OMEMO nodes, with the real
// `xchat run --json` process against python-omemo peers through a Prosody the suite starts.
// Negative checks ("nothing reached the peer") rely on ordering: a later message that does arrive
// proves an earlier one was never sent, so no test waits a fixed time for something not to happen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer, type PeerEvent } from '../helpers/peer.js';
import { startXchat, type XchatProc, type XEvent } from '../helpers/xchat.js';
import { XmppSession } from '../../src/xmpp/index.js';
import { isXmppError } from '../../src/xmpp/errors.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody and python3-omemo (scripts/install-test-deps)');

const spaced = (fp: string) => fp.match(/.{8}/g)!.join(' ');

describe.skipIf(!canRun)('trust, subscriptions and forbidden device lists (live)', () => {
  let lab: Lab;
  let dirs: string;
  const procs: XchatProc[] = [];
  const peers: Peer[] = [];

  const xchat = async (user: string): Promise<XchatProc> => {
    const x = startXchat({ profile: join(dirs, `x-${user}`), password: `${user}-pw`, caFile: lab.caFile });
    procs.push(x);
    x.send(`/connect ${user}@localhost server ${lab.host} port ${lab.c2sPort} tls force`);
    await x.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, `${user} online`);
    return x;
  };
  const peer = async (user: string, state: string, autoSubscribe = false): Promise<Peer> => {
    const p = await startPeer({ jid: `${user}@localhost`, password: `${user}-pw`, lab, stateDir: join(dirs, state), autoSubscribe });
    peers.push(p);
    return p;
  };
  /** Events of `x` from now on: waitFor only matches events emitted after this call. */
  const mark = (x: XchatProc) => {
    const from = x.events.length;
    return (pred: (e: XEvent) => boolean) => (e: XEvent) => x.events.indexOf(e) >= from && pred(e);
  };
  const got = (body: string) => (e: PeerEvent) => e.event === 'message' && e.body === body;

  beforeAll(async () => {
    lab = await startProsody({ name: 'trust' });
    for (const u of ['alice', 'bob', 'carol', 'dave', 'frank', 'probe']) await lab.register(u, `${u}-pw`);
    dirs = await mkdtemp(join(tmpdir(), 'xchat-trust-'));
  });

  afterAll(async () => {
    await Promise.all(procs.map((x) => x.end(5000).catch(() => undefined)));
    await Promise.all(peers.map((p) => p.stop().catch(() => undefined)));
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('manual trust: refuses to send to an untrusted device, sends after /omemo trust, refuses again after untrust', async () => {
    const bob = await peer('bob', 'bob-1', true);
    const alice = await xchat('alice');
    const bobJid = 'bob@localhost';
    const fp = bob.ready.fingerprint;
    expect(fp).toMatch(/^[0-9a-f]{64}$/);

    alice.send('/omemo trustmode manual');
    await alice.waitFor((e) => e.event === 'info' && /trust mode: manual/.test(e.message), 10_000, 'trustmode');

    let since = mark(alice);
    alice.send(`/msg ${bobJid} secret-while-undecided`);
    const refused = await alice.waitFor(since((e) => e.event === 'error'), 30_000, 'refusal');
    expect(refused.message).toMatch(/NOT sent/);
    expect(refused.message).toContain(fp);
    expect(refused.message).toContain(`/omemo trust ${bobJid}`);
    expect(alice.events.some((e) => e.event === 'sent' && e.body === 'secret-while-undecided')).toBe(false);

    since = mark(alice);
    alice.send(`/omemo trust ${bobJid} ${spaced(fp)}`);
    const t = await alice.waitFor(since((e) => e.event === 'trust' || e.event === 'error'), 10_000, 'trust');
    expect(t).toMatchObject({ event: 'trust', jid: bobJid, fingerprint: fp, state: 'verified' });

    alice.send(`/msg ${bobJid} secret-after-trust`);
    const sent = await alice.waitFor((e) => e.event === 'sent' && e.body === 'secret-after-trust', 30_000, 'sent');
    expect(sent.encryption).toBe('omemo');
    const m = await bob.waitFor(got('secret-after-trust'), 20_000);
    expect(m.encrypted).toBe(true);
    // bob receives in order: the refused message would have arrived before this one.
    expect(bob.events.some((e) => e.body === 'secret-while-undecided')).toBe(false);

    since = mark(alice);
    alice.send(`/omemo untrust ${bobJid} ${spaced(fp)}`);
    await alice.waitFor(since((e) => e.event === 'trust' && e.state === 'untrusted'), 10_000, 'untrust');
    since = mark(alice);
    alice.send(`/msg ${bobJid} secret-after-untrust`);
    const refusedAgain = await alice.waitFor(since((e) => e.event === 'error'), 30_000, 'refusal after untrust');
    expect(refusedAgain.message).toMatch(/NOT sent/);
    expect(refusedAgain.message).toContain(fp);

    // A message FROM the untrusted device is shown, marked as such.
    await bob.request({ cmd: 'send', to: 'alice@localhost', body: 'from-untrusted-bob' });
    const shown = await alice.waitFor((e) => e.event === 'message' && e.body === 'from-untrusted-bob', 20_000, 'message from untrusted');
    expect(shown.encryption).toBe('omemo');
    expect(shown.sender_device).toBe(bob.ready.device_id);
    expect(['undecided', 'untrusted']).toContain(shown.trust);

    // Trusted again: goes through, and the untrusted-period message never reached bob.
    alice.send(`/omemo trust ${bobJid} ${fp}`);
    alice.send(`/msg ${bobJid} secret-retrusted`);
    await bob.waitFor(got('secret-retrusted'), 30_000);
    expect(bob.events.some((e) => e.body === 'secret-after-untrust')).toBe(false);
    alice.send('/omemo trustmode btbv'); // back to the default for the tests below
    await alice.waitFor((e) => e.event === 'info' && /trust mode: btbv/.test(e.message), 10_000, 'trustmode btbv');
  });

  it('btbv: trusts a new contact blindly until one device is verified, then holds back new devices', async () => {
    const bobJid = 'bob@localhost';
    const bob1 = peers.find((p) => p.ready.jid === bobJid) ?? (await peer('bob', 'bob-1', true));
    const carol = await xchat('carol');
    // A mutual subscription, so the server pushes bob's device list changes to carol.
    carol.send(`/sub request ${bobJid}`);
    await carol.waitFor((e) => e.event === 'subscription' && e.type === 'subscribed' && e.from === bobJid, 15_000, 'bob accepted');
    await carol.waitFor((e) => e.event === 'subscription' && e.type === 'subscribe' && e.from === bobJid, 15_000, 'bob asks back');
    carol.send(`/sub allow ${bobJid}`);
    await bob1.waitFor((e) => e.event === 'presence' && e.type === 'subscribed' && e.from === 'carol@localhost', 15_000);

    carol.send(`/msg ${bobJid} btbv-first`);
    const first = await carol.waitFor((e) => e.event === 'sent' && e.body === 'btbv-first' || e.event === 'error', 30_000, 'first send');
    expect(first.event).toBe('sent'); // new contact, nothing verified yet: trusted blindly
    await bob1.waitFor(got('btbv-first'), 20_000);

    let since = mark(carol);
    carol.send(`/omemo trust ${bobJid} ${spaced(bob1.ready.fingerprint)}`);
    await carol.waitFor(since((e) => e.event === 'trust' && e.state === 'verified'), 10_000, 'verified');

    // bob starts a second client: same JID, fresh state, so a new device id and identity.
    since = mark(carol);
    const bob2 = await peer('bob', 'bob-2');
    const dev2 = bob2.ready.device_id;
    expect(dev2).not.toBe(bob1.ready.device_id);
    const appeared = await carol.waitFor(since((e) => e.event === 'device' && e.device === dev2), 20_000, 'device event');
    expect(appeared).toMatchObject({ jid: bobJid, change: 'new' });

    since = mark(carol);
    carol.send(`/msg ${bobJid} btbv-second`);
    const warning = await carol.waitFor(since((e) => e.event === 'warning'), 30_000, 'warning');
    expect(warning.message).toContain(String(dev2));
    expect(warning.devices).toContain(dev2);
    expect(warning.devices).not.toContain(bob1.ready.device_id);
    await carol.waitFor((e) => e.event === 'sent' && e.body === 'btbv-second', 30_000, 'second sent');
    await bob1.waitFor(got('btbv-second'), 20_000);

    since = mark(carol);
    carol.send(`/omemo trust ${bobJid} ${spaced(bob2.ready.fingerprint)}`);
    await carol.waitFor(since((e) => e.event === 'trust' && e.fingerprint === bob2.ready.fingerprint), 10_000, 'trust bob2');
    carol.send(`/msg ${bobJid} btbv-third`);
    await bob1.waitFor(got('btbv-third'), 20_000);
    await bob2.waitFor(got('btbv-third'), 20_000);
    // The new device got no key for the message sent before it was trusted.
    expect(bob2.events.some((e) => e.event === 'message' && e.body === 'btbv-second')).toBe(false);
    await bob2.stop();
  });

  it('subscriptions: reports a request without accepting it, answers with /sub allow, asks with /sub request', async () => {
    const dave = await peer('dave', 'dave');
    const alice = procs[0] ?? (await xchat('alice'));
    const aliceJid = 'alice@localhost';
    const daveJid = 'dave@localhost';

    await dave.request({ cmd: 'subscribe', to: aliceJid });
    const req = await alice.waitFor((e) => e.event === 'subscription' && e.from === daveJid, 15_000, 'subscription');
    expect(req).toEqual({ event: 'subscription', type: 'subscribe', from: daveJid });

    // Not accepted on its own: a later message from alice reaches dave, an automatic 'subscribed'
    // would have reached him first.
    alice.send(`/msg ${daveJid} before-allow`);
    await dave.waitFor(got('before-allow'), 30_000);
    expect(dave.events.some((e) => e.event === 'presence' && e.type === 'subscribed')).toBe(false);

    alice.send(`/sub allow ${daveJid}`);
    await dave.waitFor((e) => e.event === 'presence' && e.type === 'subscribed' && e.from === aliceJid, 15_000);

    alice.send(`/sub request ${daveJid}`);
    await dave.waitFor((e) => e.event === 'presence' && e.type === 'subscribe' && e.from === aliceJid, 15_000);
    await dave.request({ cmd: 'allow', to: aliceJid });
    await alice.waitFor((e) => e.event === 'subscription' && e.type === 'subscribed' && e.from === daveJid, 15_000, 'subscribed');
    await dave.stop();
  });

  it('presence-only device list: refuses with a forbidden error that says /sub request, sends nothing in plaintext', async () => {
    const frank = await peer('frank', 'frank');
    const alice = procs[0] ?? (await xchat('alice'));
    const frankJid = 'frank@localhost';
    // What Profanity leaves behind on Prosody: the device list node readable by presence subscribers only.
    await frank.request({
      cmd: 'send_raw',
      xml:
        `<iq type='set' id='cfg-presence'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>` +
        `<configure node='eu.siacs.conversations.axolotl.devicelist'><x xmlns='jabber:x:data' type='submit'>` +
        `<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>` +
        `<field var='pubsub#access_model'><value>presence</value></field></x></configure></pubsub></iq>`,
    });
    // Check with an unsubscribed account that the server now really refuses the list.
    const probe = new XmppSession();
    await probe.connect({ jid: 'probe@localhost/p', password: 'probe-pw', server: lab.host, port: lab.c2sPort, ca: await readFile(lab.caFile) });
    try {
      let err: unknown;
      for (let i = 0; i < 20 && !err; i++) {
        err = await probe.pep.fetchDeviceList(frankJid).then(() => undefined, (e: unknown) => e);
        if (!err) await new Promise((r) => setTimeout(r, 100));
      }
      expect(isXmppError(err, 'forbidden'), String(err)).toBe(true);
    } finally {
      await probe.disconnect();
    }

    // Policy automatic (the default), no /omemo start: "cannot see the keys" is not "no OMEMO".
    {
      const sinceAuto = mark(alice);
      alice.send(`/msg ${frankJid} secret-automatic`);
      const autoErr = await alice.waitFor(sinceAuto((e) => e.event === 'error'), 30_000, 'forbidden error (automatic)');
      expect(autoErr.message).toMatch(/forbidden/);
      expect(autoErr.message).toContain(`/omemo end ${frankJid}`);
      expect(alice.events.some((e) => e.event === 'sent' && e.body === 'secret-automatic')).toBe(false);
    }

    alice.send(`/omemo start ${frankJid}`);
    await alice.waitFor((e) => e.event === 'chat' && e.jid === frankJid && e.encryption === 'omemo', 10_000, 'omemo chat');
    const since = mark(alice);
    alice.send(`/msg ${frankJid} secret-to-forbidden`);
    const err = await alice.waitFor(since((e) => e.event === 'error'), 30_000, 'forbidden error');
    expect(err.message).toMatch(/forbidden/);
    expect(err.message).toContain(`/sub request ${frankJid}`);
    expect(alice.events.some((e) => e.event === 'sent' && e.body === 'secret-to-forbidden')).toBe(false);

    // A plaintext marker sent afterwards arrives; the secret (or a fallback body) never did.
    alice.send('/omemo end'); // the current chat: frank
    alice.send(`/msg ${frankJid} plain-marker`);
    const marker = await frank.waitFor(got('plain-marker'), 20_000);
    expect(marker.encrypted).toBe(false);
    const before = frank.events.slice(0, frank.events.indexOf(marker));
    expect(before.filter((e) => e.event === 'message' || e.event === 'decrypt_error')).toEqual([]);
    await frank.stop();
  });
});
