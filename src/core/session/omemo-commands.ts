// The /omemo commands: identity, fingerprints, trust, per-chat encryption, policy and trust mode,
// devices, verification URIs, the QR code, clearing our device list.
import type { DeviceView, OmemoPolicy, TrustMode } from '../api.js';
import type { TrustState } from '../../omemo/store.js';
import { buildOmemoUri, parseOmemoUri } from '../../omemo/uri.js';
import { normalizeFingerprint } from '../../lib/fingerprint.js';
import { bareJid } from '../../lib/jid.js';
import { describeVerify, planVerify, type VerifyPlan } from '../verify-uri.js';
import { renderQr } from '../qrcode.js';
import { contactTrust as summarizeTrust } from '../trust-ux.js';
import type { MucCore } from '../muc/index.js';
import type { SessionContext } from './context.js';
import { explainFetchError, type DeviceLists } from './device-lists.js';
import type { Identity } from './identity.js';
import type { Chats } from './chats.js';

export class OmemoCommands {
  constructor(
    private readonly ctx: SessionContext,
    private readonly identity: Identity,
    private readonly deviceLists: DeviceLists,
    private readonly chats: Chats,
    private readonly muc: MucCore,
    private readonly noteFingerprint: (jid: string, fp: string) => void,
  ) {}

  async gen(): Promise<{ deviceId: number; fingerprint: string; created: boolean }> {
    const { jid, omemo } = await this.identity.require();
    const { deviceId, created } = await this.ctx.queue.run(() => omemo.ensureIdentity(this.deviceLists.cached(jid) ?? []));
    const fingerprint = await omemo.ownFingerprint();
    const link = this.ctx.onlineOrUndefined();
    if (created && link) await this.ctx.queue.run(() => this.deviceLists.setUpOwn(link));
    return { deviceId, fingerprint, created };
  }

  /** Fingerprints of a contact's devices; ours (no JID, or our own): every device of the account. */
  async fingerprint(jid?: string): Promise<DeviceView[]> {
    const { jid: own } = await this.identity.require();
    if (!jid || bareJid(jid) === own) return this.devices(own);
    return this.deviceViews(bareJid(jid));
  }

  /** The contact's trust over all their known devices, from what is stored (nothing fetched). */
  async contactTrust(jid: string): Promise<TrustState | undefined> {
    const omemo = this.ctx.account?.omemo;
    return omemo ? summarizeTrust(await omemo.listDevices(bareJid(jid))) : undefined;
  }

  /** Every known device of `b` (its list and keys refreshed first when online). */
  private async deviceViews(b: string): Promise<DeviceView[]> {
    const { jid: own, omemo } = await this.identity.require();
    const link = this.ctx.onlineOrUndefined();
    if (link) {
      // Learn identities of devices we have no session with yet, so there is something to trust.
      try {
        const ids = await this.deviceLists.of(b, true);
        const failed = await this.ctx.queue.run(() => omemo.learnIdentities(b, ids, (j, d) => link.xmpp.fetchBundle(j, d)));
        for (const f of failed) this.ctx.error(`device ${f.deviceId} of ${b} is unusable: ${f.reason}`, b, 'bad-bundle');
      } catch (e) {
        this.ctx.error(explainFetchError(b, e).message, b);
      }
    }
    const ownId = b === own ? await omemo.ownDeviceId() : -1;
    return (await omemo.listDevices(b)).map((d) => ({
      jid: b,
      deviceId: d.deviceId,
      fingerprint: d.fingerprint,
      trust: d.trust,
      active: d.active,
      own: d.deviceId === ownId,
      lastSeen: d.lastSeen,
    }));
  }

  async setTrust(jid: string, fingerprint: string, state: TrustState): Promise<void> {
    const fp = normalizeFingerprint(fingerprint);
    if (!fp) throw new Error(`not a fingerprint: ${fingerprint} (expected 64 hex characters)`);
    const b = bareJid(jid);
    await this.ctx.queue.run(async () => (await this.identity.require()).omemo.setTrust(b, fp, state));
    this.ctx.emit({ event: 'trust', jid: b, fingerprint: fp, state });
  }

