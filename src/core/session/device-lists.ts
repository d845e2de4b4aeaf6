// OMEMO device lists, ours and our contacts': the cache, its refresh, PEP notifications, the
// announcement of new devices, and our own list published on connect.
import { MAX_DEVICES_PER_JID } from '../../omemo/manager.js';
import { formatFingerprint } from '../../omemo/fingerprint.js';
import { logged } from '../../lib/diagnostics.js';
import { errText, type Online, type SessionContext } from './context.js';

/** A list we fetched ourselves is refreshed after this; PEP keeps subscribed contacts' lists current. */
const DEVICE_LIST_MAX_AGE_MS = 60_000;

/** Why a contact's devices cannot be fetched, as the user can act on it. */
export function explainFetchError(jid: string, e: unknown): Error {
  const cond = (e as { condition?: string } | null)?.condition;
  if (cond === 'forbidden') {
    return new Error(
      `the server refused to show ${jid}'s OMEMO keys (forbidden): their client publishes its keys only to contacts with a presence subscription (Profanity does this). Fix: /sub request ${jid} and have them accept it (and accept their request with /sub allow ${jid}), then send again.`,
    );
  }
  if (cond === 'item-not-found') {
    return new Error(`${jid} has no OMEMO devices published (item-not-found): they may not use OMEMO.`);
  }
  return e instanceof Error ? e : new Error(String(e));
}

export class DeviceLists {
  private readonly lists = new Map<string, number[]>();
  /** When we last fetched a list ourselves; lists from PEP notifications have no entry. */
  private readonly fetchedAt = new Map<string, number>();
  /** Said once per list size: a list this long is a broken or hostile client, not a person. */
  private readonly cappedWarned = new Map<string, number>();

  constructor(
    private readonly ctx: SessionContext,
    private readonly noteFingerprint: (jid: string, fp: string) => void,
  ) {}

  cached(jid: string): number[] | undefined {
    return this.lists.get(jid);
  }

  jids(): string[] {
    return [...this.lists.keys()];
  }

  /**
   * A contact's device list. PEP notifications keep it current only for contacts whose presence
   * we are subscribed to, so a cached list we fetched ourselves is refreshed once it is stale.
   */
  async of(jid: string, fresh = false): Promise<number[]> {
    const cached = this.lists.get(jid);
    const fetchedAt = this.fetchedAt.get(jid);
    const stale = fetchedAt !== undefined && Date.now() - fetchedAt > DEVICE_LIST_MAX_AGE_MS;
    if (cached && !fresh && !stale) return cached;
    const link = this.ctx.online();
    const res = await link.omemo.processDeviceList(jid, await link.xmpp.fetchDeviceList(jid));
    this.warnIfCapped(jid, res.ignored);
    this.fetchedAt.set(jid, Date.now());
    this.lists.set(jid, res.accepted);
    return res.accepted;
  }

  /** A device list notification from PEP. */
  async onNotification(jid: string, ids: number[]): Promise<void> {
    const link = this.ctx.onlineOrUndefined();
    if (!link) return;
    const m = link.omemo;
    const before = new Set(this.lists.get(jid) ?? []);
    const res = await m.processDeviceList(jid, ids);
    this.warnIfCapped(jid, res.ignored);
    this.lists.set(jid, res.accepted);
    this.fetchedAt.delete(jid);
    if (jid === link.jid && res.ownDeviceMissing) {
      // Another client of ours dropped this device: put it back (XEP-0384 race rule).
      const own = await m.ownDeviceId();
      await this.publishOwn(link, [...res.accepted.filter((i) => i !== own), own]);
    }
    await this.announce(jid, res.newDevices.filter((id) => !before.has(id)));
  }

  /**
   * Own identity, bundle and device list, on every connect. A list that could not be read is never
   * replaced: publishing "just this device" would drop the user's other clients.
   */
  async setUpOwn(link: Online): Promise<void> {
    const m = link.omemo;
    let ownIds: number[] | undefined;
    try {
      ownIds = await link.xmpp.fetchDeviceList(link.jid); // no list published yet: []
    } catch (e) {
      this.ctx.emit({
        event: 'warning',
        reason: 'own-device-list-unread',
        message: `could not read your own OMEMO device list (${errText(e)}); it is left as it is so your other devices stay in it. This device is added when the server next tells us the list.`,
      });
    }
    const { deviceId, created } = await m.ensureIdentity(ownIds ?? []);
    if (created) this.ctx.info(`OMEMO: generated device ${deviceId}, fingerprint ${formatFingerprint(await m.ownFingerprint())}`);
    await m.rotateSignedPreKeyIfDue();
    await link.xmpp.publishBundle(await m.ownBundle());
    if (ownIds === undefined) return;
    const listed = await m.processDeviceList(link.jid, ownIds);
    this.warnIfCapped(link.jid, listed.ignored);
    this.lists.set(link.jid, listed.accepted);
    // Own devices added while we were away (another client of ours) are news too.
    await this.announce(link.jid, listed.newDevices);
    if (!listed.accepted.includes(deviceId)) await this.publishOwn(link, [...listed.accepted, deviceId]);
  }

  /** /omemo clear_device_list: only this device stays listed; returns the ids removed. */
  async clearOwn(link: Online): Promise<number[]> {
    const own = await link.omemo.ownDeviceId();
    let current = this.lists.get(link.jid) ?? [];
    try {
      current = await link.xmpp.fetchDeviceList(link.jid);
    } catch (e) {
      // Whatever was listed goes anyway; only the report of what was removed is less exact.
      this.ctx.warn(`could not read the current device list before clearing it: ${errText(e)}`);
    }
    await this.publishOwn(link, [own]);
    return current.filter((id) => id !== own);
  }

  private async publishOwn(link: Online, ids: number[]): Promise<void> {
    await link.xmpp.publishDeviceList(ids);
    this.lists.set(link.jid, ids);
    await link.omemo.processDeviceList(link.jid, ids);
  }

  /** A 'device' event per new device, with fingerprint and trust when its bundle can be fetched. */
  async announce(jid: string, ids: number[]): Promise<void> {
    const m = this.ctx.account?.omemo;
    if (ids.length === 0 || !m) return;
    const link = this.ctx.onlineOrUndefined();
    if (link) {
      // Failures only mean the announcement carries no fingerprint; sending reports them later.
      await m.learnIdentities(jid, ids, (j, d) => link.xmpp.fetchBundle(j, d)).catch(logged(`device lists: learn identities of ${jid}`));
    }
    const known = await m.listDevices(jid);
    for (const id of ids) {
      const d = known.find((k) => k.deviceId === id);
      if (d?.fingerprint) this.noteFingerprint(jid, d.fingerprint);
      this.ctx.emit({
        event: 'device',
        jid,
        device: id,
        ...(d?.fingerprint ? { fingerprint: d.fingerprint } : {}),
        ...(d?.trust ? { trust: d.trust } : {}),
        change: 'new',
      });
    }
  }

  private warnIfCapped(jid: string, ignored: number): void {
    if (ignored === 0 || this.cappedWarned.get(jid) === ignored) return;
    this.cappedWarned.set(jid, ignored);
    const whom = jid === this.ctx.account?.jid ? 'yourself' : 'the contact';
    this.ctx.emit({
      event: 'warning',
      reason: 'device-list-capped',
      jid,
      message: `${jid} publishes ${ignored + MAX_DEVICES_PER_JID} OMEMO devices; only ${MAX_DEVICES_PER_JID} are used (${ignored} ignored). A real account has a handful: ask ${whom} to clean up the device list (/omemo clear_device_list).`,
    });
  }
}
