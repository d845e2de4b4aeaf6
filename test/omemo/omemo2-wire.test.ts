// The OMEMO 2 protobuf codec: the schema is python-twomemo's, required fields (zeros included) are
// emitted, the MACed bytes travel untouched, and every malformed input is one typed error.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isOmemoError } from '../../src/omemo/errors.js';
import { SessionRecord } from '../../src/omemo/ratchet.js';
import {
  MAX_MESSAGE_BYTES,
  OMEMO2_PROTO,
  decodeAuthenticated,
  decodeKeyExchange,
  decodeStoredSession,
  encodeAuthenticated,
  encodeKeyExchange,
  encodeOmemoMessage,
  encodeStoredSession,
  type StoredSession,
} from '../../src/omemo/omemo2/wire.js';
import { encodeStoredSessionRecord } from '../../src/omemo/wire.js';

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

const message = () => encodeOmemoMessage({ n: 0, pn: 0, dhPub: fill(32, 1), ciphertext: fill(16, 2) });
const authenticated = () => encodeAuthenticated(fill(16, 3), message());
const kex = () => encodeKeyExchange({ preKeyId: 5, signedPreKeyId: 6, identityKey: fill(32, 7), ephemeralKey: fill(32, 8) }, authenticated());

/** Hand-built protobuf: a field with a varint or a length-delimited value. */
const varint = (field: number, v: number) => [field << 3, v];
const bytes = (field: number, b: Uint8Array) => [(field << 3) | 2, b.length, ...b];

describe('OMEMO 2 wire format', () => {
  it('embedded schema is identical to proto/omemo2.proto', () => {
    const file = readFileSync(fileURLToPath(new URL('../../src/omemo/proto/omemo2.proto', import.meta.url)), 'utf8');
    expect(OMEMO2_PROTO).toBe(file);
  });

  it('OMEMOMessage emits n = 0 and pn = 0 and fields in number order, as python protobuf does', () => {
    expect(hex(message())).toBe(`08001000` + `1a20${'01'.repeat(32)}` + `2210${'02'.repeat(16)}`);
  });

  it('a key exchange embeds the authenticated message byte for byte and decodes back', () => {
    const data = kex();
    const auth = authenticated();
    expect(hex(data).endsWith(`2a${auth.length.toString(16)}${hex(auth)}`)).toBe(true);
    const k = decodeKeyExchange(data);
    expect([k.preKeyId, k.signedPreKeyId, hex(k.identityKey), hex(k.ephemeralKey)]).toEqual([5, 6, '07'.repeat(32), '08'.repeat(32)]);
    expect(k.authenticated.messageBytes).toEqual(message());
    expect(k.authenticated.message).toEqual({ n: 0, pn: 0, dhPub: fill(32, 1), ciphertext: fill(16, 2) });
  });

  it('every truncation of a message or key exchange is a typed error, never a result or a crash', () => {
    for (const [data, decode] of [
      [authenticated(), decodeAuthenticated],
      [kex(), decodeKeyExchange],
    ] as const) {
      for (let len = 0; len < data.length; len++) {
        expect(['bad-protobuf', 'bad-key']).toContain(code(() => decode(data.subarray(0, len))));
      }
    }
  });

  it('garbage is a typed error', () => {
    for (let i = 0; i < 200; i++) {
      const junk = Uint8Array.from({ length: 1 + (i % 90) }, (_, j) => (i * 131 + j * 71) & 0xff);
      expect(['bad-protobuf', 'bad-key']).toContain(code(() => decodeAuthenticated(junk)));
      expect(['bad-protobuf', 'bad-key']).toContain(code(() => decodeKeyExchange(junk)));
    }
  });

  it('missing required fields, wrong lengths and non-block ciphertexts are refused', () => {
    const msg = (parts: number[][]) => Uint8Array.from(parts.flat());
    const auth = (m: Uint8Array, mac = fill(16, 3)) => Uint8Array.from([...bytes(1, mac), ...bytes(2, m)]);
    const ok = [varint(1, 0), varint(2, 0), bytes(3, fill(32, 1)), bytes(4, fill(16, 2))];
    expect(code(() => decodeAuthenticated(auth(msg(ok))))).toBe('ok');
    expect(code(() => decodeAuthenticated(auth(msg([ok[0], ok[2], ok[3]]))))).toBe('bad-protobuf'); // no pn
    expect(code(() => decodeAuthenticated(auth(msg([ok[1], ok[2], ok[3]]))))).toBe('bad-protobuf'); // no n
    expect(code(() => decodeAuthenticated(auth(msg([ok[0], ok[1], ok[3]]))))).toBe('bad-protobuf'); // no dh_pub
    expect(code(() => decodeAuthenticated(auth(msg([ok[0], ok[1], ok[2]]))))).toBe('bad-protobuf'); // no ciphertext
    expect(code(() => decodeAuthenticated(auth(msg([ok[0], ok[1], bytes(3, fill(31, 1)), ok[3]]))))).toBe('bad-key');
    expect(code(() => decodeAuthenticated(auth(msg([ok[0], ok[1], ok[2], bytes(4, fill(15, 2))]))))).toBe('bad-protobuf');
    expect(code(() => decodeAuthenticated(auth(msg(ok), fill(15, 3))))).toBe('bad-protobuf'); // short MAC
    expect(code(() => decodeAuthenticated(Uint8Array.from(bytes(2, msg(ok)))))).toBe('bad-protobuf'); // no MAC
    // A key exchange without its message, or with a 33-byte (0x05-prefixed) identity key.
    const k = (ik: Uint8Array, withMessage: boolean) =>
      Uint8Array.from([...varint(1, 5), ...varint(2, 6), ...bytes(3, ik), ...bytes(4, fill(32, 8)), ...(withMessage ? bytes(5, auth(msg(ok))) : [])]);
    expect(code(() => decodeKeyExchange(k(fill(32, 7), true)))).toBe('ok');
    expect(code(() => decodeKeyExchange(k(fill(32, 7), false)))).toBe('bad-protobuf');
    expect(code(() => decodeKeyExchange(k(Uint8Array.of(5, ...fill(32, 7)), true)))).toBe('bad-key');
  });

  it('empty and oversized input is refused before parsing', () => {
    expect(code(() => decodeAuthenticated(new Uint8Array(0)))).toBe('bad-protobuf');
    expect(code(() => decodeKeyExchange(new Uint8Array(MAX_MESSAGE_BYTES + 1)))).toBe('bad-protobuf');
  });

  it('stored sessions of the two versions are never mistaken for each other', () => {
    const s: StoredSession = {
      initiator: true,
      confirmed: false,
      localIdentity: fill(32, 1),
      remoteIdentity: fill(32, 2),
      remoteIdentityCurve: fill(32, 3),
      keyExchange: { preKeyId: 4, signedPreKeyId: 5, ephemeralKey: fill(32, 6) },
      rootKey: fill(32, 7),
      ownRatchetPriv: fill(32, 8),
      ownRatchetPub: fill(32, 9),
      remoteRatchetPub: fill(32, 10),
      sendingChainKey: fill(32, 11),
      sendingLength: 0,
      previousSendingLength: 0,
      receivingLength: 0,
      skipped: [{ ratchetPub: fill(32, 12), index: 3, messageKey: fill(32, 13) }],
    };
    expect(decodeStoredSession(encodeStoredSession(s))).toEqual(s);
    expect(code(() => SessionRecord.deserialize(encodeStoredSession(s)))).toBe('invalid-input');
    expect(code(() => decodeStoredSession(encodeStoredSessionRecord({ formatVersion: 1, previous: [] })))).toBe('invalid-input');
  });
});
