// The one OMEMO send/receive path, for 1:1 chats and rooms alike: encrypt for everyone who must
// read or refuse to send, decrypt or explain why not, and complete every session a contact's device
// starts by answering exactly that device.
import { randomUUID } from 'node:crypto';
import type { DecryptResult, EncryptedElement, RecipientReport } from '../../omemo/manager.js';
import type { DeviceAddress } from '../../omemo/store.js';
import { OmemoError, isOmemoError } from '../../omemo/errors.js';
import { shortFingerprint } from '../../lib/fingerprint.js';
import { bareJid } from '../../lib/jid.js';
import { UnreachableDevices, notForThisDeviceText } from '../trust-ux.js';
import { errText, type SessionContext } from './context.js';
import { explainFetchError, type DeviceLists } from './device-lists.js';

export interface EncryptRequest {
  /** Where the message goes: a contact's bare JID or a room. */
  chat: string;
  /** Everyone who must be able to read (the contact, or the room's members), without us. */
  readers: string[];
  /** null: an empty key-transport message. */
  text: string | null;
  room?: boolean;
}

export interface DecryptRequest {
  /** The sender as shown: a full JID, or room/nick. */
  from: string;
  /** The sender's real bare JID, as established by the caller (never from the message itself). */
  sender: string;
  el: EncryptedElement;
  catchUp?: boolean;
}

export class OmemoIo {
  private readonly unreachable = new UnreachableDevices();

  constructor(
    private readonly ctx: SessionContext,
    private readonly deviceLists: DeviceLists,
    private readonly noteFingerprint: (jid: string, fp: string) => void,
  ) {}

  /** Encrypts for every usable device of the readers and our own, or throws without sending. */
  async encryptOrRefuse(req: EncryptRequest): Promise<EncryptedElement> {
    const link = this.ctx.online();
    for (const j of [...req.readers, link.jid]) {
      try {
        await this.deviceLists.of(j);
      } catch (e) {
        // A contact whose devices cannot be seen cannot read: in a chat with them that is final.
        if (!req.room && j !== link.jid) throw explainFetchError(j, e);
        this.ctx.warn(`${req.chat}: ${explainFetchError(j, e).message}`, { jid: j });
      }
    }
    const res = await link.omemo.encrypt(req.text, [...req.readers, link.jid], async (j, d) => {
      try {
        return await link.xmpp.fetchBundle(j, d);
      } catch (e) {
        throw explainFetchError(j, e);
      }
    });
    for (const r of res.recipients) if (r.fingerprint) this.noteFingerprint(r.jid, r.fingerprint);
    const able = new Set(res.recipients.filter((r) => r.status === 'ok' && r.jid !== link.jid).map((r) => r.jid));
    const skipped = res.recipients.filter((r) => r.status !== 'ok');
    if (req.readers.length > 0 && able.size === 0) throw refusal(req, skipped);
    this.warnUnreachable(req, skipped, req.readers.filter((j) => !able.has(j)));
    return res.element;
  }

  /** Once per change of who cannot read, not on every message (trust-ux.ts). */
  private warnUnreachable(req: EncryptRequest, skipped: RecipientReport[], unable: string[]): void {
    const warn = this.unreachable.check(req.chat, skipped, this.ctx.account?.jid);
    if (!warn) return;
    const none = req.room && unable.length > 0 ? ` (no usable device for ${unable.join(', ')})` : '';
    this.ctx.warn(`${warn.message}${none}`, { jid: req.chat, devices: warn.devices });
  }

  /** Decrypts, or tells the user why not (replays are dropped quietly); completes new sessions. */
  async decryptOrReport(req: DecryptRequest): Promise<DecryptResult | undefined> {
    const m = this.ctx.account?.omemo;
    if (!m) return undefined;
    const who = bareJid(req.from) === req.sender ? req.from : `${req.from} (${req.sender})`;
    let res: DecryptResult;
    try {
      res = await m.decrypt(req.sender, req.el, { catchUp: req.catchUp ?? false });
    } catch (e) {
      if (isOmemoError(e, 'duplicate')) return undefined; // replays (archive, retransmission)
      if (isOmemoError(e, 'no-key-for-us')) {
        if (req.el.payload === undefined) return undefined; // key transport for other devices only
        const own = { deviceId: await m.ownDeviceId(), fingerprint: await m.ownFingerprint() };
        this.ctx.error(notForThisDeviceText(who, req.el.sid, own, req.sender === this.ctx.account?.jid), req.from, 'no-key-for-us');
        return undefined;
      }
      this.ctx.error(`could not decrypt message from ${who} (device ${req.el.sid}): ${errText(e)}`, req.from, e instanceof OmemoError ? e.code : 'error');
      return undefined;
    }
    const link = this.ctx.onlineOrUndefined();
    if (res.bundleChanged && link) await link.xmpp.publishBundle(await m.ownBundle());
    if (res.sendEmptyReply) await this.completeSessions([{ jid: req.sender, deviceId: req.el.sid }]);
    return res;
  }

  /**
   * One empty key-transport message per contact, with a key for exactly the devices named: the
   * devices whose PreKey message started a session (or whose heartbeat is due).
   */
  async completeSessions(devices: DeviceAddress[]): Promise<void> {
    const link = this.ctx.onlineOrUndefined();
    if (!link || devices.length === 0) return;
    const byJid = new Map<string, DeviceAddress[]>();
    for (const d of devices) byJid.set(d.jid, [...(byJid.get(d.jid) ?? []), d]);
    for (const [jid, addrs] of byJid) {
      try {
        const el = await link.omemo.emptyMessage(addrs);
        if (el.keys.length > 0) await link.xmpp.sendEncrypted(jid, el, randomUUID(), { keyTransport: true });
      } catch (e) {
        const which = addrs.map((a) => a.deviceId).join(', ');
        this.ctx.error(`could not send the session-completing empty message to ${jid} (device ${which}): ${errText(e)}`, jid, 'session-completion');
      }
    }
  }
}

function refusal(req: EncryptRequest, skipped: RecipientReport[]): OmemoError {
  const theirs = skipped.filter((r) => req.readers.includes(r.jid));
  const untrusted = theirs.filter((r) => r.status === 'untrusted' && r.fingerprint);
  const hint = untrusted.length ? ` Trust a device with: ${untrusted.map((r) => `/omemo trust ${r.jid} ${r.fingerprint}`).join(' ; ')}` : '';
  const why = theirs
    .map((r) => `${req.room ? `${r.jid} ` : ''}device ${r.deviceId}${r.fingerprint ? ` (${shortFingerprint(r.fingerprint)})` : ''}: ${r.status}${r.reason ? ` - ${r.reason}` : ''}`)
    .join('; ');
  const whose = req.room ? `any member (${req.readers.join(', ')})` : req.readers[0];
  return new OmemoError('no-trusted-devices', `message to ${req.chat} NOT sent: no trusted device of ${whose} could receive it${why ? ` (${why})` : ''}.${hint}`);
}
