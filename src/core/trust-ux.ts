// Trust UX: what the user is told before a message goes out to devices that cannot read it, and
// when a received message was not encrypted for this device. Pure text and bookkeeping.
import type { RecipientReport } from '../omemo/manager.js';
import type { TrustState } from '../omemo/store.js';
import { shortFingerprint } from '../lib/fingerprint.js';

/** How a device that will not get a key can be fixed. `own`: our account (its devices are ours). */
function fix(r: RecipientReport, own?: string): string {
  if (r.status === 'untrusted') {
    const whose = r.jid === own ? 'if it is one of your own devices' : 'if it is theirs';
    if (r.fingerprint) return `not trusted (${r.reason ?? 'untrusted'}); ${whose}: /omemo trust ${r.jid} ${r.fingerprint}`;
    return `not trusted, identity unknown; see /omemo devices ${r.jid}`;
  }
  if (r.status === 'bundle-error') return `its keys could not be fetched (${r.reason ?? 'bundle error'})`;
  return `no session (${r.reason ?? 'no session'})`;
}

export function unreachableText(chat: string, skipped: readonly RecipientReport[], own?: string): string {
  const parts = skipped.map(
    (r) => `${r.jid === own ? 'your own' : r.jid} device ${r.deviceId}${r.fingerprint ? ` (${shortFingerprint(r.fingerprint)})` : ''}: ${fix(r, own)}`,
  );
  const n = skipped.length;
  return `${n} device${n === 1 ? '' : 's'} will not be able to read your messages to ${chat}: ${parts.join('; ')}`;
}

/**
 * Remembers, per chat, which devices were left out of the last message, so the warning is shown
 * when that set changes and not on every message.
 */
export class UnreachableDevices {
  private readonly last = new Map<string, string>();

  /** The warning to show for this send, or undefined when nothing changed (or all is well). */
  check(chat: string, skipped: readonly RecipientReport[], own?: string): { message: string; devices: number[] } | undefined {
    const sig = skipped
      .map((r) => `${r.jid}/${r.deviceId}/${r.status}/${r.fingerprint ?? ''}`)
      .sort()
      .join('|');
    const before = this.last.get(chat) ?? '';
    this.last.set(chat, sig);
    if (sig === before || skipped.length === 0) return undefined;
    return { message: unreachableText(chat, skipped, own), devices: skipped.map((r) => r.deviceId) };
  }

  /** Forget a chat's state (e.g. after a trust change) so the next send reports afresh. */
  reset(chat?: string): void {
    if (chat === undefined) this.last.clear();
    else this.last.delete(chat);
  }
}

/**
 * A received message without a key for this device: who sent it, from which device, and why.
 * `fromOwnAccount`: another device of ours sent it (a carbon): that is our own client to fix.
 */
export function notForThisDeviceText(from: string, senderDevice: number, own: { deviceId: number; fingerprint?: string }, fromOwnAccount = false): string {
  if (fromOwnAccount) {
    return (
      `message from your own device ${senderDevice} (${from}) was not encrypted for this device (${own.deviceId}): ` +
      `that client of yours does not know or does not trust this device yet, so it cannot be read here. ` +
      `On that device, refresh your own devices and trust this device's fingerprint` +
      (own.fingerprint ? ` ${own.fingerprint}` : '') +
      ` (shown by /omemo fingerprint).`
    );
  }
  return (
    `message from ${from} (device ${senderDevice}) was not encrypted for this device (${own.deviceId}): ` +
    `their client does not know or does not trust this device yet, so it cannot be read here. ` +
    `Ask them to refresh your devices and trust this device's fingerprint` +
    (own.fingerprint ? ` ${own.fingerprint}` : '') +
    ` (shown by /omemo fingerprint).`
  );
}

/**
 * A contact's trust over all their devices, for the title bar: undecided while any active device
 * waits for a decision; otherwise verified when every device that gets our messages is verified,
 * trusted when each is trusted or verified, untrusted when none may read. Distrusted devices
 * simply get nothing, so they do not lower the label of a contact with trusted ones.
 */
export function contactTrust(devices: readonly { trust?: TrustState; active: boolean }[]): TrustState | undefined {
  const known = devices.filter((d) => d.active && d.trust);
  if (known.length === 0) return undefined;
  if (known.some((d) => d.trust === 'undecided')) return 'undecided';
  const readers = known.filter((d) => d.trust === 'trusted' || d.trust === 'verified');
  if (readers.length === 0) return 'untrusted';
  return readers.every((d) => d.trust === 'verified') ? 'verified' : 'trusted';
}
