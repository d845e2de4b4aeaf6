// Live: bob publishes a device list of 9,000 ids. xchat takes a bounded number of them (with a
// warning), stays responsive and small, and still talks to bob. A device list "notification" sent
// by bob's client itself (a full JID), not by his PEP service, is ignored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { startXchat, type XchatProc } from '../helpers/xchat.js';
import { MAX_DEVICES_PER_JID } from '../../src/omemo/manager.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');

async function rssKb(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await sizeOf(p) : (await stat(p)).size;
  }
  return total;
}

describe.skipIf(!canRun)('a contact with a flood of devices (live)', () => {
  let lab: Lab;
  let dirs: string;
  let alice: XchatProc | undefined;
  let bob: Peer | undefined;
  const aliceJid = 'alice@localhost';
  const bobJid = 'bob@localhost';
  const list = (ids: number[]) => `<list xmlns='eu.siacs.conversations.axolotl'>${ids.map((i) => `<device id='${i}'/>`).join('')}</list>`;
  const openAccess =
    `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
    `<field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;
  const publish = (ids: number[]) =>
    `<iq type='set' id='flood-${ids.length}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='eu.siacs.conversations.axolotl.devicelist'>` +
    `<item id='current'>${list(ids)}</item></publish>${openAccess}</pubsub></iq>`;

  beforeAll(async () => {
    lab = await startProsody({ name: 'devflood' });
    for (const u of ['alice', 'bob']) await lab.register(u, `${u}-pw`);
    dirs = await mkdtemp(join(tmpdir(), 'xchat-devflood-'));
    bob = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
  }, 60_000);

  afterAll(async () => {
    await alice?.end(5000).catch(() => undefined);
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('9,000 devices: a warning, at most the cap used, a message right after shown within 1 s, memory and storage bounded', async () => {
    alice = startXchat({ profile: join(dirs, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    const a = alice;
    a.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await a.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    // A mutual subscription, so the server pushes bob's device list changes to alice.
    a.send(`/sub request ${bobJid}`);
    await a.waitFor((e) => e.event === 'subscription' && e.type === 'subscribed' && e.from === bobJid, 15_000, 'bob accepted');
    await a.waitFor((e) => e.event === 'subscription' && e.type === 'subscribe' && e.from === bobJid, 15_000, 'bob asks back');
    a.send(`/sub allow ${bobJid}`);
    await bob!.waitFor((e) => e.event === 'presence' && e.type === 'subscribed' && e.from === aliceJid, 15_000);
    a.send(`/msg ${bobJid} before-the-flood`);
    await bob!.waitFor((e) => e.event === 'message' && e.body === 'before-the-flood', 20_000);
    const rssBefore = await rssKb(a.proc.pid!);

    const bobDevice = bob!.ready.device_id;
    const flood = [bobDevice, ...Array.from({ length: 8999 }, (_, i) => 100_000 + i)];
    await bob!.request({ cmd: 'send_raw', xml: publish(flood) });
    const warning = await a.waitFor((e) => e.event === 'warning' && e.reason === 'device-list-capped', 20_000, 'cap warning');
    expect(warning).toMatchObject({ jid: bobJid });
    expect(warning.message).toContain(`${bobJid} publishes 9000 OMEMO devices; only ${MAX_DEVICES_PER_JID} are used (${9000 - MAX_DEVICES_PER_JID} ignored)`);

    // Plain: python-omemo itself would chew on its own 9,000-device list before sending.
    const t0 = Date.now();
    await bob!.request({ cmd: 'send_plain', to: aliceJid, body: 'right-after-the-flood' });
    await a.waitFor((e) => e.event === 'message' && e.body === 'right-after-the-flood', 20_000, 'message after the flood');
    expect(Date.now() - t0).toBeLessThan(1000);

    // Never more than the cap announced (each announcement follows one bundle fetch at most).
    await a.waitFor((e) => e.event === 'device' && e.jid === bobJid && e.device === 100_000 + MAX_DEVICES_PER_JID - 2, 30_000, 'last announced device');
    const announced = a.events.filter((e) => e.event === 'device' && e.jid === bobJid && e.change === 'new');
    expect(announced.length).toBeLessThanOrEqual(MAX_DEVICES_PER_JID);
    expect(announced.some((e) => e.device === 100_000 + 8998)).toBe(false);

    const t1 = Date.now();
    a.send(`/msg ${bobJid} after-the-flood`);
    await bob!.waitFor((e) => e.event === 'message' && e.body === 'after-the-flood', 20_000);
    expect(Date.now() - t1).toBeLessThan(5000);

    expect((await rssKb(a.proc.pid!)) - rssBefore).toBeLessThan(50 * 1024);
    expect(await sizeOf(join(dirs, 'alice', 'omemo'))).toBeLessThan(200 * 1024);
  }, 180_000);

  it('ignores a device list sent by the contact\'s client (full JID); takes the one from the PEP service', async () => {
    const a = alice!;
    const mark = a.events.length;
    await bob!.request({
      cmd: 'send_raw',
      xml: `<message to='${aliceJid}'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='eu.siacs.conversations.axolotl.devicelist'>` +
        `<item id='current'>${list([bob!.ready.device_id, 5555])}</item></items></event></message>`,
    });
    const err = await a.waitFor((e) => e.event === 'error' && a.events.indexOf(e) >= mark, 20_000, 'forged notification');
    expect(err.message).toMatch(/ignored a device list notification sent by the client bob@localhost\//);
    // The genuine one (published through PEP) is taken: its new device is announced.
    await bob!.request({ cmd: 'send_raw', xml: publish([bob!.ready.device_id, 6666]) });
    await a.waitFor((e) => e.event === 'device' && e.jid === bobJid && e.device === 6666 && a.events.indexOf(e) >= mark, 20_000, 'genuine list');
    expect(a.events.slice(mark).some((e) => e.event === 'device' && e.device === 5555)).toBe(false);
  }, 60_000);
});
