// Trust modes as pure decisions: given what we already recorded for a contact, what state does a
// newly seen identity key start in? The manager records the result as a TrustRecord.
import type { TrustRecord, TrustState } from './store.js';

/**
 * - `btbv` (default, "blind trust before verification"): new identities are trusted until the user
 *   has verified at least one device of that contact; afterwards new ones are `undecided`.
 * - `firstusage`: identities seen the first time a contact is used (no records yet) are trusted;
 *   later new ones are `undecided`.
 * - `blind`: always trusted.
 * - `manual`: always `undecided`.
 */
export type TrustMode = 'manual' | 'firstusage' | 'blind' | 'btbv';

export const TRUST_MODES: readonly TrustMode[] = ['manual', 'firstusage', 'blind', 'btbv'];
export const DEFAULT_TRUST_MODE: TrustMode = 'btbv';

export function isTrustMode(s: string): s is TrustMode {
  return (TRUST_MODES as readonly string[]).includes(s);
}

/**
 * Initial state for an identity of a contact we have not seen before.
 * @param existing the contact's trust records before this identity (other devices' keys)
 * @param firstUseBatch for `firstusage`: identities discovered in the same first contact all count
 *   as first-use. Callers pass the records created during the current operation here, so a
 *   contact with three devices gets all three trusted on first use.
 */
export function decideNewIdentity(
  mode: TrustMode,
  existing: readonly TrustRecord[],
  firstUseBatch: readonly TrustRecord[] = [],
): TrustState {
  switch (mode) {
    case 'blind':
      return 'trusted';
    case 'manual':
      return 'undecided';
    case 'btbv':
      return existing.some((r) => r.state === 'verified') ? 'undecided' : 'trusted';
    case 'firstusage': {
      const batch = new Set(firstUseBatch.map((r) => r.fingerprint));
      const before = existing.filter((r) => !batch.has(r.fingerprint));
      return before.length === 0 ? 'trusted' : 'undecided';
    }
  }
}

/** Only trusted and verified identities receive message keys and have their messages marked safe. */
export function isUsable(state: TrustState | undefined): boolean {
  return state === 'trusted' || state === 'verified';
}
