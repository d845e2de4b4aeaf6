// 1:1 chats: which one is current, and which encryption each uses. The decision itself is a pure
// function of what is known; finding out what is known (stored choice, published devices) is here.
import type { Encryption, OmemoPolicy } from '../api.js';
import { bareJid } from '../../lib/jid.js';
import { errText, type SessionContext } from './context.js';
import { explainFetchError, type DeviceLists } from './device-lists.js';
import type { MucCore } from '../muc/index.js';

/** What the encryption of a chat is decided from. */
export interface EncryptionFacts {
  /** Set in this session (/omemo start|end, an encrypted message received) or stored for the chat. */
  chosen?: Encryption;
  policy: OmemoPolicy;
  /** The contact's published devices, or why they cannot be seen (only asked for under 'automatic'). */
  devices?: { count: number } | { error: 'forbidden' | 'other' };
}

/** 'refuse': the contact's keys are hidden from us, so "no OMEMO" cannot be told from "cannot see". */
export function decideEncryption(f: EncryptionFacts): Encryption | 'refuse' {
  if (f.chosen) return f.chosen;
  if (f.policy === 'always') return 'omemo';
  if (f.policy === 'manual') return 'none';
  if (!f.devices) return 'none';
  if ('error' in f.devices) return f.devices.error === 'forbidden' ? 'refuse' : 'none';
  return f.devices.count > 0 ? 'omemo' : 'none';
}

export class Chats {
  private readonly modes = new Map<string, Encryption>();

  constructor(
    private readonly ctx: SessionContext,
    private readonly deviceLists: DeviceLists,
    private readonly muc: MucCore,
  ) {}

  jids(): string[] {
    return [...this.modes.keys()];
  }

  /** An incoming encrypted message makes the chat an OMEMO chat (as Conversations/Profanity do). */
  sawEncrypted(jid: string): void {
    if (!this.modes.has(jid)) this.modes.set(jid, 'omemo');
  }

  /** This session's choice, which the next messages follow. */
  set(jid: string, enc: Encryption): void {
    this.modes.set(jid, enc);
  }

  open(jid: string): void {
    const chat = bareJid(jid);
    this.ctx.current = chat;
    this.muc.noteCurrent(chat);
    if (this.muc.isRoom(chat)) {
      this.ctx.emit({ event: 'chat', jid: chat, encryption: this.muc.encryptionOf(chat) });
      return;
    }
    const known = this.modes.get(chat);
    if (known) {
      this.ctx.emit({ event: 'chat', jid: chat, encryption: known });
      return;
    }
    if (!this.ctx.connected) {
      // Offline: what is known already (stored choice, policy, devices seen before), else "pending".
      this.ctx
        .track(this.offlineEncryption(chat))
        .then((encryption) => this.ctx.emit({ event: 'chat', jid: chat, encryption: encryption ?? 'none', ...(encryption ? {} : { pending: true as const }) }))
        .catch((e) => this.ctx.emit({ event: 'warning', jid: chat, message: errText(e) }));
      return;
    }
    // Announce the mode the next message will really use (policy, stored choice, published devices).
    this.ctx
      .track(this.ctx.queue.run(() => this.encryptionOf(chat)))
      .then((encryption) => this.ctx.emit({ event: 'chat', jid: chat, encryption }))
      .catch((e) => this.ctx.emit({ event: 'warning', jid: chat, message: errText(e) }));
  }

  /** The mode a chat opened offline will use, from what is known without the server; undefined: not known yet. */
  private async offlineEncryption(jid: string): Promise<Encryption | undefined> {
    const chosen = await this.ctx.deps.accounts.getChatPolicy(jid);
    const stored = this.ctx.account ? (await this.ctx.account.omemo.listDevices(jid)).filter((d) => d.active).length : undefined;
    const count = this.deviceLists.cached(jid)?.length ?? (stored ? stored : undefined);
    const decision = decideEncryption({ ...(chosen ? { chosen } : {}), policy: this.ctx.policy, ...(count !== undefined ? { devices: { count } } : {}) });
    // Under 'automatic' with no device list seen yet, "none" would only mean "not known".
    if (decision === 'refuse' || (decision === 'none' && !chosen && this.ctx.policy === 'automatic' && count === undefined)) return undefined;
    return decision;
  }

  /** The mode the next message to `jid` uses; throws when that cannot be told safely. */
  async encryptionOf(jid: string): Promise<Encryption> {
    const chosen = this.modes.get(jid) ?? (await this.ctx.deps.accounts.getChatPolicy(jid));
    const facts: EncryptionFacts = { ...(chosen ? { chosen } : {}), policy: this.ctx.policy };
    let fetchError: unknown;
    if (!chosen && this.ctx.policy === 'automatic') {
      try {
        facts.devices = { count: (await this.deviceLists.of(jid)).length };
      } catch (e) {
        fetchError = e;
        facts.devices = { error: (e as { condition?: string } | null)?.condition === 'forbidden' ? 'forbidden' : 'other' };
      }
    }
    const decision = decideEncryption(facts);
    if (decision === 'refuse') {
      // Forbidden means "cannot tell" (Profanity keeps its keys presence-only), not "no OMEMO".
      throw new Error(`${explainFetchError(jid, fetchError).message} To send unencrypted anyway: /omemo end ${jid}`);
    }
    return decision;
  }

  /** /omemo start|end for a 1:1 chat: remembered for the contact. */
  async choose(jid: string, enc: Encryption): Promise<void> {
    this.modes.set(jid, enc);
    await this.ctx.deps.accounts.setChatPolicy(jid, enc);
    if (enc === 'omemo') this.ctx.current = jid;
    this.ctx.emit({ event: 'chat', jid, encryption: enc });
  }
}
