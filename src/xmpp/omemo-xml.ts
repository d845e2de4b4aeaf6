// Pure conversions between legacy OMEMO (eu.siacs.conversations.axolotl) XML and the XML-free
// models of src/omemo. No connection needed; every malformed input is an OmemoError naming why.
import { xml, type Element } from '@xmpp/client';
import { parse as ltxParse } from 'ltx';
import { OmemoError } from '../omemo/errors.js';
import type { EncryptedElement } from '../omemo/manager.js';
import type { Bundle } from '../omemo/device.js';
import { NS_AXOLOTL } from './ns.js';

export type { EncryptedElement, Bundle };

export const NODE_DEVICELIST = `${NS_AXOLOTL}.devicelist`;
export const NODE_BUNDLES_PREFIX = `${NS_AXOLOTL}.bundles:`;
export const MAX_DEVICE_ID = 0x7fffffff;

export const bundleNode = (deviceId: number): string => `${NODE_BUNDLES_PREFIX}${deviceId}`;

/** A bundle as on the wire: public keys in their 33-byte 0x05‖X25519 form. */
export interface XmlBundle {
  deviceId: number;
  identityKey33: Uint8Array;
  signedPreKeyId: number;
  signedPreKey33: Uint8Array;
  signedPreKeySignature: Uint8Array;
  preKeys: { id: number; key33: Uint8Array }[];
}

