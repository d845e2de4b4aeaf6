import { describe, it, expect } from 'vitest';
import {
  parseXml,
  encryptedFromXml,
  encryptedToXml,
  deviceListFromXml,
  deviceListToXml,
  bundleFromXml,
  bundleToXml,
  xmlBundleToBundle,
  bundleToXmlBundle,
  bundleNode,
  type XmlBundle,
  type EncryptedElement,
} from '../../src/xmpp/omemo-xml.js';
import { OmemoError } from '../../src/omemo/errors.js';

const NS = 'eu.siacs.conversations.axolotl';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const bytes = (...n: number[]) => new Uint8Array(n);

function errOf(f: () => unknown): OmemoError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OmemoError);
    return e as OmemoError;
  }
  throw new Error('expected an OmemoError');
}

describe('<encrypted>', () => {
  const sample: EncryptedElement = {
    sid: 123456,
    keys: [
      { rid: 1, prekey: true, data: bytes(1, 2, 3) },
      { rid: 2147483647, prekey: false, data: bytes(4, 5) },
    ],
    iv: new Uint8Array(12).fill(0xaa),
    payload: bytes(9, 8, 7),
  };

  it('round-trips, writing the layout other clients expect', () => {
    const el = encryptedToXml(sample);
    expect(el.toString()).toBe(
      `<encrypted xmlns="${NS}"><header sid="123456"><key rid="1" prekey="true">AQID</key><key rid="2147483647">BAU=</key>` +
        `<iv>${b64(sample.iv)}</iv></header><payload>CQgH</payload></encrypted>`,
    );
    expect(encryptedFromXml(parseXml(el.toString()))).toEqual(sample);
  });

  it('accepts prekey="1", iv first (Dino order) and wrapped base64', () => {
    const el = parseXml(
      `<encrypted xmlns='${NS}'><payload>\n CQ\n gH </payload><header sid='5'><iv>AAEC\n  AwQF</iv>` +
        `<key prekey='1' rid='7'>AQ\r\nID</key><key rid='8' prekey='false'>AQID</key></header></encrypted>`,
    );
    expect(encryptedFromXml(el)).toEqual({
      sid: 5,
      keys: [
        { rid: 7, prekey: true, data: bytes(1, 2, 3) },
        { rid: 8, prekey: false, data: bytes(1, 2, 3) },
      ],
      iv: bytes(0, 1, 2, 3, 4, 5),
      payload: bytes(9, 8, 7),
    });
  });

  it('parses key-transport elements without payload', () => {
    const el = encryptedToXml({ sid: 9, keys: [{ rid: 3, prekey: false, data: bytes(1) }], iv: bytes(1, 2) });
    const parsed = encryptedFromXml(el);
    expect(parsed.payload).toBeUndefined();
    expect('payload' in parsed).toBe(false);
  });

  it('lists every problem: missing iv, bad base64, non-numeric sid/rid', () => {
    const e = errOf(() =>
      encryptedFromXml(
        parseXml(`<encrypted xmlns='${NS}'><header sid='abc'><key rid='x1'>AQID</key><key rid='4'>not*base64</key></header></encrypted>`),
      ),
    );
    expect(e.code).toBe('invalid-input');
    expect(e.message).toMatch(/sid "abc"/);
    expect(e.message).toMatch(/rid "x1"/);
    expect(e.message).toMatch(/key #2: not valid base64/);
    expect(e.message).toMatch(/missing <iv>/);
  });

  it('flags bad base64 alone as bad-base64', () => {
    const e = errOf(() => encryptedFromXml(parseXml(`<encrypted xmlns='${NS}'><header sid='1'><iv>AAA</iv></header></encrypted>`)));
    expect(e.code).toBe('bad-base64');
  });

  it('rejects out-of-range ids, a missing header and the wrong namespace', () => {
    expect(errOf(() => encryptedFromXml(parseXml(`<encrypted xmlns='${NS}'><header sid='0'><iv>AAAA</iv></header></encrypted>`))).message).toMatch(/sid/);
    expect(
      errOf(() => encryptedFromXml(parseXml(`<encrypted xmlns='${NS}'><header sid='2147483648'><iv>AAAA</iv></header></encrypted>`))).message,
    ).toMatch(/sid/);
    expect(errOf(() => encryptedFromXml(parseXml(`<encrypted xmlns='${NS}'/>`))).message).toMatch(/missing <header>/);
    expect(errOf(() => encryptedFromXml(parseXml(`<encrypted xmlns='urn:xmpp:omemo:2'/>`))).code).toBe('invalid-input');
  });

  it('turns malformed XML into invalid-input', () => {
    expect(errOf(() => parseXml('<encrypted><header>')).code).toBe('invalid-input');
  });
});

describe('device list', () => {
  it('round-trips and collapses duplicates', () => {
    const el = deviceListToXml([5, 1, 5, 2147483647]);
    expect(el.toString()).toBe(`<list xmlns="${NS}"><device id="5"/><device id="1"/><device id="2147483647"/></list>`);
    expect(deviceListFromXml(parseXml(el.toString()))).toEqual({ ids: [5, 1, 2147483647], dropped: [] });
  });

  it('drops and reports junk ids', () => {
    const el = parseXml(
      `<list xmlns='${NS}'><device id='12'/><device id='abc'/><device id='0'/><device id='2147483648'/><device id='-3'/><device/><device id='1e3'/><device id='12'/></list>`,
    );
    expect(deviceListFromXml(el)).toEqual({ ids: [12], dropped: ['abc', '0', '2147483648', '-3', '(missing)', '1e3'] });
  });

  it('accepts an empty list', () => {
    expect(deviceListFromXml(parseXml(`<list xmlns='${NS}'/>`))).toEqual({ ids: [], dropped: [] });
  });
});

describe('bundle', () => {
  const k = (fill: number) => {
    const a = new Uint8Array(33).fill(fill);
    a[0] = 5;
    return a;
  };
  const sample: XmlBundle = {
    deviceId: 77,
    identityKey33: k(1),
    signedPreKeyId: 3,
    signedPreKey33: k(2),
    signedPreKeySignature: new Uint8Array(64).fill(3),
    preKeys: [
      { id: 1, key33: k(4) },
      { id: 2, key33: k(5) },
    ],
  };

  it('round-trips, with child order free on input', () => {
    expect(bundleNode(77)).toBe(`${NS}.bundles:77`);
    expect(bundleFromXml(parseXml(bundleToXml(sample).toString()), 77)).toEqual(sample);
    const reordered = parseXml(
      `<bundle xmlns='${NS}'><prekeys><preKeyPublic preKeyId='1'>${b64(k(4))}</preKeyPublic><preKeyPublic preKeyId='2'>${b64(k(5))}</preKeyPublic></prekeys>` +
        `<identityKey>${b64(k(1))}</identityKey><signedPreKeySignature>${b64(sample.signedPreKeySignature)}</signedPreKeySignature>` +
        `<signedPreKeyPublic signedPreKeyId='3'>${b64(k(2))}</signedPreKeyPublic></bundle>`,
    );
    expect(bundleFromXml(reordered, 77)).toEqual(sample);
  });

  it('converts to and from the raw-key Bundle of src/omemo', () => {
    const raw = xmlBundleToBundle(sample);
    expect(raw.identityKey).toEqual(k(1).slice(1));
    expect(raw.preKeys[1]).toEqual({ id: 2, key: k(5).slice(1) });
    expect(bundleToXmlBundle(raw)).toEqual(sample);
    expect(errOf(() => bundleToXmlBundle({ ...raw, identityKey: new Uint8Array(31) })).code).toBe('bad-key');
  });

  it('names the missing parts', () => {
    const e = errOf(() => bundleFromXml(parseXml(`<bundle xmlns='${NS}'><identityKey>${b64(k(1))}</identityKey></bundle>`), 9));
    expect(e.code).toBe('bad-bundle');
    expect(e.message).toMatch(/device 9/);
    expect(e.message).toMatch(/missing <signedPreKeyPublic>/);
    expect(e.message).toMatch(/missing <signedPreKeySignature>/);
    expect(e.message).toMatch(/missing <prekeys>/);
  });

  it('rejects wrong key forms and skips only the bad prekeys', () => {
    const xmlWith = (ik: Uint8Array, pks: string) =>
      parseXml(
        `<bundle xmlns='${NS}'><signedPreKeyPublic signedPreKeyId='3'>${b64(k(2))}</signedPreKeyPublic>` +
          `<signedPreKeySignature>${b64(sample.signedPreKeySignature)}</signedPreKeySignature><identityKey>${b64(ik)}</identityKey><prekeys>${pks}</prekeys></bundle>`,
      );
    const good = `<preKeyPublic preKeyId='1'>${b64(k(4))}</preKeyPublic>`;
    const shortIk = k(1).slice(0, 32);
    expect(errOf(() => bundleFromXml(xmlWith(shortIk, good), 1)).message).toMatch(/identityKey is not a 33-byte 0x05 key/);
    const junk = `<preKeyPublic preKeyId='x'>${b64(k(6))}</preKeyPublic><preKeyPublic preKeyId='5'>%%%</preKeyPublic><preKeyPublic preKeyId='6'>${b64(new Uint8Array(33))}</preKeyPublic>`;
    expect(bundleFromXml(xmlWith(k(1), junk + good), 1).preKeys).toEqual([{ id: 1, key33: k(4) }]);
    expect(errOf(() => bundleFromXml(xmlWith(k(1), junk), 1)).message).toMatch(/no usable <preKeyPublic>/);
  });
});
