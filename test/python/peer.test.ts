// Live: two python-omemo reference peers (bob, carol) talk OMEMO through a lab Prosody, restart, and
// keep talking over the stored sessions. Proves the peer that xchat's interop tests rely on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer, type PeerEvent } from '../helpers/peer.js';
import { PYTHON } from '../helpers/python.js';

const canRun = existsSync(PYTHON) && existsSync('/usr/bin/prosody');
if (!canRun) console.warn('peer.test: /usr/bin/python3 or /usr/bin/prosody missing, skipping');

describe.skipIf(!canRun)('python-omemo reference peer (live)', () => {
  let lab: Lab;
  let dirs: string;
  let bobJid: string;
  let carolJid: string;
  const running: Peer[] = [];

  const start = async (who: 'bob' | 'carol', extra: { echo?: boolean; autoSubscribe?: boolean } = {}) => {
    const peer = await startPeer({
      jid: who === 'bob' ? bobJid : carolJid,
      password: `${who}-pw`,
      lab,
      stateDir: join(dirs, who),
      ...extra,
    });
    running.push(peer);
    return peer;
  };

  // Sends an OMEMO message and returns the peer's "sent" answer (fails on an "error" answer).
  const sendOmemo = async (from: Peer, to: Peer, body: string): Promise<PeerEvent> => {
    const answer = await from.request({ cmd: 'send', to: to.ready.jid, body });
    expect(answer, JSON.stringify(answer)).toMatchObject({ event: 'sent', errors: [] });
    return answer;
  };
  const received = (to: Peer, body: string, since = 0): Promise<PeerEvent> =>
    to.waitFor((e) => e.event === 'message' && e.body === body, 20_000, since);

  beforeAll(async () => {
    lab = await startProsody({ name: 'peer' });
    bobJid = await lab.register('bob', 'bob-pw');
    carolJid = await lab.register('carol', 'carol-pw');
    dirs = await mkdtemp(join(tmpdir(), 'xchat-peer-test-'));
  });

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('refuses to start on a certificate it cannot verify or a wrong password', async () => {
    // The system CA bundle does not contain the lab's self-signed certificate.
    await expect(startPeer({
      jid: bobJid, password: 'bob-pw', lab: { ...lab, caFile: '/etc/ssl/certs/ca-certificates.crt' },
      stateDir: join(dirs, 'refused-tls'),
    })).rejects.toThrow(/CERTIFICATE_VERIFY_FAILED/);
    await expect(startPeer({
      jid: bobJid, password: 'not-the-password', lab, stateDir: join(dirs, 'refused-auth'),
    })).rejects.toThrow(/authentication failed/);
  });

  it('exchanges OMEMO both ways, then reuses the sessions after both restart', async () => {
    let bob = await start('bob');
    let carol = await start('carol');
    expect(bob.ready.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(bob.ready.device_id).not.toBe(carol.ready.device_id);

    // First contact: bob builds the session from carol's bundle, so his key for carol is a PreKey message.
    const s1 = await sendOmemo(bob, carol, 'hello carol (1)');
    expect(s1.rids).toEqual([carol.ready.device_id]);
    expect(s1.prekey_rids).toEqual([carol.ready.device_id]);
    const m1 = await received(carol, 'hello carol (1)');
    expect(m1).toMatchObject({ from: bobJid, encrypted: true, sender_device: bob.ready.device_id, prekey: true });
    expect(m1.fingerprint).toBe(bob.ready.fingerprint);
    // carol completes the handshake with an empty key-transport message.
    await bob.waitFor((e) => e.event === 'empty' && e.from === carolJid);

    const m2Body = 'hello bob (1) ✓ ünïcode';
    const s2 = await sendOmemo(carol, bob, m2Body);
    expect(s2.prekey_rids).toEqual([]);
    const m2 = await received(bob, m2Body);
    expect(m2).toMatchObject({ from: carolJid, encrypted: true, sender_device: carol.ready.device_id, prekey: false });

    const before = { bob: bob.ready, carol: carol.ready };
    expect(await bob.stop()).toBe(0);
    expect(await carol.stop()).toBe(0);

    // Restart from the same state dirs: same devices, same identities, existing sessions.
    bob = await start('bob');
    carol = await start('carol', { echo: true, autoSubscribe: true });
    expect(bob.ready).toMatchObject({ device_id: before.bob.device_id, fingerprint: before.bob.fingerprint });
    expect(carol.ready).toMatchObject({ device_id: before.carol.device_id, fingerprint: before.carol.fingerprint });

    const s3 = await sendOmemo(bob, carol, 'after restart (2)');
    expect(s3.prekey_rids).toEqual([]);
    const m3 = await received(carol, 'after restart (2)');
    expect(m3).toMatchObject({ from: bobJid, sender_device: bob.ready.device_id, prekey: false });
    // --echo: carol answers encrypted over the same session.
    const m4 = await received(bob, 'echo: after restart (2)');
    expect(m4).toMatchObject({ from: carolJid, encrypted: true, sender_device: carol.ready.device_id, prekey: false });

    const s5 = await sendOmemo(carol, bob, 'carol after restart (2)');
    expect(s5.prekey_rids).toEqual([]);
    expect(await received(bob, 'carol after restart (2)')).toMatchObject({ prekey: false, encrypted: true });

    // Neither side ever reported a failure.
    for (const p of [bob, carol]) {
      expect(p.events.filter((e) => ['decrypt_error', 'exception', 'error', 'garbage'].includes(e.event))).toEqual([]);
    }
  });

  it('reports malformed stanzas as events and keeps working', async () => {
    const bob = running.at(-2)!;
    const carol = running.at(-1)!;
    const since = carol.events.length;
    const bad = [
      // not base64, no iv
      `<message to='${carolJid}' type='chat' id='bad1'><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='${bob.ready.device_id}'><key rid='${carol.ready.device_id}'>!!!</key></header></encrypted></message>`,
      // well-formed element, key bytes are garbage
      `<message to='${carolJid}' type='chat' id='bad2'><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='${bob.ready.device_id}'><key rid='${carol.ready.device_id}'>AAAA</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>AAAA</payload></encrypted></message>`,
      // unknown sender device
      `<message to='${carolJid}' type='chat' id='bad3'><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='12345'><key rid='${carol.ready.device_id}' prekey='true'>AAAA</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>AAAA</payload></encrypted></message>`,
    ];
    for (const xml of bad) expect((await bob.request({ cmd: 'send_raw', xml })).event).toBe('sent_raw');
    for (const id of ['bad1', 'bad2', 'bad3']) {
      const err = await carol.waitFor((e) => e.event === 'decrypt_error' && e.id === id, 20_000, since);
      expect(err).toMatchObject({ from: bobJid });
      expect(String(err.error)).not.toBe('');
    }
    // The sessions survived the garbage: a real message still decrypts (and carol still echoes).
    const bobSince = bob.events.length;
    await sendOmemo(bob, carol, 'still alive (3)');
    expect(await received(carol, 'still alive (3)', since)).toMatchObject({ prekey: false });
    expect(await received(bob, 'echo: still alive (3)', bobSince)).toMatchObject({ prekey: false });

    // An unknown command is answered, not fatal.
    expect(await bob.request({ cmd: 'nope' })).toMatchObject({ event: 'error' });
    expect(await bob.request({ cmd: 'ping' })).toMatchObject({ event: 'pong' });
  });

  it('serves device lists, open-access bundles, plain messages and subscriptions', async () => {
    const bob = running.at(-2)!;
    const carol = running.at(-1)!;
    const devices = await bob.request({ cmd: 'devices', jid: carolJid });
    expect(devices).toMatchObject({
      event: 'devices',
      devices: [{ id: carol.ready.device_id, fingerprint: carol.ready.fingerprint, active: true }],
    });
    const bundle = await bob.request({ cmd: 'bundle_b64', jid: carolJid, device: carol.ready.device_id });
    expect(bundle).toMatchObject({ event: 'bundle', fingerprint: carol.ready.fingerprint });
    expect(bundle.pre_key_count).toBeGreaterThanOrEqual(99);
    expect(Buffer.from(String(bundle.xml_b64), 'base64').toString('utf8')).toContain('eu.siacs.conversations.axolotl');

    expect(await bob.request({ cmd: 'send_plain', to: carolJid, body: 'plain hello' })).toMatchObject({ event: 'sent' });
    expect(await carol.waitFor((e) => e.event === 'message' && e.body === 'plain hello')).toMatchObject({ encrypted: false });

    // carol runs with --auto-subscribe: she approves bob's request.
    const since = bob.events.length;
    expect(await bob.request({ cmd: 'subscribe', to: carolJid })).toMatchObject({ event: 'ok' });
    await bob.waitFor((e) => e.event === 'presence' && e.type === 'subscribed' && e.from === carolJid, 20_000, since);
  });

  it('encrypts for the own other devices and for every device of the recipient', async () => {
    const bob = running.at(-2)!;
    const carol = running.at(-1)!;
    const bob2 = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob2') });
    running.push(bob2);
    expect(bob2.ready.device_id).not.toBe(bob.ready.device_id);

    const sent = await sendOmemo(bob, carol, 'to carol, copy for bob2 (4)');
    expect(sent.rids).toEqual([bob2.ready.device_id, carol.ready.device_id].sort((a, b) => a - b));
    expect(sent.prekey_rids).toEqual([bob2.ready.device_id]);

    // carol (--echo) now encrypts for both of bob's devices; bob2 gets a fresh PreKey message.
    const echo = 'echo: to carol, copy for bob2 (4)';
    expect(await received(bob2, echo)).toMatchObject({ from: carolJid, prekey: true, sender_device: carol.ready.device_id });
    expect(await received(bob, echo)).toMatchObject({ from: carolJid, prekey: false });
    expect(await bob2.stop()).toBe(0);
  });
});
