// Live: bob's device comes back with the same device id but a new identity key (a reinstall, or
// someone who took over the id). xchat warns loudly, shows the message as undecided and encrypts
// nothing for that device until the user trusts the new fingerprint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer, type PeerEvent } from '../helpers/peer.js';
import { startXchat, type XchatProc } from '../helpers/xchat.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');

describe.skipIf(!canRun)('a known device with a new identity key (live)', () => {
  let lab: Lab;
  let dirs: string;
  let alice: XchatProc | undefined;
  const peers: Peer[] = [];
  const bobJid = 'bob@localhost';
  const got = (body: string) => (e: PeerEvent) => e.event === 'message' && e.body === body;

  beforeAll(async () => {
    lab = await startProsody({ name: 'identity' });
    for (const u of ['alice', 'bob']) await lab.register(u, `${u}-pw`);
    dirs = await mkdtemp(join(tmpdir(), 'xchat-identity-'));
  }, 60_000);

  afterAll(async () => {
    await alice?.end(5000).catch(() => undefined);
    await Promise.all(peers.map((p) => p.stop().catch(() => undefined)));
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('warns, shows the message as undecided, and sends nothing to the new key until it is trusted', async () => {
    const bob1 = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob-1'), autoSubscribe: true });
    peers.push(bob1);
    const deviceId = bob1.ready.device_id;
    alice = startXchat({ profile: join(dirs, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    const a = alice;
    a.send(`/connect alice@localhost server ${lab.host} port ${lab.c2sPort} tls force`);
    await a.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    a.send(`/msg ${bobJid} before-the-change`);
    await bob1.waitFor(got('before-the-change'), 20_000);
    await bob1.stop();

    // Same device id, fresh identity key.
    const bob2 = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob-2'), autoSubscribe: true, forceDeviceId: deviceId });
    peers.push(bob2);
    expect(bob2.ready.device_id).toBe(deviceId);
    expect(bob2.ready.fingerprint).not.toBe(bob1.ready.fingerprint);

    await bob2.request({ cmd: 'send', to: 'alice@localhost', body: 'trust-my-new-key' });
    const warning = await a.waitFor((e) => e.event === 'warning' && e.reason === 'identity-changed', 20_000, 'identity warning');
    expect(warning).toMatchObject({ jid: bobJid, devices: [deviceId] });
    expect(warning.message).toContain(`device ${deviceId} of ${bobJid} has a NEW identity key`);
    expect(warning.message).toContain(`/omemo trust ${bobJid} ${bob2.ready.fingerprint}`);
    const shown = await a.waitFor((e) => e.event === 'message' && e.body === 'trust-my-new-key', 20_000, 'message');
    expect(shown).toMatchObject({ encryption: 'omemo', trust: 'undecided', sender_device: deviceId });

    const mark = a.events.length;
    a.send('not-for-an-undecided-key');
    const refused = await a.waitFor((e) => e.event === 'error' && a.events.indexOf(e) >= mark, 20_000, 'refused');
    expect(refused.message).toMatch(/NOT sent/);
    expect(refused.message).toContain(bob2.ready.fingerprint);

    a.send(`/omemo trust ${bobJid} ${bob2.ready.fingerprint}`);
    await a.waitFor((e) => e.event === 'trust' && e.fingerprint === bob2.ready.fingerprint, 20_000, 'trusted');
    a.send('after-deciding');
    await bob2.waitFor(got('after-deciding'), 20_000);
    // The refused line never reached bob (it would have arrived before the later one).
    expect(bob2.events.filter(got('not-for-an-undecided-key'))).toEqual([]);
    // Still only one warning for this change.
    expect(a.events.filter((e) => e.event === 'warning' && e.reason === 'identity-changed')).toHaveLength(1);
  }, 180_000);
});