/** Parses an XML string into an ltx element (tests, tools). Malformed XML throws invalid-input. */
export function parseXml(text: string): Element {
  try {
    return ltxParse(text);
  } catch (e) {
    throw new OmemoError('invalid-input', `malformed XML: ${(e as Error).message}`);
  }
}

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict standard base64; whitespace (line-wrapping clients) is stripped first. */
export function decodeBase64(text: string, what: string): Uint8Array {
  const s = text.replace(/\s+/g, '');
  if (s.length % 4 !== 0 || !B64_RE.test(s)) {
    throw new OmemoError('bad-base64', `${what}: not valid base64`);
  }
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function encodeBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Parses a decimal id in 1..2^31−1; anything else is undefined. */
/** The first few of a long list of bad values, for an error message of bounded size. */
export function listSome(values: readonly string[], max = 10): string {
  const shown = values.slice(0, max).map((v) => JSON.stringify(v.slice(0, 40)));
  return values.length > max ? `${shown.join(', ')} and ${values.length - max} more` : shown.join(', ');
}

export function parseId(v: string | undefined): number | undefined {
  if (v === undefined || !/^\s*\d{1,10}\s*$/.test(v)) return undefined;
  const n = Number(v.trim());
  return n >= 1 && n <= MAX_DEVICE_ID ? n : undefined;
}

// ---- <encrypted> ----

export function encryptedToXml(el: EncryptedElement): Element {
  const header = xml('header', { sid: String(el.sid) });
  for (const k of el.keys) {
    header.append(xml('key', k.prekey ? { rid: String(k.rid), prekey: 'true' } : { rid: String(k.rid) }, encodeBase64(k.data)));
  }
  header.append(xml('iv', {}, encodeBase64(el.iv)));
  const enc = xml('encrypted', { xmlns: NS_AXOLOTL }, header);
  if (el.payload) enc.append(xml('payload', {}, encodeBase64(el.payload)));
  return enc;
}

/**
 * Parses a legacy `<encrypted>` element. Child order is free; `prekey` accepts true/1.
 * Every problem found is listed in the error message.
 */
export function encryptedFromXml(enc: Element): EncryptedElement {
  if (!enc.is('encrypted', NS_AXOLOTL)) {
    throw new OmemoError('invalid-input', `not an <encrypted xmlns='${NS_AXOLOTL}'> element`);
  }
  const problems: string[] = [];
  const header = enc.getChild('header');
  if (!header) throw new OmemoError('invalid-input', 'bad <encrypted>: missing <header>');
  const sid = parseId(header.attrs.sid);
  if (sid === undefined) problems.push(`header sid ${JSON.stringify(header.attrs.sid ?? null)} is not a device id`);
  const keys: EncryptedElement['keys'] = [];
  header.getChildren('key').forEach((k, i) => {
    const rid = parseId(k.attrs.rid);
    if (rid === undefined) problems.push(`key #${i + 1} rid ${JSON.stringify(k.attrs.rid ?? null)} is not a device id`);
    const p = (k.attrs.prekey ?? '').trim().toLowerCase();
    let data: Uint8Array | undefined;
    try {
      data = decodeBase64(k.text(), `key #${i + 1}`);
      if (data.length === 0) problems.push(`key #${i + 1} is empty`);
    } catch (e) {
      problems.push((e as Error).message);
    }
    if (rid !== undefined && data) keys.push({ rid, prekey: p === 'true' || p === '1', data });
  });
  let iv: Uint8Array | undefined;
  const ivEl = header.getChild('iv');
  if (!ivEl) problems.push('missing <iv>');
  else {
    try {
      iv = decodeBase64(ivEl.text(), 'iv');
      if (iv.length === 0) problems.push('empty <iv>');
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  let payload: Uint8Array | undefined;
  const payloadEl = enc.getChild('payload');
  if (payloadEl) {
    try {
      payload = decodeBase64(payloadEl.text(), 'payload');
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (problems.length > 0 || sid === undefined || !iv) {
    const base64Only = problems.every((p) => p.endsWith('not valid base64'));
    throw new OmemoError(base64Only ? 'bad-base64' : 'invalid-input', `bad <encrypted>: ${problems.join('; ')}`);
  }
  return payload ? { sid, keys, iv, payload } : { sid, keys, iv };
}

// ---- device list ----

export function deviceListToXml(ids: readonly number[]): Element {
  const list = xml('list', { xmlns: NS_AXOLOTL });
  for (const id of [...new Set(ids)]) list.append(xml('device', { id: String(id) }));
  return list;
}

export interface DeviceListParse {
  ids: number[];
  /** Junk ids that were dropped (non-numeric, 0, > 2^31−1, missing), as found. */
  dropped: string[];
}

/** Parses `<list xmlns=axolotl>`; junk ids are dropped and reported, duplicates collapse. */
export function deviceListFromXml(list: Element): DeviceListParse {
  if (!list.is('list', NS_AXOLOTL)) {
    throw new OmemoError('invalid-input', `not a <list xmlns='${NS_AXOLOTL}'> element`);
  }
  // A Set keeps list order and drops repeats in O(1): linear however long the list is.
  const ids = new Set<number>();
  const dropped: string[] = [];
  for (const d of list.getChildren('device')) {
    const id = parseId(d.attrs.id);
    if (id === undefined) dropped.push(d.attrs.id ?? '(missing)');
    else ids.add(id);
  }
  return { ids: [...ids], dropped };
}

// ---- bundle ----

function check33(key: Uint8Array, what: string): void {
  if (key.length !== 33 || key[0] !== 0x05) {
    throw new OmemoError('bad-key', `${what}: expected 33 bytes starting with 0x05, got ${key.length} bytes`);
  }
}

export function bundleToXml(b: XmlBundle): Element {
  const prekeys = xml('prekeys', {});
  for (const pk of b.preKeys) prekeys.append(xml('preKeyPublic', { preKeyId: String(pk.id) }, encodeBase64(pk.key33)));
  return xml(
    'bundle',
    { xmlns: NS_AXOLOTL },
    xml('signedPreKeyPublic', { signedPreKeyId: String(b.signedPreKeyId) }, encodeBase64(b.signedPreKey33)),
    xml('signedPreKeySignature', {}, encodeBase64(b.signedPreKeySignature)),
    xml('identityKey', {}, encodeBase64(b.identityKey33)),
    prekeys,
  );
}

/** Parses `<bundle xmlns=axolotl>` (any child order); missing or malformed parts throw bad-bundle. */
export function bundleFromXml(el: Element, deviceId: number): XmlBundle {
  if (!el.is('bundle', NS_AXOLOTL)) {
    throw new OmemoError('bad-bundle', `not a <bundle xmlns='${NS_AXOLOTL}'> element`);
  }
  const problems: string[] = [];
  const b64 = (child: Element | undefined, what: string): Uint8Array | undefined => {
    if (!child) {
      problems.push(`missing <${what}>`);
      return undefined;
    }
    try {
      return decodeBase64(child.text(), what);
    } catch (e) {
      problems.push((e as Error).message);
      return undefined;
    }
  };
  const spkEl = el.getChild('signedPreKeyPublic');
  const signedPreKey33 = b64(spkEl, 'signedPreKeyPublic');
  const signedPreKeyId = spkEl ? parseIdAllowZero(spkEl.attrs.signedPreKeyId) : undefined;
  if (spkEl && signedPreKeyId === undefined) problems.push('signedPreKeyPublic has no valid signedPreKeyId');
  const signedPreKeySignature = b64(el.getChild('signedPreKeySignature'), 'signedPreKeySignature');
  const identityKey33 = b64(el.getChild('identityKey'), 'identityKey');
  const preKeys: XmlBundle['preKeys'] = [];
  const prekeysEl = el.getChild('prekeys');
  if (!prekeysEl) problems.push('missing <prekeys>');
  else {
    for (const pk of prekeysEl.getChildren('preKeyPublic')) {
      const id = parseId(pk.attrs.preKeyId);
      const key33 = decodeOptional(pk.text(), `preKeyPublic ${pk.attrs.preKeyId ?? '?'}`);
      // A single bad prekey is skipped, not fatal: the others remain usable.
      if (id !== undefined && key33 && key33.length === 33 && key33[0] === 0x05) preKeys.push({ id, key33 });
    }
    if (preKeys.length === 0) problems.push('no usable <preKeyPublic>');
  }
  for (const [k, what] of [[identityKey33, 'identityKey'], [signedPreKey33, 'signedPreKeyPublic']] as const) {
    if (k && (k.length !== 33 || k[0] !== 0x05)) problems.push(`${what} is not a 33-byte 0x05 key`);
  }
  if (signedPreKeySignature && signedPreKeySignature.length !== 64) problems.push('signedPreKeySignature is not 64 bytes');
  if (problems.length > 0 || !identityKey33 || !signedPreKey33 || !signedPreKeySignature || signedPreKeyId === undefined) {
    throw new OmemoError('bad-bundle', `bad bundle for device ${deviceId}: ${problems.join('; ')}`);
  }
  return { deviceId, identityKey33, signedPreKeyId, signedPreKey33, signedPreKeySignature, preKeys };
}

// Signed prekey ids start at 0 in some libsignal-based clients, so 0 is allowed here.
function parseIdAllowZero(v: string | undefined): number | undefined {
  if (v !== undefined && /^\s*0+\s*$/.test(v)) return 0;
  return parseId(v);
}

/** 33-byte wire bundle → src/omemo Bundle (raw 32-byte keys). */
export function xmlBundleToBundle(b: XmlBundle): Bundle {
  check33(b.identityKey33, 'identityKey');
  check33(b.signedPreKey33, 'signedPreKeyPublic');
  return {
    deviceId: b.deviceId,
    identityKey: b.identityKey33.slice(1),
    signedPreKeyId: b.signedPreKeyId,
    signedPreKey: b.signedPreKey33.slice(1),
    signedPreKeySignature: b.signedPreKeySignature,
    preKeys: b.preKeys.map((p) => {
      check33(p.key33, `preKey ${p.id}`);
      return { id: p.id, key: p.key33.slice(1) };
    }),
  };
}

const with05 = (k: Uint8Array, what: string): Uint8Array => {
  if (k.length !== 32) throw new OmemoError('bad-key', `${what}: expected a 32-byte key, got ${k.length}`);
  const out = new Uint8Array(33);
  out[0] = 0x05;
  out.set(k, 1);
  return out;
};

/** src/omemo Bundle (raw 32-byte keys) → 33-byte wire bundle. */
export function bundleToXmlBundle(b: Bundle): XmlBundle {
  return {
    deviceId: b.deviceId,
    identityKey33: with05(b.identityKey, 'identityKey'),
    signedPreKeyId: b.signedPreKeyId,
    signedPreKey33: with05(b.signedPreKey, 'signedPreKey'),
    signedPreKeySignature: b.signedPreKeySignature,
    preKeys: b.preKeys.map((p) => ({ id: p.id, key33: with05(p.key, `preKey ${p.id}`) })),
  };
}

/** Base64 that may be bad: a bad prekey is skipped by the caller, not fatal. */
function decodeOptional(text: string, what: string): Uint8Array | undefined {
  try {
    return decodeBase64(text, what);
  } catch {
    return undefined;
  }
}
