// OMEMO verification URIs as Conversations shows them in its QR codes (and Profanity's
// /omemo qrcode): xmpp:user@example.org?omemo-sid-1234=<64 hex>;omemo-sid-5678=<64 hex>
// Pure: build and parse only. Parsing is lenient about what people paste (case, `&` instead of
// `;`, a 05 prefix, other query parameters) and reports what it ignored instead of failing.
import { OmemoError } from './errors.js';
import { normalizeFingerprint } from './fingerprint.js';
import { isValidId } from './device.js';
import { bareJid } from '../lib/jid.js';

export interface UriDevice {
  deviceId: number;
  /** 64 lower-case hex. */
  fingerprint: string;
}

export interface OmemoUri {
  /** Bare JID, lower case. */
  jid: string;
  devices: UriDevice[];
  /** Query parts that were not usable device/fingerprint pairs, as written, with the reason. */
  ignored: { part: string; reason: string }[];
}

const SID_KEY = /^omemo-sid-(\d+)$/i;

/** Conversations' format: lower-case 64 hex, no separators, `;` between pairs. */
export function buildOmemoUri(jid: string, devices: readonly UriDevice[]): string {
  const pairs = devices.map((d) => {
    const fp = normalizeFingerprint(d.fingerprint);
    if (!fp) throw new OmemoError('invalid-input', `not a fingerprint: ${d.fingerprint}`);
    if (!isValidId(d.deviceId)) throw new OmemoError('invalid-input', `not a device id: ${String(d.deviceId)}`);
    return `omemo-sid-${d.deviceId}=${fp}`;
  });
  // The JID's local part and domain need no escaping for XMPP URIs in practice except these.
  const j = encodeURI(jid).replace(/[?#]/g, encodeURIComponent);
  return pairs.length ? `xmpp:${j}?${pairs.join(';')}` : `xmpp:${j}`;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Throws OmemoError('invalid-input') when the text is not an xmpp: URI naming a JID. */
export function parseOmemoUri(text: string): OmemoUri {
  const s = String(text ?? '').trim();
  const m = /^xmpp:(?:\/\/)?([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i.exec(s);
  if (!m) throw new OmemoError('invalid-input', `not an xmpp: URI: ${s.slice(0, 80)}`);
  const jidPart = bareJid(decode(m[1])).trim();
  if (!/^[^\s@/"]+@[^\s@/"]+$/.test(jidPart)) {
    throw new OmemoError('invalid-input', `the URI names no JID (user@domain): ${s.slice(0, 80)}`);
  }
  const devices = new Map<number, UriDevice>();
  const ignored: OmemoUri['ignored'] = [];
  const conflicting = new Set<number>();
  for (const part of (m[2] ?? '').split(/[;&]/)) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? '' : decode(part.slice(eq + 1)).trim();
    const k = SID_KEY.exec(key);
    if (!k) {
      // XEP-0147 actions (?message, ?roster) and unknown keys carry no fingerprints.
      ignored.push({ part, reason: 'not an omemo-sid-ID=FINGERPRINT pair' });
      continue;
    }
    const id = Number(k[1]);
    if (!isValidId(id)) {
      ignored.push({ part, reason: `invalid device id ${k[1]}` });
      continue;
    }
    const fp = normalizeFingerprint(value);
    if (!fp) {
      ignored.push({ part, reason: 'the fingerprint is not 64 hex digits' });
      continue;
    }
    if (conflicting.has(id)) {
      ignored.push({ part, reason: `device ${id} is listed twice with different fingerprints` });
      continue;
    }
    const dup = devices.get(id);
    if (dup) {
      if (dup.fingerprint !== fp) {
        // Two different keys for one device: neither can be believed.
        devices.delete(id);
        conflicting.add(id);
        ignored.push({ part, reason: `device ${id} is listed twice with different fingerprints` });
      }
      continue;
    }
    devices.set(id, { deviceId: id, fingerprint: fp });
  }
  // A Map keeps first-insertion order and finds duplicates in O(1): the parse stays linear.
  return { jid: jidPart, devices: [...devices.values()], ignored };
}
