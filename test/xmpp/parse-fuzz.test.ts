// Fuzz (seeded, repeatable) of the parsers that take what a contact or a room writes: device
// lists, OMEMO verification URIs, aesgcm:// links in bodies, room messages and presence
// (real-JID claims, occupant-id, stanza-id/origin-id) and 1:1 messages. Each mutated input either
// parses into a well-formed result or fails with our documented error type; nothing else escapes.
// Also: the large inputs the issue named (2,417 links, 9,000 device ids) give the right result.
import { describe, expect, it } from 'vitest';
import { deviceListFromXml, parseXml } from '../../src/xmpp/omemo-xml.js';
import { parseMucMessage, parseMucPresence } from '../../src/xmpp/muc.js';
import { parseMessage } from '../../src/xmpp/message.js';
import { parseOmemoUri } from '../../src/omemo/uri.js';
import { findAesgcmUrls } from '../../src/omemo/media.js';
import { OmemoError } from '../../src/omemo/errors.js';
import { isValidId } from '../../src/omemo/device.js';

/** mulberry32: a tiny seeded PRNG, so a failure names an iteration that reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['<', '>', '/', '=', "'", '"', '&', ';', '?', '#', '%', ' ', '0', '9', 'a', 'f', 'x', '-', '\u0000', '€', '\ud800', 'aesgcm://', '&#0;', 'jid=', 'id=', '/>'];

function mutate(input: string, r: () => number): string {
  let s = input;
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 5)) {
      case 0: // delete a run
        s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 8));
        break;
      case 1: // insert a token
        s = s.slice(0, at) + ALPHABET[Math.floor(r() * ALPHABET.length)] + s.slice(at);
        break;
      case 2: // replace a char
        s = s.slice(0, at) + ALPHABET[Math.floor(r() * ALPHABET.length)] + s.slice(at + 1);
        break;
      case 3: { // duplicate a slice
        const len = Math.floor(r() * 40);
        s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
        break;
      }
      default: // truncate
        s = s.slice(0, at);
    }
  }
  return s;
}

const ITERATIONS = 3000;
const FP = 'ab'.repeat(32);

/** Runs `check` on mutations of the seeds; any exception that is not `allowed` fails with the input. */
function fuzz(seeds: string[], seed: number, check: (input: string) => void, allowed: (e: unknown) => boolean): number {
  const r = rng(seed);
  let rejected = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(seeds[i % seeds.length]!, r);
    try {
      check(input);
    } catch (e) {
      if (!allowed(e)) throw new Error(`iteration ${i} (seed ${seed}): ${String(e)} on input ${JSON.stringify(input.slice(0, 300))}`);
      rejected++;
    }
  }
  return rejected;
}

const isOmemoError = (e: unknown) => e instanceof OmemoError;

