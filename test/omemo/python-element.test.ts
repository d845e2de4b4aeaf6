// Whole <encrypted> contents both ways with python-omemo 1.0.2 + python-oldmemo (SessionManager,
// etree bundle/message serialization): key exchange, payload, key transport, session completion.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Bundle } from '../../src/omemo/device.js';
import { fromBase64Strict, toBase64 } from '../../src/omemo/keys.js';
import { OmemoManager, type EncryptedElement } from '../../src/omemo/manager.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { pythonAvailable, runPython } from '../helpers/python.js';

const ORACLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../python/oracle_element.py');
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
  keys: { rid: number; prekey: boolean; data: string }[];
  iv: string;
  payload?: string;
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
  keys: e.keys.map((k) => ({ rid: k.rid, prekey: k.prekey, data: toBase64(k.data) })),
  iv: toBase64(e.iv),
  ...(e.payload ? { payload: toBase64(e.payload) } : {}),
});
const elementFromJson = (e: JsonElement): EncryptedElement => ({
  sid: e.sid,
  keys: e.keys.map((k) => ({ rid: k.rid, prekey: k.prekey, data: fromBase64Strict(k.data) })),
  iv: fromBase64Strict(e.iv),
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
  async encrypt(us: { id: number; bundle: Bundle }, plaintext: string): Promise<EncryptedElement> {
    const out = await runPython(ORACLE, {
      op: 'encrypt',
      jid: PY,
      state: this.state,
      peers: { [US]: { [us.id]: bundleToJson(us.bundle) } },
      plaintext,
    });
    this.state = out.state;
    return elementFromJson(out.element);
  }
  async decrypt(us: { id: number; bundle: Bundle }, el: EncryptedElement): Promise<{ plaintext: string | null; senderDevice: number; sent: EncryptedElement[] }> {
    const out = await runPython(ORACLE, {
      op: 'decrypt',
      jid: PY,
      state: this.state,
      sender: US,
      peers: { [US]: { [us.id]: bundleToJson(us.bundle) } },
      element: elementToJson(el),
    });
    this.state = out.state;
    return { plaintext: out.plaintext, senderDevice: out.senderDevice, sent: out.sent.map((s: { element: JsonElement }) => elementFromJson(s.element)) };
  }
}

async function makeUs(): Promise<{ m: OmemoManager; id: number; bundle: Bundle }> {
  const m = new OmemoManager(new MemoryOmemoStore(), { ownJid: US });
  const { deviceId } = await m.ensureIdentity([]);
  await m.processDeviceList(US, [deviceId]);
  return { m, id: deviceId, bundle: await m.ownBundle() };
}

const available = pythonAvailable();
if (!available) console.warn('python-element: /usr/bin/python3 missing, skipping');
if (!available && process.env.CI === 'true') throw new Error('/usr/bin/python3 is required under CI');

describe.skipIf(!available)('whole elements with python-oldmemo', () => {
  it('(a) python encrypts for our bundle, we decrypt; our reply decrypts in python', async () => {
    const py = new PyDevice();
    await py.create();
    const us = await makeUs();
    const el = await py.encrypt(us, 'hello from python ✓');
    expect(el.sid).toBe(py.deviceId);
    expect(el.keys.map((k) => k.rid)).toEqual([us.id]);
    expect(el.keys[0].prekey).toBe(true);
    expect(el.iv.length).toBe(12);
    const r = await us.m.decrypt(PY, el);
    expect(r.plaintext).toBe('hello from python ✓');
    expect(r.senderDevice).toBe(py.deviceId);
    expect(r.bundleChanged).toBe(true);
    expect(r.sendEmptyReply).toBe(true);
    expect(Buffer.from(r.fingerprint, 'hex')).toEqual(Buffer.from(py.bundle.identityKey));

    // python keeps sending PreKey messages until we answer; the second one decrypts too
    const el2 = await py.encrypt(us, 'second');
    expect(el2.keys[0].prekey).toBe(true);
    expect((await us.m.decrypt(PY, el2)).plaintext).toBe('second');

    await us.m.processDeviceList(PY, [py.deviceId]);
    const reply = await us.m.encrypt('reply from xchat', [PY, US], async () => py.bundle);
    expect(reply.element.keys.map((k) => [k.rid, k.prekey])).toEqual([[py.deviceId, false]]);
    const got = await py.decrypt(us, reply.element);
    expect(got.plaintext).toBe('reply from xchat');
    expect(got.senderDevice).toBe(us.id);

    // after our reply python's messages are plain WhisperMessages
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
    expect(res.recipients.map((r) => r.status)).toEqual(['ok']);
    expect(res.element.keys[0].prekey).toBe(true);
    const got = await py.decrypt(us, res.element);
    expect(got.plaintext).toBe('hello python');
    expect(got.senderDevice).toBe(us.id);
    // python-omemo answers a key exchange with an empty message
    expect(got.sent.length).toBe(1);
    const empty = got.sent[0];
    expect(empty.payload).toBeUndefined();
    const r = await us.m.decrypt(PY, empty);
    expect(r.plaintext).toBeNull();

    // session complete: no PreKey message any more; key transport also decrypts in python
    const kt = await us.m.encrypt(null, [PY], async () => py.bundle);
    expect(kt.element.keys[0].prekey).toBe(false);
    expect(kt.element.payload).toBeUndefined();
    expect((await py.decrypt(us, kt.element)).plaintext).toBeNull();
    const m2 = await us.m.encrypt('second message', [PY], async () => py.bundle);
    expect((await py.decrypt(us, m2.element)).plaintext).toBe('second message');
    const back = await py.encrypt(us, 'python replies');
    expect(back.keys[0].prekey).toBe(false);
    expect((await us.m.decrypt(PY, back)).plaintext).toBe('python replies');
  });
});
