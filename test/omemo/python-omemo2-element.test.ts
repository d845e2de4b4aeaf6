// Whole OMEMO 2 messages both ways with python-omemo 1.0.2 + python-twomemo (SessionManager,
// twomemo.etree bundles and elements, SCE envelopes built and parsed by python's ElementTree):
// key exchange, payload, empty messages, session completion, and refused envelopes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Bundle } from '../../src/omemo/device.js';
import { fromBase64Strict, toBase64, toHex } from '../../src/omemo/keys.js';
import { OmemoManager, type EncryptedElement } from '../../src/omemo/manager.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { omemo2Backend } from '../../src/omemo/omemo2-backend.js';
import { ed25519PublicToX25519 } from '../../src/omemo/primitives.js';
import { pythonAvailable, runPython } from '../helpers/python.js';

const ORACLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../python/oracle_twomemo_element.py');
const PY = 'py@example.org';
const US = 'us@example.org';

interface JsonBundle {
  deviceId: number;
  identityKey: string;
  signedPreKeyId: number;
  signedPreKey: string;
  signedPreKeySignature: string;
  preKeys: { id: number; key: string }[];
}
interface JsonElement {
  sid: number;
  keys: { jid: string; rid: number; kex: boolean; data: string }[];
  payload?: string;
}
interface PyEnvelope {
  body: string | null;
  from: string | null;
  to: string | null;
  rpad: string | null;
  time: string | null;
}

const bundleToJson = (b: Bundle): JsonBundle => ({
  deviceId: b.deviceId,
  identityKey: toBase64(b.identityKey),
  signedPreKeyId: b.signedPreKeyId,
  signedPreKey: toBase64(b.signedPreKey),
  signedPreKeySignature: toBase64(b.signedPreKeySignature),
  preKeys: b.preKeys.map((p) => ({ id: p.id, key: toBase64(p.key) })),
});
const bundleFromJson = (b: JsonBundle): Bundle => ({
  deviceId: b.deviceId,
  identityKey: fromBase64Strict(b.identityKey),
  signedPreKeyId: b.signedPreKeyId,
  signedPreKey: fromBase64Strict(b.signedPreKey),
  signedPreKeySignature: fromBase64Strict(b.signedPreKeySignature),
  preKeys: b.preKeys.map((p) => ({ id: p.id, key: fromBase64Strict(p.key) })),
});
const elementToJson = (e: EncryptedElement): JsonElement => ({
  sid: e.sid,
  keys: e.keys.map((k) => ({ jid: k.jid!, rid: k.rid, kex: k.prekey, data: toBase64(k.data) })),
  ...(e.payload ? { payload: toBase64(e.payload) } : {}),
});
const elementFromJson = (e: JsonElement): EncryptedElement => ({
  sid: e.sid,
  keys: e.keys.map((k) => ({ jid: k.jid, rid: k.rid, prekey: k.kex, data: fromBase64Strict(k.data) })),
  iv: new Uint8Array(0),
  ...(e.payload !== undefined ? { payload: fromBase64Strict(e.payload) } : {}),
});

class PyDevice {
  state: unknown;
  deviceId = 0;
  bundle!: Bundle;
  async create(): Promise<void> {
    const out = await runPython(ORACLE, { op: 'create', jid: PY });
    this.state = out.state;
    this.deviceId = out.deviceId;
    this.bundle = bundleFromJson(out.bundle);
  }
  async encrypt(us: Us, body: string, extra: { envelope_from?: string; raw?: string } = {}): Promise<EncryptedElement> {
    const out = await runPython(ORACLE, { op: 'encrypt', jid: PY, state: this.state, peers: { [US]: { [us.id]: bundleToJson(us.bundle) } }, body, ...extra });
    this.state = out.state;
    return elementFromJson(out.element);
  }
  async decrypt(us: Us, el: EncryptedElement): Promise<{ envelope: PyEnvelope | null; senderDevice: number; sent: EncryptedElement[] }> {
    const out = await runPython(ORACLE, {
      op: 'decrypt',
      jid: PY,
      state: this.state,
      sender: US,
      peers: { [US]: { [us.id]: bundleToJson(us.bundle) } },
      element: elementToJson(el),
    });
    this.state = out.state;
    return { envelope: out.envelope, senderDevice: out.senderDevice, sent: out.sent.map((s: { element: JsonElement }) => elementFromJson(s.element)) };
  }
}

interface Us {
  m: OmemoManager;
  id: number;
  bundle: Bundle;
}

async function makeUs(): Promise<Us> {
  const m = new OmemoManager(new MemoryOmemoStore(), { ownJid: US, backend: omemo2Backend });
  const { deviceId } = await m.ensureIdentity([]);
  await m.processDeviceList(US, [deviceId]);
  return { m, id: deviceId, bundle: await m.ownBundle() };
}

const available = pythonAvailable();
if (!available) console.warn('python-omemo2-element: /usr/bin/python3 missing, skipping');
if (!available && process.env.CI === 'true') throw new Error('/usr/bin/python3 is required under CI');

