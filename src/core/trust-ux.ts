// Trust UX: what the user is told before a message goes out to devices that cannot read it, and
// when a received message was not encrypted for this device. Pure text and bookkeeping.
import type { RecipientReport } from '../omemo/manager.js';
import { shortFingerprint } from '../lib/fingerprint.js';

/** How a device that will not get a key can be fixed. */
function fix(r: RecipientReport): string {
  if (r.status === 'untrusted') {
    if (r.fingerprint) return `not trusted (${r.reason ?? 'untrusted'}); if it is theirs: /omemo trust ${r.jid} ${r.fingerprint}`;
    return `not trusted, identity unknown; see /omemo devices ${r.jid}`;
  }
  if (r.status === 'bundle-error') return `its keys could not be fetched (${r.reason ?? 'bundle error'})`;
  return `no session (${r.reason ?? 'no session'})`;
}

export function unreachableText(chat: string, skipped: readonly RecipientReport[]): string {
  const parts = skipped.map(
    (r) => `${r.jid} device ${r.deviceId}${r.fingerprint ? ` (${shortFingerprint(r.fingerprint)})` : ''}: ${fix(r)}`,
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
  check(chat: string, skipped: readonly RecipientReport[]): { message: string; devices: number[] } | undefined {
    const sig = skipped
      .map((r) => `${r.jid}/${r.deviceId}/${r.status}/${r.fingerprint ?? ''}`)
      .sort()
      .join('|');
    const before = this.last.get(chat) ?? '';
    this.last.set(chat, sig);
    if (sig === before || skipped.length === 0) return undefined;
    return { message: unreachableText(chat, skipped), devices: skipped.map((r) => r.deviceId) };
  }

  /** Forget a chat's state (e.g. after a trust change) so the next send reports afresh. */
  reset(chat?: string): void {
    if (chat === undefined) this.last.clear();
    else this.last.delete(chat);
  }
}

/** A received message without a key for this device: who sent it, from which device, and why. */
export function notForThisDeviceText(from: string, senderDevice: number, own: { deviceId: number; fingerprint?: string }): string {
  return (
    `message from ${from} (device ${senderDevice}) was not encrypted for this device (${own.deviceId}): ` +
    `their client does not know or does not trust this device yet, so it cannot be read here. ` +
    `Ask them to refresh your devices and trust this device's fingerprint` +
    (own.fingerprint ? ` ${own.fingerprint}` : '') +
    ` (shown by /omemo fingerprint).`
  );
}
