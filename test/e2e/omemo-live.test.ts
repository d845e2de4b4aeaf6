// Live: the real `xchat run --json` process and the python-omemo reference peer exchange legacy
// OMEMO messages through a Prosody the suite starts on loopback. Covers both directions, session
// reuse across restarts of both sides, no plaintext in the server's archive, bad input sent by the
// peer, and kill -9 in the middle of an exchange.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { startXchat, type XchatProc, type XEvent } from '../helpers/xchat.js';
import protobuf from 'protobufjs';
import { LEGACY_PROTO, decodePreKeyWhisperMessage, encodePreKeyWhisperMessage, encodeWhisperMessageBody, assembleWhisperMessage } from '../../src/omemo/wire.js';
import { xeddsaSign } from '../../src/omemo/xeddsa.js';
import { serializePublicKey } from '../../src/omemo/keys.js';
import { OmemoManager } from '../../src/omemo/manager.js';
import { XmppSession } from '../../src/xmpp/index.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { bundleFromXml, encryptedToXml, parseXml, xmlBundleToBundle } from '../../src/xmpp/omemo-xml.js';
import { generateKeyPair, randomBytes } from '../../src/omemo/primitives.js';
import { toBase64 } from '../../src/omemo/keys.js';
import { filesUnder, grepTree } from '../helpers/files.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody and python3-omemo (scripts/install-test-deps)');

