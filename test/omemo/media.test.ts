import { describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  buildAesgcmUrl,
  createMediaDecryptStream,
  createMediaEncryptStream,
  encryptedSize,
  fileNameOf,
  findAesgcmUrls,
  newMediaSecret,
  parseAesgcmUrl,
  type MediaSecret,
} from '../../src/omemo/media.js';
import { noblePrimitives, createGcmDecryptStream } from '../../src/omemo/primitives.js';
import { OmemoError } from '../../src/omemo/errors.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const IV12 = Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i);
const IV16 = Uint8Array.from({ length: 16 }, (_, i) => 0xb0 + i);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Runs `data` through a transform in chunks of the given sizes (cycled) and collects the output. */
async function through(t: NodeJS.ReadWriteStream, data: Uint8Array, sizes = [65536]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let off = 0;
  let i = 0;
  const parts: Buffer[] = [];
  while (off < data.length) {
    const n = sizes[i++ % sizes.length];
    parts.push(Buffer.from(data.subarray(off, off + n)));
    off += n;
  }
  await pipeline(
    Readable.from(parts),
    t,
    new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(chunks);
}

function pseudoRandom(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('aesgcm URLs (XEP-0454)', () => {
  it('builds aesgcm://host/path#hex(iv‖key) from an https URL (88 hex with a 12-byte IV)', () => {
    const url = buildAesgcmUrl('https://upload.example.org:5281/abc/my%20file.txt', { key: KEY, iv: IV12 });
    expect(url).toBe(`aesgcm://upload.example.org:5281/abc/my%20file.txt#${hex(IV12)}${hex(KEY)}`);
    expect(url.split('#')[1]).toHaveLength(88);
    const back = parseAesgcmUrl(url);
    expect(back.url).toBe('https://upload.example.org:5281/abc/my%20file.txt');
    expect(hex(back.iv)).toBe(hex(IV12));
    expect(hex(back.key)).toBe(hex(KEY));
  });

  it('parses 96 hex digits as a 16-byte IV, and upper-case hex', () => {
    const url = `aesgcm://h.example/f.bin#${hex(IV16).toUpperCase()}${hex(KEY).toUpperCase()}`;
    const p = parseAesgcmUrl(url);
    expect(p.iv).toHaveLength(16);
    expect(hex(p.iv)).toBe(hex(IV16));
    expect(hex(p.key)).toBe(hex(KEY));
    expect(p.url).toBe('https://h.example/f.bin');
  });

  it('refuses junk fragments, missing fragments, wrong lengths and non-aesgcm schemes', () => {
    const good = `${hex(IV12)}${hex(KEY)}`;
    const bad = [
      'aesgcm://h.example/f.bin',
      `aesgcm://h.example/f.bin#${good.slice(1)}`,
      `aesgcm://h.example/f.bin#${good}00`,
      `aesgcm://h.example/f.bin#${good.slice(0, 87)}g`,
      `https://h.example/f.bin#${good}`,
      `aesgcm:///f.bin#${good}`,
      `aesgcm://user:pw@h.example/f.bin#${good}`,
      'aesgcm://',
      '',
    ];
    for (const b of bad) expect(() => parseAesgcmUrl(b), b).toThrow(OmemoError);
  });

  it('refuses to build links for non-https upload URLs or bad key material', () => {
    expect(() => buildAesgcmUrl('http://h.example/f', { key: KEY, iv: IV12 })).toThrow(/https/);
    expect(() => buildAesgcmUrl('ftp://h.example/f', { key: KEY, iv: IV12 })).toThrow(/https/);
    expect(() => buildAesgcmUrl('not a url', { key: KEY, iv: IV12 })).toThrow(OmemoError);
    expect(() => buildAesgcmUrl('https://h.example/f', { key: KEY.subarray(0, 16), iv: IV12 })).toThrow(OmemoError);
    expect(() => buildAesgcmUrl('https://h.example/f', { key: KEY, iv: IV12.subarray(0, 8) })).toThrow(OmemoError);
  });

  it('finds valid links in a body and ignores broken ones', () => {
    const a = `aesgcm://h.example/a.png#${hex(IV12)}${hex(KEY)}`;
    const b = `AESGCM://h.example/b.png#${hex(IV16)}${hex(KEY)}`;
    expect(findAesgcmUrls(a)).toEqual([a]);
    expect(findAesgcmUrls(`look: ${a} and ${b} and aesgcm://h.example/c#abc and ${a}`)).toEqual([a, b]);
    expect(findAesgcmUrls('https://h.example/plain.png')).toEqual([]);
  });

  it('derives a safe local file name from the link', () => {
    expect(fileNameOf('https://h.example/slot/holiday%20photo.jpg')).toBe('holiday photo.jpg');
    expect(fileNameOf('https://h.example/slot/..%2F..%2Fetc%2Fpasswd')).toBe('_.._etc_passwd');
    expect(fileNameOf('https://h.example/')).toBe('download');
    expect(fileNameOf('https://h.example/%2e%2e')).toBe('download');
  });

  it('fresh secrets are random and of the right size', () => {
    const a = newMediaSecret();
    const b = newMediaSecret(16);
    expect(a.key).toHaveLength(32);
    expect(a.iv).toHaveLength(12);
    expect(b.iv).toHaveLength(16);
    expect(hex(a.key)).not.toBe(hex(b.key));
    expect(encryptedSize(5)).toBe(21);
  });
});

describe('streaming AES-256-GCM for files', () => {
  const cases: [string, MediaSecret][] = [
    ['12-byte IV', { key: KEY, iv: IV12 }],
    ['16-byte IV', { key: KEY, iv: IV16 }],
  ];
  for (const [name, secret] of cases) {
    it(`encrypt stream equals noble one-shot gcm, decrypt stream inverts it (${name})`, async () => {
      for (const size of [0, 1, 15, 16, 17, 1000, 100_001]) {
        const pt = pseudoRandom(size, size + 1);
        const reference = noblePrimitives.aesGcmEncrypt(secret.key, secret.iv, pt);
        // Odd chunk sizes make the tag straddle chunk borders on the way back.
        const ct = await through(createMediaEncryptStream(secret), pt, [7, 65536, 3]);
        expect(ct.length).toBe(encryptedSize(size));
        expect(hex(ct)).toBe(hex(reference));
        for (const sizes of size <= 1000 ? [[65536], [1], [5, 16, 17], [20, 3]] : [[65536], [5, 16, 17, 4096]]) {
          const back = await through(createMediaDecryptStream(secret), reference, sizes);
          expect(hex(back)).toBe(hex(pt));
        }
      }
    });
  }

  it('refuses tampered ciphertext, a tampered tag and truncated input', async () => {
    const secret = { key: KEY, iv: IV12 };
    const pt = pseudoRandom(50_000);
    const ct = noblePrimitives.aesGcmEncrypt(KEY, IV12, pt);
    const flipBody = Uint8Array.from(ct);
    flipBody[1234] ^= 1;
    const flipTag = Uint8Array.from(ct);
    flipTag[ct.length - 1] ^= 0x80;
    for (const bad of [flipBody, flipTag, ct.subarray(0, ct.length - 1), ct.subarray(0, 10)]) {
      await expect(through(createMediaDecryptStream(secret), bad, [4096])).rejects.toMatchObject({ code: 'bad-payload' });
    }
    // Wrong key: also refused.
    await expect(through(createMediaDecryptStream({ key: new Uint8Array(32), iv: IV12 }), ct)).rejects.toMatchObject({
      code: 'bad-payload',
    });
    // The untampered input still decrypts (the failures above are the tampering, not the harness).
    expect(hex(await through(createMediaDecryptStream(secret), ct, [4096]))).toBe(hex(pt));
  });

  it('the primitive refuses short IVs and bad key sizes', () => {
    expect(() => createGcmDecryptStream(KEY, new Uint8Array(4))).toThrow(OmemoError);
    expect(() => createGcmDecryptStream(new Uint8Array(5), IV12)).toThrow(OmemoError);
    expect(() => createMediaEncryptStream({ key: new Uint8Array(16), iv: IV12 })).toThrow(OmemoError);
  });
});
