import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isOmemoError } from '../../src/omemo/errors.js';
import { SessionRecord } from '../../src/omemo/ratchet.js';
import {
  LEGACY_PROTO,
  MAX_MESSAGE_BYTES,
  assembleWhisperMessage,
  decodePreKeyWhisperMessage,
  decodeWhisperMessage,
  encodePreKeyWhisperMessage,
  encodeStoredSessionRecord,
  encodeWhisperMessageBody,
  type StoredChain,
  type StoredSessionRecord,
  type StoredSessionState,
} from '../../src/omemo/wire.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isOmemoError(e)) return e.code;
    throw e;
  }
  return 'ok';
}

/** Hand-built protobuf (tag, value) pieces so field order and presence are under test control. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
const fVarint = (field: number, v: number) => [...varint(field << 3), ...varint(v)];
const fBytes = (field: number, b: Uint8Array) => [...varint((field << 3) | 2), ...varint(b.length), ...b];
const key33 = (v: number) => Uint8Array.of(0x05, ...fill(32, v));

describe('legacy wire codec', () => {
  it('embedded schema is identical to proto/legacy.proto', () => {
    const file = readFileSync(fileURLToPath(new URL('../../src/omemo/proto/legacy.proto', import.meta.url)), 'utf8');
    expect(LEGACY_PROTO).toBe(file);
  });

  it('emits zero-valued counter and previousCounter, in field-number order', () => {
    const body = encodeWhisperMessageBody({ ratchetKey: fill(32, 1), counter: 0, previousCounter: 0, ciphertext: fill(16, 9) });
    const expected = Uint8Array.of(0x33, ...fBytes(1, key33(1)), ...fVarint(2, 0), ...fVarint(3, 0), ...fBytes(4, fill(16, 9)));
    expect(hex(body)).toBe(hex(expected));
    // 0x10 0x00 = counter 0, 0x18 0x00 = previousCounter 0
    expect(hex(body)).toContain('10001800');
  });

  it('PreKeyWhisperMessage emits all six fields in number order, zeros included', () => {
    const inner = assembleWhisperMessage(
      encodeWhisperMessageBody({ ratchetKey: fill(32, 1), counter: 0, previousCounter: 0, ciphertext: fill(16, 9) }),
      fill(8, 7),
    );
    const pk = encodePreKeyWhisperMessage({
      registrationId: 0,
      preKeyId: 5,
      signedPreKeyId: 0,
      baseKey: fill(32, 2),
      identityKey: fill(32, 3),
      message: inner,
    });
    const expected = Uint8Array.of(
      0x33,
      ...fVarint(1, 5),
      ...fBytes(2, key33(2)),
      ...fBytes(3, key33(3)),
      ...fBytes(4, inner),
      ...fVarint(5, 0),
      ...fVarint(6, 0),
    );
    expect(hex(pk)).toBe(hex(expected));
    const d = decodePreKeyWhisperMessage(pk);
    expect(d.preKeyId).toBe(5);
    expect(d.signedPreKeyId).toBe(0);
    expect(hex(d.baseKey)).toBe(hex(fill(32, 2)));
    expect(hex(d.identityKey)).toBe(hex(fill(32, 3)));
    expect(hex(d.whisper.mac)).toBe(hex(fill(8, 7)));
  });

  it('round-trips a WhisperMessage and keeps the exact received bytes for the MAC', () => {
    // Field order 4, 3, 2, 1: a re-encoding would differ, macInput must not.
    const reordered = Uint8Array.of(0x33, ...fBytes(4, fill(32, 9)), ...fVarint(3, 4), ...fVarint(2, 7), ...fBytes(1, key33(6)));
    const data = Uint8Array.of(...reordered, ...fill(8, 0xaa));
    const m = decodeWhisperMessage(data);
    expect(m.counter).toBe(7);
    expect(m.previousCounter).toBe(4);
    expect(hex(m.ratchetKey)).toBe(hex(fill(32, 6)));
    expect(hex(m.macInput)).toBe(hex(reordered));
    expect(hex(m.mac)).toBe(hex(fill(8, 0xaa)));
    expect(hex(encodeWhisperMessageBody(m))).not.toBe(hex(reordered));
  });

  it('rejects bad version bytes', () => {
    const body = encodeWhisperMessageBody({ ratchetKey: fill(32, 1), counter: 1, previousCounter: 0, ciphertext: fill(16, 9) });
    for (const v of [0x00, 0x13, 0x23, 0x43, 0xf3]) {
      const data = assembleWhisperMessage(Uint8Array.of(v, ...body.subarray(1)), fill(8, 0));
      expect(code(() => decodeWhisperMessage(data)), `version 0x${v.toString(16)}`).toBe('bad-version');
      expect(code(() => decodePreKeyWhisperMessage(Uint8Array.of(v, 0x08, 0x01)))).toBe('bad-version');
    }
  });

  it('rejects missing required fields as bad-protobuf', () => {
    const mac = fill(8, 0);
    const parts = { rk: fBytes(1, key33(1)), ctr: fVarint(2, 0), pc: fVarint(3, 0), ct: fBytes(4, fill(16, 1)) };
    expect(code(() => decodeWhisperMessage(Uint8Array.of(0x33, ...parts.rk, ...parts.ctr, ...parts.pc, ...parts.ct, ...mac)))).toBe('ok');
    expect(code(() => decodeWhisperMessage(Uint8Array.of(0x33, ...parts.rk, ...parts.ct, ...mac)))).toBe('bad-protobuf'); // counter
    expect(code(() => decodeWhisperMessage(Uint8Array.of(0x33, ...parts.ctr, ...parts.ct, ...mac)))).toBe('bad-protobuf'); // ratchetKey
    expect(code(() => decodeWhisperMessage(Uint8Array.of(0x33, ...parts.rk, ...parts.ctr, ...mac)))).toBe('bad-protobuf'); // ciphertext
    // previousCounter is optional in libsignal
    expect(decodeWhisperMessage(Uint8Array.of(0x33, ...parts.rk, ...parts.ctr, ...parts.ct, ...mac)).previousCounter).toBe(0);

    const inner = Uint8Array.of(0x33, ...parts.rk, ...parts.ctr, ...parts.pc, ...parts.ct, ...mac);
    const pk = {
      pre: fVarint(1, 1),
      base: fBytes(2, key33(2)),
      ik: fBytes(3, key33(3)),
      msg: fBytes(4, inner),
      reg: fVarint(5, 9),
      spk: fVarint(6, 1),
    };
    const build = (omit: keyof typeof pk) =>
      Uint8Array.of(0x33, ...Object.entries(pk).flatMap(([k, v]) => (k === omit ? [] : v)));
    expect(code(() => decodePreKeyWhisperMessage(build('reg')))).toBe('ok');
    for (const f of ['pre', 'base', 'ik', 'msg', 'spk'] as const) {
      expect(code(() => decodePreKeyWhisperMessage(build(f))), f).toBe('bad-protobuf');
    }
  });

  it('rejects truncated, garbage and oversized input without crashing', () => {
    const full = assembleWhisperMessage(
      encodeWhisperMessageBody({ ratchetKey: fill(32, 1), counter: 300, previousCounter: 2, ciphertext: fill(32, 9) }),
      fill(8, 1),
    );
    const pk = encodePreKeyWhisperMessage({
      registrationId: 1,
      preKeyId: 2,
      signedPreKeyId: 3,
      baseKey: fill(32, 2),
      identityKey: fill(32, 3),
      message: full,
    });
    for (let n = 0; n < full.length; n++) {
      expect(['bad-protobuf', 'bad-key', 'bad-version']).toContain(code(() => decodeWhisperMessage(full.subarray(0, n))));
    }
    for (let n = 0; n < pk.length; n++) {
      expect(['bad-protobuf', 'bad-key', 'bad-version']).toContain(code(() => decodePreKeyWhisperMessage(pk.subarray(0, n))));
    }
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let i = 0; i < 500; i++) {
      const g = Uint8Array.from({ length: 1 + (rnd() % 80) }, rnd);
      g[0] = 0x33;
      expect(['bad-protobuf', 'bad-key', 'ok']).toContain(code(() => decodeWhisperMessage(g)));
      expect(['bad-protobuf', 'bad-key', 'ok']).toContain(code(() => decodePreKeyWhisperMessage(g)));
    }
    const huge = new Uint8Array(MAX_MESSAGE_BYTES + 1);
    huge[0] = 0x33;
    expect(code(() => decodeWhisperMessage(huge))).toBe('bad-protobuf');
    expect(code(() => decodePreKeyWhisperMessage(huge))).toBe('bad-protobuf');
  });

  it('rejects keys without the 0x05 type byte', () => {
    const bad = Uint8Array.of(0x33, ...fBytes(1, Uint8Array.of(0x06, ...fill(32, 1))), ...fVarint(2, 0), ...fBytes(4, fill(16, 1)), ...fill(8, 0));
    expect(code(() => decodeWhisperMessage(bad))).toBe('bad-key');
  });
});

describe('stored session record encoder', () => {
  // A small deterministic generator, so a failure reproduces.
  let seed = 1;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rand(256));
  // uint32 values across every varint length, 0 and the maximum included.
  const uint = () => [0, 1, 127, 128, 16383, 16384, 2097152, 0xffffffff, rand(1 << 30)][rand(9)];
  const chain = (sending: boolean): StoredChain => ({
    ratchetPub: bytes(32),
    ...(sending ? { ratchetPriv: bytes(32) } : {}),
    chainKey: bytes(32),
    index: uint(),
    messageKeys: Array.from({ length: rand(20) === 0 ? 200 : rand(3) }, () => ({ index: uint(), seed: bytes(32) })),
  });
  const state = (): StoredSessionState => ({
    localIdentity: bytes(32),
    remoteIdentity: bytes(32),
    rootKey: bytes(32),
    previousCounter: uint(),
    ...(rand(4) ? { senderChain: chain(true) } : {}),
    receiverChains: Array.from({ length: rand(6) }, () => chain(false)),
    ...(rand(2) ? { pendingPreKey: { preKeyId: uint(), signedPreKeyId: uint(), baseKey: bytes(32) } } : {}),
    localRegistrationId: uint(),
    remoteRegistrationId: uint(),
    aliceBaseKey: bytes(rand(3) ? 32 : 0),
  });

  it('a session record reads back what was written, byte for byte', () => {
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    for (let i = 0; i < 100; i++) {
      const r: StoredSessionRecord = {
        formatVersion: 1,
        ...(rand(5) ? { current: state() } : {}),
        previous: Array.from({ length: rand(10) === 0 ? 40 : rand(3) }, state),
      };
      const ours = encodeStoredSessionRecord(r);
      const back = SessionRecord.deserialize(ours);
      expect(back.previous.length).toBe(r.previous.length);
      expect(back.current?.receiverChains.length).toBe(r.current?.receiverChains.length);
      expect(same(back.serialize(), ours), `record ${i} read back`).toBe(true);
    }
  });
});
