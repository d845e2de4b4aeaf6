// XEP-0454 OMEMO media sharing: a file is AES-256-GCM encrypted (tag appended) and uploaded; the
// link `aesgcm://host/path#hex(iv‖key)` travels as the whole OMEMO-encrypted body. Pure: URL
// building/parsing and key material; the streaming cipher comes from primitives.ts.
import type { Transform } from 'node:stream';
import { OmemoError } from './errors.js';
import { createGcmDecryptStream, createGcmEncryptStream, randomBytes } from './primitives.js';

export const MEDIA_KEY_BYTES = 32;
/** 12 bytes is what XEP-0454 asks for; 16 is what older Conversations versions sent. */
export const MEDIA_IV_BYTES = [12, 16] as const;
export const MEDIA_TAG_BYTES = 16;

export interface MediaSecret {
  key: Uint8Array; // 32 bytes
  iv: Uint8Array; // 12 or 16 bytes
}

export interface AesgcmLink extends MediaSecret {
  /** The https URL the ciphertext is fetched from. */
  url: string;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

function checkSecret(s: MediaSecret): void {
  if (!(s.key instanceof Uint8Array) || s.key.length !== MEDIA_KEY_BYTES) {
    throw new OmemoError('bad-key', `media key must be ${MEDIA_KEY_BYTES} bytes`);
  }
  if (!(s.iv instanceof Uint8Array) || !(MEDIA_IV_BYTES as readonly number[]).includes(s.iv.length)) {
    throw new OmemoError('invalid-input', `media IV must be 12 or 16 bytes, got ${s.iv instanceof Uint8Array ? s.iv.length : typeof s.iv}`);
  }
}

/** A fresh key and IV for one file (never reused: GCM breaks on key/IV reuse). */
export function newMediaSecret(ivBytes: 12 | 16 = 12): MediaSecret {
  return { key: randomBytes(MEDIA_KEY_BYTES), iv: randomBytes(ivBytes) };
}

/** Size on the wire of a file of `plainSize` bytes. */
export function encryptedSize(plainSize: number): number {
  return plainSize + MEDIA_TAG_BYTES;
}

function httpsUrl(s: string): URL {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new OmemoError('invalid-input', `not a URL: ${s.slice(0, 200)}`);
  }
  // The key protects the content, not the transfer: metadata and integrity still need TLS.
  if (u.protocol !== 'https:') throw new OmemoError('invalid-input', `only https URLs carry encrypted files, not ${u.protocol}`);
  if (!u.hostname) throw new OmemoError('invalid-input', `URL without host: ${s.slice(0, 200)}`);
  if (u.username || u.password) throw new OmemoError('invalid-input', 'URL with credentials refused');
  return u;
}

/** aesgcm:// link for a file uploaded to `getUrl` (https, no fragment). */
export function buildAesgcmUrl(getUrl: string, secret: MediaSecret): string {
  checkSecret(secret);
  const u = httpsUrl(getUrl);
  if (u.hash) throw new OmemoError('invalid-input', 'upload URL already has a fragment');
  return `aesgcm://${u.href.slice('https://'.length)}#${hex(secret.iv)}${hex(secret.key)}`;
}

const AESGCM_PREFIX = /^aesgcm:\/\//i;

/**
 * Parses an aesgcm:// link: fragment of 88 (12-byte IV) or 96 (16-byte IV) hex digits, either
 * case. Throws OmemoError 'invalid-input' on anything else.
 */
export function parseAesgcmUrl(link: string): AesgcmLink {
  const s = link.trim();
  if (!AESGCM_PREFIX.test(s)) throw new OmemoError('invalid-input', 'not an aesgcm:// link');
  const hashAt = s.indexOf('#');
  if (hashAt < 0) throw new OmemoError('invalid-input', 'aesgcm link without key fragment');
  const frag = s.slice(hashAt + 1);
  if (!/^[0-9a-f]+$/i.test(frag) || (frag.length !== 88 && frag.length !== 96)) {
    throw new OmemoError('invalid-input', `aesgcm key fragment must be 88 or 96 hex digits, got ${frag.length} characters`);
  }
  const rest = s.slice('aesgcm://'.length, hashAt);
  // URL parsing would take "aesgcm:///path" as host "path": the authority must be there.
  if (!/^[^/?#\\]/.test(rest)) throw new OmemoError('invalid-input', 'aesgcm link without host');
  const u = httpsUrl(`https://${rest}`);
  const bytes = Buffer.from(frag, 'hex');
  const ivLen = bytes.length - MEDIA_KEY_BYTES;
  return {
    url: u.href,
    iv: new Uint8Array(bytes.subarray(0, ivLen)),
    key: new Uint8Array(bytes.subarray(ivLen)),
  };
}

/** Every valid aesgcm:// link in a message body, in order, without duplicates. */
export function findAesgcmUrls(text: string): string[] {
  // A Set, not a scan of the links so far: a body of thousands of links stays linear.
  const out = new Set<string>();
  for (const m of text.matchAll(/aesgcm:\/\/[^\s<>"']+/gi)) {
    if (!out.has(m[0]) && isAesgcmUrl(m[0])) out.add(m[0]);
  }
  return [...out];
}

/** The file name a link points at (last path segment, decoded), safe as a local file name. */
export function fileNameOf(url: string): string {
  const last = lastPathSegment(url);
  // No path separators, control characters or dot-only names: the name comes from a contact.
  const clean = last.replace(/[/\\\u0000-\u001f\u007f]/g, '_').replace(/^\.+/, '').slice(0, 200);
  return clean || 'download';
}

export function createMediaEncryptStream(secret: MediaSecret): Transform {
  checkSecret(secret);
  return createGcmEncryptStream(secret.key, secret.iv);
}

/** Fails with OmemoError 'bad-payload' at the end when the tag does not verify. */
export function createMediaDecryptStream(secret: MediaSecret): Transform {
  checkSecret(secret);
  return createGcmDecryptStream(secret.key, secret.iv);
}

/** A link whose key, IV or address is malformed is not a file link. */
function isAesgcmUrl(candidate: string): boolean {
  try {
    parseAesgcmUrl(candidate);
    return true;
  } catch {
    return false;
  }
}

/** The decoded last path segment of a URL; '' when it has none or is not decodable. */
function lastPathSegment(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '');
  } catch {
    return '';
  }
}