describe.skipIf(!available)('whole OMEMO 2 elements with python-twomemo', () => {
  it('(a) python encrypts for our bundle, we decrypt; our reply decrypts in python and its envelope parses there', async () => {
    const py = new PyDevice();
    await py.create();
    const us = await makeUs();
    const el = await py.encrypt(us, 'hello from python ✓ <&>');
    expect(el.keys.map((k) => [k.jid, k.rid, k.prekey])).toEqual([[US, us.id, true]]);
    const r = await us.m.decrypt(PY, el, { to: US });
    expect(r.plaintext).toBe('hello from python ✓ <&>');
    expect([r.senderDevice, r.bundleChanged, r.sendEmptyReply]).toEqual([py.deviceId, true, true]);
    // One fingerprint: the Curve25519 form of python's Ed25519 <ik>.
    expect(r.fingerprint).toBe(toHex(ed25519PublicToX25519(py.bundle.identityKey)));
    expect(r.content?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // python keeps sending key exchanges until we answer; the second one decrypts too
    const el2 = await py.encrypt(us, 'second');
    expect(el2.keys[0].prekey).toBe(true);
    expect((await us.m.decrypt(PY, el2)).plaintext).toBe('second');

    await us.m.processDeviceList(PY, [py.deviceId]);
    const reply = await us.m.encrypt('reply from xchat <b>&amp;</b>', [PY, US], async () => py.bundle, { to: PY });
    expect(reply.element.keys.map((k) => [k.jid, k.rid, k.prekey])).toEqual([[PY, py.deviceId, false]]);
    expect(reply.element.iv.length).toBe(0);
    const got = await py.decrypt(us, reply.element);
    expect(got.senderDevice).toBe(us.id);
    expect(got.envelope).toMatchObject({ body: 'reply from xchat <b>&amp;</b>', from: US, to: PY });
    expect(got.envelope!.rpad!.length).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(got.envelope!.time!))).toBe(false);

    // after our reply python's messages are plain OMEMOAuthenticatedMessages
    const el3 = await py.encrypt(us, 'third');
    expect(el3.keys[0].prekey).toBe(false);
    expect((await us.m.decrypt(PY, el3)).plaintext).toBe('third');
  });

  it('(b) we encrypt for a python bundle, python decrypts; its session-completing empty message decrypts here', async () => {
    const py = new PyDevice();
    await py.create();
    const us = await makeUs();
    await us.m.processDeviceList(PY, [py.deviceId]);
    const res = await us.m.encrypt('hello python', [PY, US], async (jid, id) => {
      expect([jid, id]).toEqual([PY, py.deviceId]);
      return py.bundle;
    });
    expect(res.recipients.map((r) => [r.status, r.fingerprint])).toEqual([['ok', toHex(ed25519PublicToX25519(py.bundle.identityKey))]]);
    expect(res.element.keys[0].prekey).toBe(true);
    const got = await py.decrypt(us, res.element);
    expect(got.envelope).toMatchObject({ body: 'hello python', from: US });
    // python-omemo answers a key exchange with an empty message (no payload)
    expect(got.sent.length).toBe(1);
    expect(got.sent[0].payload).toBeUndefined();
    expect((await us.m.decrypt(PY, got.sent[0])).plaintext).toBeNull();

    // session complete: no key exchange any more; an empty message of ours decrypts in python too
    const kt = await us.m.encrypt(null, [PY], async () => py.bundle);
    expect(kt.element.keys[0].prekey).toBe(false);
    expect(kt.element.payload).toBeUndefined();
    expect((await py.decrypt(us, kt.element)).envelope).toBeNull();
    const m2 = await us.m.encrypt('second message', [PY], async () => py.bundle);
    expect((await py.decrypt(us, m2.element)).envelope?.body).toBe('second message');
    const back = await py.encrypt(us, 'python replies');
    expect(back.keys[0].prekey).toBe(false);
    expect((await us.m.decrypt(PY, back)).plaintext).toBe('python replies');
  });

  it('(c) an envelope naming another sender, or no envelope at all, is refused and changes nothing', async () => {
    const py = new PyDevice();
    await py.create();
    const us = await makeUs();
    const lying = await py.encrypt(us, 'trust me', { envelope_from: 'mallory@example.org' });
    await expect(us.m.decrypt(PY, lying)).rejects.toMatchObject({ code: 'envelope-mismatch' });
    const notXml = await py.encrypt(us, '', { raw: Buffer.from('just a body').toString('hex') });
    await expect(us.m.decrypt(PY, notXml)).rejects.toMatchObject({ code: 'bad-envelope' });
    const bare = await py.encrypt(us, '', { raw: Buffer.from("<body xmlns='jabber:client'>hi</body>").toString('hex') });
    await expect(us.m.decrypt(PY, bare)).rejects.toMatchObject({ code: 'bad-envelope' });
    // Nothing was stored: the prekey those key exchanges named is still there, so the honest
    // retransmission builds the session now.
    const honest = await py.encrypt(us, 'honest');
    const r = await us.m.decrypt(PY, honest);
    expect([r.plaintext, r.bundleChanged]).toEqual(['honest', true]);
  });
});