describe('fuzz: parsers of what others write', () => {
  it('device lists: ids valid and unique, or a clear error', () => {
    const seeds = [
      `<list xmlns='eu.siacs.conversations.axolotl'><device id='1'/><device id='2147483647'/><device id='42' label='x'/></list>`,
      `<list xmlns='eu.siacs.conversations.axolotl'><device id='abc'/><device id='0'/><device id='42'/><device id='42'/></list>`,
    ];
    const rejected = fuzz(seeds, 1, (input) => {
      const res = deviceListFromXml(parseXml(input));
      expect(res.ids.every(isValidId)).toBe(true);
      expect(new Set(res.ids).size).toBe(res.ids.length);
      expect(res.dropped.every((d) => typeof d === 'string')).toBe(true);
    }, isOmemoError);
    expect(rejected).toBeGreaterThan(0); // the fuzzer does reach the error paths…
    expect(rejected).toBeLessThan(ITERATIONS); // …and the success paths
  });

  it('verification URIs: devices valid, unique, 64-hex fingerprints, or a clear error', () => {
    const seeds = [`xmpp:bob@example.org?omemo-sid-123=${FP};omemo-sid-456=${FP.toUpperCase()}`, `xmpp:bob@example.org?omemo-sid-1=${FP}&omemo-sid-1=${'cd'.repeat(32)};x=y`];
    const rejected = fuzz(seeds, 2, (input) => {
      const res = parseOmemoUri(input);
      expect(res.jid).toMatch(/^[^\s@/"]+@[^\s@/"]+$/);
      expect(res.devices.every((d) => isValidId(d.deviceId) && /^[0-9a-f]{64}$/.test(d.fingerprint))).toBe(true);
      expect(new Set(res.devices.map((d) => d.deviceId)).size).toBe(res.devices.length);
    }, isOmemoError);
    expect(rejected).toBeLessThan(ITERATIONS);
  });

  it('aesgcm:// links in bodies: never throws; each link found is unique', () => {
    const seeds = [`look aesgcm://up.example/a/b.jpg#${'ab'.repeat(44)} and aesgcm://up.example/c#${'cd'.repeat(48)} twice aesgcm://up.example/a/b.jpg#${'ab'.repeat(44)}`];
    let found = 0;
    fuzz(seeds, 3, (input) => {
      const links = findAesgcmUrls(input);
      expect(new Set(links).size).toBe(links.length);
      found += links.length;
    }, () => false);
    expect(found).toBeGreaterThan(0);
  });

  it('room messages and presence, 1:1 messages: never throw on any well-formed XML', () => {
    const U = 'http://jabber.org/protocol/muc#user';
    const seeds = [
      `<message type='groupchat' from='r@muc.x/bob' id='1'><body>hi</body><x xmlns='${U}'><item jid='carol@x/c'/></x><x xmlns='${U}'><item jid='bob@x'/></x>` +
        `<occupant-id xmlns='urn:xmpp:occupant-id:0' id='o1'/><stanza-id xmlns='urn:xmpp:sid:0' by='r@muc.x' id='s1'/><origin-id xmlns='urn:xmpp:sid:0' id='1'/></message>`,
      `<presence from='r@muc.x/bob'><x xmlns='${U}'><item jid='bob@x/r' affiliation='member' role='participant'/><status code='110'/></x><occupant-id xmlns='urn:xmpp:occupant-id:0' id='o1'/></presence>`,
      `<message type='chat' from='bob@x/r' to='me@x' id='7'><body>b</body><stanza-id xmlns='urn:xmpp:sid:0' by='me@x' id='s9'/><origin-id xmlns='urn:xmpp:sid:0' id='7'/>` +
        `<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='5'><key rid='6'>AAAA</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>AA==</payload></encrypted></message>`,
    ];
    let parsed = 0;
    const rejected = fuzz(seeds, 4, (input) => {
      const el = parseXml(input); // malformed XML: an OmemoError, counted as rejected
      parsed++;
      const m = parseMucMessage(el);
      if (m?.realJid !== undefined) expect(m.realJidConflict).toBeUndefined();
      parseMucPresence(el);
      parseMessage(el, 'me@x');
    }, isOmemoError);
    expect(parsed).toBeGreaterThan(0);
    expect(rejected + parsed).toBe(ITERATIONS);
  });
});

describe('large inputs', () => {
  it('a maximum-size body with 2,417 links: every distinct link once, in order', () => {
    const links = Array.from({ length: 2417 }, (_, i) => `aesgcm://up.example/${i}/f.bin#${'ab'.repeat(44)}`);
    const body = [...links, ...links.slice(0, 100)].join(' ');
    expect(findAesgcmUrls(body)).toEqual(links);
  });

  it('a device list of 9,000 ids (with repeats): each once, in order', () => {
    const ids = Array.from({ length: 9000 }, (_, i) => i + 1);
    const x = `<list xmlns='eu.siacs.conversations.axolotl'>${[...ids, ...ids.slice(0, 500)].map((i) => `<device id='${i}'/>`).join('')}</list>`;
    expect(deviceListFromXml(parseXml(x)).ids).toEqual(ids);
  });

  it('a verification URI of 5,000 pairs: each device once', () => {
    const pairs = Array.from({ length: 5000 }, (_, i) => `omemo-sid-${i + 1}=${FP}`);
    const res = parseOmemoUri(`xmpp:bob@example.org?${pairs.join(';')};${pairs.slice(0, 10).join(';')}`);
    expect(res.devices).toHaveLength(5000);
    expect(res.ignored).toEqual([]);
  });
});
