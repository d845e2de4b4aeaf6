// The one fingerprint formatter: identity fingerprints as Conversations and Dino show them, 64 hex
// characters of the 32-byte Curve25519 identity key (no 0x05 type byte), in 8 groups of 8.

/**
 * Accepts user input in any common shape (spaces, colons, dashes, either case, an optional
 * leading 05 type byte on 66-hex input) and returns 64 lower-case hex characters, or null.
 */
export function normalizeFingerprint(input: string): string | null {
  if (typeof input !== 'string') return null;
  const stripped = input.replace(/[\s:._-]+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(stripped)) return null;
  let h = stripped.toLowerCase();
  if (h.length === 66 && h.startsWith('05')) h = h.slice(2);
  return h.length === 64 ? h : null;
}

/** "aaaaaaaa bbbbbbbb …": 8 groups of 8; null when the input is not a fingerprint. */
export function groupFingerprint(hex: string): string | null {
  const n = normalizeFingerprint(hex);
  return n === null ? null : n.match(/.{8}/g)!.join(' ');
}

/** For display: grouped, or a note that the key is not known yet; never throws. */
export function displayFingerprint(fp: string | undefined): string {
  if (!fp) return '(identity key not known yet)';
  return groupFingerprint(fp) ?? (fp.match(/.{1,8}/g) ?? [fp]).join(' ');
}

/** First 8 hex characters, for compact lists. */
export function shortFingerprint(hex: string): string {
  const n = normalizeFingerprint(hex);
  return (n ?? hex).slice(0, 8);
}

/** Why `words` (a fingerprint typed as one or more words) is not a fingerprint, or its 64 hex. */
export function parseFingerprintWords(words: string[]): { hex: string } | { error: string } {
  const s = words.join('').replace(/[\s:._-]+/g, '').toLowerCase();
  if (s.length === 0) return { error: 'missing fingerprint' };
  if (!/^[0-9a-f]+$/.test(s)) return { error: `"${words.join(' ')}" is not a fingerprint (hex digits)` };
  const h = s.length === 66 && s.startsWith('05') ? s.slice(2) : s;
  if (h.length !== 64) return { error: `a fingerprint has 64 hex digits, got ${h.length}` };
  return { hex: h };
}