describe.skipIf(!canRun)('xchat <-> python-omemo over Prosody (live)', () => {
  let lab: Lab;
  let dirs: string;
  let aliceJid: string;
  let bobJid: string;
  let bob: Peer | undefined;
  let alice: XchatProc | undefined;

  const startAlice = async (profile = join(dirs, 'alice')): Promise<XchatProc> => {
    const x = startXchat({ profile, password: 'alice-pw', caFile: lab.caFile });
    x.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await x.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    return x;
  };
  const startBob = () =>
    startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
  const aliceDevice = async (): Promise<number> => {
    const r = await bob!.request({ cmd: 'devices', jid: aliceJid });
    const devices = r.devices as { id: number }[];
    expect(Array.isArray(devices), JSON.stringify(r)).toBe(true);
    expect(devices.length).toBe(1);
    return devices[0].id;
  };
  const fromBob = (body: string) => (e: XEvent) => e.event === 'message' && e.body === body;

  beforeAll(async () => {
    lab = await startProsody({ name: 'e2e' });
    aliceJid = await lab.register('alice', 'alice-pw');
    bobJid = await lab.register('bob', 'bob-pw');
    dirs = await mkdtemp(join(tmpdir(), 'xchat-e2e-'));
  });

  afterAll(async () => {
    await alice?.end(5000).catch(() => undefined);
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('exchanges encrypted messages both ways, and reuses the sessions after both restart', async () => {
    bob = await startBob();
    alice = await startAlice();

    alice.send(`/msg ${bobJid} secret-hello-from-xchat`);
    const sent = await alice.waitFor((e) => e.event === 'sent' && e.body === 'secret-hello-from-xchat', 30_000, 'sent');
    expect(sent.encryption).toBe('omemo');
    const got = await bob.waitFor((e) => e.event === 'message' && e.body === 'secret-hello-from-xchat', 20_000);
    expect(got.encrypted).toBe(true);
    expect(got.prekey).toBe(true); // first message: key exchange

    await bob.request({ cmd: 'send', to: aliceJid, body: 'secret-reply-from-python' });
    const reply = await alice.waitFor(fromBob('secret-reply-from-python'), 20_000, 'reply');
    expect(reply).toMatchObject({ encryption: 'omemo', sender_device: bob.ready.device_id });
    expect(reply.from.startsWith(bobJid)).toBe(true);
    expect(['trusted', 'verified']).toContain(reply.trust);

    // Both sides restart from their stored state.
    expect(await alice.end()).toBe(0);
    await bob.stop();
    bob = await startBob();
    alice = await startAlice();

    alice.send(`/msg ${bobJid} secret-after-restart`);
    const again = await bob.waitFor((e) => e.event === 'message' && e.body === 'secret-after-restart', 30_000);
    expect(again.prekey).toBe(false); // the stored session was reused, no new key exchange
    await bob.request({ cmd: 'send', to: aliceJid, body: 'secret-reply-after-restart' });
    await alice.waitFor(fromBob('secret-reply-after-restart'), 20_000, 'reply after restart');
    expect(alice.events.filter((e) => e.event === 'error')).toEqual([]);

    // The server's archive holds the OMEMO elements and the fallback body, never the plaintext.
    await new Promise((r) => setTimeout(r, 500));
    for (const secret of ['secret-hello-from-xchat', 'secret-reply-from-python', 'secret-after-restart', 'secret-reply-after-restart']) {
      expect(await grepTree(lab.dir, secret), secret).toEqual([]);
    }
    expect((await grepTree(lab.dir, 'eu.siacs.conversations.axolotl')).length).toBeGreaterThan(0);
  });

  it('turns each bad input from the peer into one error event naming the sender and keeps working', async () => {
    bob ??= await startBob();
    alice ??= await startAlice();
    const aliceDev = await aliceDevice();
    const bobDev = bob.ready.device_id;
    const online = alice.events.filter((e) => e.event === 'status' && e.status === 'online').at(-1)!;
    const aliceFull = online.jid as string;

    const b64 = (b: Uint8Array) => toBase64(b);
    const key33 = () => {
      const k = new Uint8Array(33);
      k[0] = 5;
      k.set(generateKeyPair().pub, 1);
      return k;
    };
    const fakeWhisper = () => {
      const body = encodeWhisperMessageBody({ ratchetKey: generateKeyPair().pub, counter: 0, previousCounter: 0, ciphertext: randomBytes(16) });
      return assembleWhisperMessage(body, randomBytes(8));
    };
    const iv = b64(randomBytes(12));
    const enc = (header: string, payload = `<payload>${b64(randomBytes(8))}</payload>`) =>
      `<message to='${aliceJid}' type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='${bobDev}'>${header}</header>${payload}</encrypted><body>fallback</body></message>`;
    const truncated = fakeWhisper().slice(0, 7);
    const badVersion = fakeWhisper();
    badVersion[0] = 0x22;
    const oversized = new Uint8Array(100_000).fill(0x41);
    oversized[0] = 0x33;
    // Our encoder refuses a 20-byte identity key, so build this one with the schema directly.
    const PreKeyType = protobuf.parse(LEGACY_PROTO).root.lookupType('xchat.legacy.PreKeyWhisperMessage');
    const shortIdentity = new Uint8Array([
      0x33,
      ...PreKeyType.encode({
        registrationId: bobDev, preKeyId: 1, signedPreKeyId: 1,
        baseKey: key33(), identityKey: randomBytes(20), message: fakeWhisper(),
      }).finish(),
    ]);

    const cases: { name: string; xml: string; expect: RegExp }[] = [
      { name: 'no iv', xml: enc(`<key rid='${aliceDev}'>${b64(fakeWhisper())}</key>`), expect: /iv/i },
      { name: 'bad base64', xml: enc(`<key rid='${aliceDev}'>@@not-base64@@</key><iv>${iv}</iv>`), expect: /base64/i },
      { name: 'no key for us', xml: enc(`<key rid='${aliceDev + 1}'>${b64(fakeWhisper())}</key><iv>${iv}</iv>`), expect: /not encrypted for this device/i },
      { name: 'truncated protobuf', xml: enc(`<key rid='${aliceDev}'>${b64(truncated)}</key><iv>${iv}</iv>`), expect: /protobuf|truncated|short|invalid/i },
      { name: 'oversized protobuf', xml: enc(`<key rid='${aliceDev}'>${b64(oversized)}</key><iv>${iv}</iv>`), expect: /large|size|oversized|exceeds|protobuf/i },
      { name: 'bad version byte', xml: enc(`<key rid='${aliceDev}'>${b64(badVersion)}</key><iv>${iv}</iv>`), expect: /version/i },
      { name: 'bad MAC', xml: enc(`<key rid='${aliceDev}'>${b64(fakeWhisper())}</key><iv>${iv}</iv>`), expect: /mac/i },
      { name: 'wrong key length', xml: enc(`<key rid='${aliceDev}' prekey='true'>${b64(shortIdentity)}</key><iv>${iv}</iv>`), expect: /key|protobuf/i },
      {
        name: 'carbon from a foreign JID',
        xml: `<message to='${aliceJid}' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='${bobJid}/evil' to='${aliceJid}' type='chat'><body>spoofed-carbon</body></message></forwarded></received></message>`,
        expect: /carbon/i,
      },
      {
        name: 'roster push from a foreign JID',
        xml: `<iq type='set' id='evil-roster' to='${aliceFull}'><query xmlns='jabber:iq:roster'><item jid='mallory@localhost'/></query></iq>`,
        expect: /roster/i,
      },
    ];
    for (const c of cases) {
      const before = alice.events.length;
      await bob.request({ cmd: 'send_raw', xml: c.xml });
      const err = await alice.waitFor(
        (e) => e.event === 'error' && alice!.events.indexOf(e) >= before,
        10_000,
        `error for ${c.name}`,
      );
      expect(err.message, c.name).toMatch(c.expect);
      expect(String(err.from ?? err.message), c.name).toContain(bobJid);
    }
    // A PreKey message naming a one-time prekey alice already consumed (and deleted): first a
    // second device of bob's account (built here with our own OMEMO code) starts a real session
    // with alice, consuming one prekey; then a different key exchange names that prekey again.
    const bundleAnswer = await bob.request({ cmd: 'bundle_b64', jid: aliceJid, device: aliceDev });
    const aliceBundle = xmlBundleToBundle(
      bundleFromXml(parseXml(Buffer.from(String(bundleAnswer.xml_b64), 'base64').toString('utf8')), aliceDev),
    );
    const second = new OmemoManager(new MemoryOmemoStore(), { ownJid: bobJid, trustMode: 'blind' });
    await second.ensureIdentity([bobDev]);
    await second.processDeviceList(aliceJid, [aliceDev]);
    const first = await second.encrypt('from-a-second-device', [aliceJid], async () => aliceBundle);
    const firstKey = first.element.keys.find((k) => k.rid === aliceDev)!;
    expect(firstKey.prekey).toBe(true);
    const consumed = decodePreKeyWhisperMessage(firstKey.data).preKeyId;
    await bob.request({ cmd: 'send_raw', xml: `<message to='${aliceJid}' type='chat'>${encryptedToXml(first.element).toString()}</message>` });
    await alice.waitFor((e) => e.event === 'message' && e.body === 'from-a-second-device', 10_000, 'second device message');
    const spkId = aliceBundle.signedPreKeyId;
    // The consumed prekey was deleted, replaced and the bundle republished with 100 prekeys.
    {
      let republished: { preKeys: { id: number }[] } | undefined;
      for (let i = 0; i < 20 && !republished; i++) {
        const r = await bob.request({ cmd: 'bundle_b64', jid: aliceJid, device: aliceDev });
        const b = xmlBundleToBundle(bundleFromXml(parseXml(Buffer.from(String(r.xml_b64), 'base64').toString('utf8')), aliceDev));
        if (!b.preKeys.some((p) => p.id === consumed)) republished = b;
        else await new Promise((res) => setTimeout(res, 250));
      }
      expect(republished, 'bundle republished without the consumed prekey').toBeDefined();
      expect(republished!.preKeys.length).toBe(100);
    }
    const reused = encodePreKeyWhisperMessage({
      registrationId: bobDev, preKeyId: consumed!, signedPreKeyId: spkId,
      baseKey: generateKeyPair().pub, identityKey: generateKeyPair().pub, message: fakeWhisper(),
    });
    {
      const before = alice.events.length;
      await bob.request({ cmd: 'send_raw', xml: enc(`<key rid='${aliceDev}' prekey='true'>${b64(reused)}</key><iv>${iv}</iv>`) });
      const err = await alice.waitFor((e) => e.event === 'error' && alice!.events.indexOf(e) >= before, 10_000, 'deleted prekey error');
      expect(err.message).toMatch(/prekey/i);
      expect(err.message).toContain(bobJid);
    }

    // Junk device ids and broken bundles published by the peer on its own PEP nodes.
    const signer = generateKeyPair();
    const spk = generateKeyPair();
    const spkSig = xeddsaSign(signer.priv, serializePublicKey(spk.pub));
    const k = (raw: Uint8Array) => b64(serializePublicKey(raw));
    const bundleXml = (id: number, o: { sig?: Uint8Array; prekeys?: Uint8Array[] }) =>
      `<iq type='set' id='pub-${id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='eu.siacs.conversations.axolotl.bundles:${id}'><item id='current'>` +
      `<bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic signedPreKeyId='1'>${k(spk.pub)}</signedPreKeyPublic>` +
      `<signedPreKeySignature>${b64(o.sig ?? spkSig)}</signedPreKeySignature><identityKey>${k(signer.pub)}</identityKey>` +
      `<prekeys>${(o.prekeys ?? []).map((p, i) => `<preKeyPublic preKeyId='${i + 1}'>${k(p)}</preKeyPublic>`).join('')}</prekeys>` +
      `</bundle></item></publish>${openAccess}</pubsub></iq>`;
    const openAccess =
      `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
      `<field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;
    const lowOrder = new Uint8Array(32); // u = 0: a low-order point
    await bob.request({ cmd: 'send_raw', xml: bundleXml(4242, { sig: randomBytes(64), prekeys: [generateKeyPair().pub] }) });
    await bob.request({ cmd: 'send_raw', xml: bundleXml(4243, { prekeys: [] }) });
    await bob.request({ cmd: 'send_raw', xml: bundleXml(4244, { prekeys: [lowOrder] }) });
    await bob.request({
      cmd: 'send_raw',
      xml: `<iq type='set' id='pub-list'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='eu.siacs.conversations.axolotl.devicelist'><item id='current'>` +
        `<list xmlns='eu.siacs.conversations.axolotl'><device id='${bobDev}'/><device id='abc'/><device id='0'/><device id='4242'/><device id='4243'/><device id='4244'/></list></item></publish>${openAccess}</pubsub></iq>`,
    });
    await new Promise((r) => setTimeout(r, 500));
    {
      const before = alice.events.length;
      alice.send(`/omemo fingerprint ${bobJid}`);
      const since = (e: XEvent) => alice!.events.indexOf(e) >= before;
      const junk = await alice.waitFor((e) => e.event === 'error' && since(e) && /invalid device ids/.test(e.message), 10_000, 'junk ids');
      expect(junk.message).toMatch(/abc/);
      const badSig = await alice.waitFor((e) => e.event === 'error' && since(e) && /device 4242/.test(e.message), 10_000, 'bad signature');
      expect(badSig.message).toMatch(/signature/i);
      const noPre = await alice.waitFor((e) => e.event === 'error' && since(e) && /device 4243/.test(e.message), 10_000, 'no prekeys');
      expect(noPre.message).toMatch(/prekey/i);
      const low = await alice.waitFor((e) => e.event === 'error' && since(e) && /device 4244/.test(e.message), 10_000, 'low order');
      expect(low.message).toMatch(/low-order|low order|invalid/i);
      for (const e of [junk, badSig, noPre, low]) expect(String(e.from)).toContain(bobJid);
    }

    expect(alice.events.some((e) => e.event === 'message' && e.body === 'spoofed-carbon')).toBe(false);
    expect(alice.events.some((e) => e.event === 'message' && e.body === 'fallback')).toBe(false);

    // The sessions survived all of it, both ways.
    await bob.request({ cmd: 'send', to: aliceJid, body: 'still-works-python' });
    await alice.waitFor(fromBob('still-works-python'), 20_000, 'message after bad input');
    alice.send(`/msg ${bobJid} still-works-xchat`);
    await bob.waitFor((e) => e.event === 'message' && e.body === 'still-works-xchat', 20_000);
    // The broken devices were reported, not silently skipped.
    const warning = await alice.waitFor((e) => e.event === 'warning' && /4242/.test(e.message), 10_000, 'warning');
    expect(warning.message).toMatch(/4243/);
  });

  it('never reuses a message key after kill -9 in the middle of sending', async () => {
    bob ??= await startBob();
    alice ??= await startAlice();
    const decryptErrors = () => bob!.events.filter((e) => e.event === 'decrypt_error').length;
    const errorsBefore = decryptErrors();
    let sentBeforeCrash = 0;
    // Three crashes at different points of a burst: after the 2nd, 6th and 10th reported send.
    for (const [round, killAfter] of [2, 6, 10].entries()) {
      if (round > 0) alice = await startAlice();
      for (let i = 0; i < 30; i++) alice.send(`/msg ${bobJid} burst-${round}-${i}`);
      await alice.waitFor((e) => e.event === 'sent' && e.body === `burst-${round}-${killAfter}`, 30_000, 'some sends');
      await alice.kill9();
      sentBeforeCrash += alice.events.filter((e) => e.event === 'sent' && String(e.body).startsWith('burst-')).length;
    }

    alice = await startAlice();
    for (let i = 0; i < 5; i++) alice.send(`/msg ${bobJid} after-crash-${i}`);
    for (let i = 0; i < 5; i++) {
      const m = await bob.waitFor((e) => e.event === 'message' && e.body === `after-crash-${i}`, 30_000);
      expect(m.prekey).toBe(false);
    }
    // Every message reported sent before the crash reached bob intact; nothing failed to decrypt,
    // which a reused (counter, chain) pair would cause at the python ratchet.
    const burstReceived = bob.events.filter((e) => e.event === 'message' && String(e.body).startsWith('burst-')).length;
    expect(burstReceived).toBeGreaterThanOrEqual(sentBeforeCrash);
    expect(decryptErrors()).toBe(errorsBefore);
  });

  it('puts its own device back when another client of the account drops it from the list', async () => {
    bob ??= await startBob();
    alice ??= await startAlice();
    const aliceDev = await aliceDevice();
    // Another client of alice's account publishes a device list without xchat's device.
    const other = new XmppSession();
    await other.connect({ jid: `${aliceJid}/other`, password: 'alice-pw', server: lab.host, port: lab.c2sPort, ca: await readFile(lab.caFile) });
    try {
      await other.pep.publishDeviceList([]);
      let ids: number[] = [];
      for (let i = 0; i < 40 && !ids.includes(aliceDev); i++) {
        await new Promise((r) => setTimeout(r, 250));
        ids = (await other.pep.fetchDeviceList(aliceJid)).ids;
      }
      expect(ids).toContain(aliceDev);
    } finally {
      await other.disconnect();
    }
  });
});
