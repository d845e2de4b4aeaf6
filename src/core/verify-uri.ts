// /omemo verify URI: compares the fingerprints listed in an OMEMO URI (scanned from a contact's
// QR code) with the devices we know for that JID. Pure decisions; the session applies them.
import type { DeviceView, VerifyPlan } from './api.js';
export type { VerifyPlan } from './api.js';
import type { UriDevice } from '../omemo/uri.js';
import { formatFingerprint, shortFingerprint } from '../omemo/fingerprint.js';

export function planVerify(jid: string, listed: readonly UriDevice[], known: readonly DeviceView[]): VerifyPlan {
  const plan: VerifyPlan = { jid, toVerify: [], alreadyVerified: [], mismatched: [], unknown: [] };
  // Indexed once (first match wins, as a scan would): linear in listed + known.
  const fpIndex = new Map<string, DeviceView>();
  const idIndex = new Map<number, DeviceView>();
  for (const d of known) {
    if (d.fingerprint !== undefined && !fpIndex.has(d.fingerprint)) fpIndex.set(d.fingerprint, d);
    if (!idIndex.has(d.deviceId)) idIndex.set(d.deviceId, d);
  }
  for (const l of listed) {
    // Trust belongs to the identity key: a listed key we know (under any id of this JID) counts.
    const byFp = fpIndex.get(l.fingerprint);
    const byId = idIndex.get(l.deviceId);
    if (byFp) {
      if (byFp.trust === 'verified') plan.alreadyVerified.push(l);
      else plan.toVerify.push({ ...l, knownAs: byFp.deviceId });
    } else if (byId?.fingerprint) {
      plan.mismatched.push({ ...l, known: byId.fingerprint });
    } else {
      plan.unknown.push(l);
    }
  }
  return plan;
}

export interface VerifyOutcome {
  /** One info text summarizing the result. */
  summary: string;
  /** One warning per problem device. */
  warnings: { message: string; devices: number[] }[];
}

export function describeVerify(plan: VerifyPlan, online: boolean): VerifyOutcome {
  const { jid } = plan;
  const lines: string[] = [];
  const n = (k: number, w: string) => `${k} ${w}${k === 1 ? '' : 's'}`;
  lines.push(
    `verify ${jid}: ${n(plan.toVerify.length, 'device')} newly verified, ${plan.alreadyVerified.length} already verified, ` +
      `${plan.mismatched.length} MISMATCHED, ${plan.unknown.length} unknown`,
  );
  for (const d of plan.toVerify) {
    const other = d.knownAs !== d.deviceId ? ` (known as device ${d.knownAs})` : '';
    lines.push(`  device ${d.deviceId}${other}: ${formatFingerprint(d.fingerprint)} now verified`);
  }
  for (const d of plan.alreadyVerified) lines.push(`  device ${d.deviceId}: ${formatFingerprint(d.fingerprint)} was already verified`);
  const warnings: VerifyOutcome['warnings'] = [];
  for (const d of plan.mismatched) {
    warnings.push({
      devices: [d.deviceId],
      message:
        `MISMATCH: ${jid} device ${d.deviceId} has fingerprint ${formatFingerprint(d.known)}, but the URI lists ` +
        `${formatFingerprint(d.fingerprint)}. NOT trusted: the URI is outdated or someone is impersonating this device; compare with ${jid} directly.`,
    });
  }
  for (const d of plan.unknown) {
    warnings.push({
      devices: [d.deviceId],
      message:
        `unknown device: ${jid} device ${d.deviceId} (${shortFingerprint(d.fingerprint)}) is not known here` +
        (online
          ? ` (not in ${jid}'s published device list). Nothing was trusted for it; run /omemo verify again once it is published.`
          : `. Connect so its devices can be fetched, then run /omemo verify again.`),
    });
  }
  return { summary: lines.join('\n'), warnings };
}