  async start(jid?: string): Promise<void> {
    const target = jid ? bareJid(jid) : this.ctx.current;
    if (!target) throw new Error('no chat: /omemo start JID');
    if (this.muc.isRoom(target)) return this.muc.setEncryption(target, 'omemo');
    await this.chats.choose(target, 'omemo');
  }

  async end(jid?: string): Promise<void> {
    const target = jid ? bareJid(jid) : this.ctx.current;
    if (!target) throw new Error('no chat: /omemo end JID');
    if (this.muc.isRoom(target)) return this.muc.setEncryption(target, 'none');
    await this.chats.choose(target, 'none');
  }

  async policy(policy?: OmemoPolicy): Promise<OmemoPolicy> {
    if (policy) {
      this.ctx.policy = policy;
      await this.persistSetting('omemo_policy', policy);
    }
    return this.ctx.policy;
  }

  async trustMode(mode?: TrustMode): Promise<TrustMode> {
    if (mode) {
      this.ctx.trustMode = mode;
      this.ctx.account?.omemo.setTrustMode(mode);
      await this.persistSetting('trust_mode', mode);
    }
    return this.ctx.trustMode;
  }

  /**
   * Saves a setting of the connected account. An account connected with /connect alone is not in
   * the store: the setting then holds for this session only (saying so), instead of failing.
   */
  private async persistSetting(key: 'omemo_policy' | 'trust_mode', value: string): Promise<void> {
    const jid = this.ctx.account?.jid;
    if (!jid) return;
    if (!(await this.ctx.deps.accounts.get(jid))) {
      this.ctx.info(`${key} ${value} applies to this session only: /account add ${jid} to keep settings`);
      return;
    }
    await this.ctx.deps.accounts.set(jid, key, value);
  }

  async devices(jid?: string): Promise<DeviceView[]> {
    const { jid: own, omemo } = await this.identity.require();
    const b = jid ? bareJid(jid) : own;
    const list = await this.deviceViews(b);
    if (b === own) {
      // This device's key is ours, not learned from a bundle: fill it in.
      const self: DeviceView = { jid: b, deviceId: await omemo.ownDeviceId(), fingerprint: await omemo.ownFingerprint(), trust: 'verified', active: true, own: true };
      const i = list.findIndex((d) => d.own);
      if (i >= 0) list[i] = { ...list[i], fingerprint: self.fingerprint, trust: 'verified' };
      else list.unshift(self);
    }
    for (const d of list) if (d.fingerprint) this.noteFingerprint(b, d.fingerprint);
    return list;
  }

  async verify(uri: string): Promise<VerifyPlan & { summary: string }> {
    const parsed = parseOmemoUri(uri);
    if (parsed.devices.length === 0) {
      const why = parsed.ignored.map((i) => `${i.part}: ${i.reason}`).join('; ');
      throw new Error(`the URI lists no omemo-sid-ID=FINGERPRINT pair for ${parsed.jid}${why ? ` (${why})` : ''}`);
    }
    // Online this fetches the contact's current devices first, so new ones can be matched.
    const known = await this.devices(parsed.jid);
    const plan = planVerify(parsed.jid, parsed.devices, known);
    for (const d of plan.toVerify) await this.setTrust(parsed.jid, d.fingerprint, 'verified');
    const out = describeVerify(plan, this.ctx.connected);
    for (const w of out.warnings) this.ctx.warn(w.message, { jid: parsed.jid, devices: w.devices });
    const ignored = parsed.ignored.map((i) => `  ignored "${i.part}": ${i.reason}`);
    return { ...plan, summary: [out.summary, ...ignored].join('\n') };
  }

  async qrCode(): Promise<{ uri: string; qr: string }> {
    const own = await this.devices();
    // Conversations lists the devices a scanner may trust: this one and our trusted others.
    const listed = own
      .filter((d) => d.own || (d.active && (d.trust === 'trusted' || d.trust === 'verified')))
      .sort((a, b) => Number(b.own) - Number(a.own))
      .flatMap((d) => (d.fingerprint ? [{ deviceId: d.deviceId, fingerprint: d.fingerprint }] : []));
    const uri = buildOmemoUri((await this.identity.require()).jid, listed);
    return { uri, qr: renderQr(uri) };
  }

  clearDeviceList(): Promise<number[]> {
    const link = this.ctx.online();
    return this.ctx.queue.run(() => this.deviceLists.clearOwn(link));
  }
}
