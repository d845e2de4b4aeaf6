// Receipts, chat states, corrections and retractions: stanza layout and parsing (src/xmpp), and
// the account session's rules (src/core) over a fake XMPP port: only the original sender may
// correct or retract, receipts only for shown messages, chat states deduplicated and switchable.
import { describe, it, expect, beforeEach } from 'vitest';
import {
  buildChatMessage,
  buildEncryptedMessage,
  buildSignalMessage,
  parseExtras,
  parseMessage,
  parseXml,
  RETRACT_FALLBACK_BODY,
  type MessageExtras,
} from '../../src/xmpp/index.js';
import { AccountSession } from '../../src/core/account-session.js';
import type { IncomingMessage, XmppPort, XmppPortEvents } from '../../src/core/ports.js';
import type { XchatEvent } from '../../src/core/api.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { CommandEngine } from '../../src/commands/engine.js';
import { FakeCore } from '../commands/fake-core.js';

const ME = 'me@example.org';
const BOB = 'bob@example.org';
const EVE = 'eve@example.org';

describe('extras stanzas', () => {
  const enc = { sid: 1, keys: [{ rid: 2, prekey: false, data: new Uint8Array([1, 2, 3]) }], iv: new Uint8Array(12), payload: new Uint8Array([9]) };

  it('puts receipt request, origin-id, chat state and replace beside <encrypted>, never inside', () => {
    const el = buildEncryptedMessage(BOB, enc, {
      id: 'm1',
      extras: { originId: 'm1', receiptRequest: true, chatState: 'active', replaceId: 'm0' },
    });
    const encEl = el.getChild('encrypted', 'eu.siacs.conversations.axolotl')!;
    expect(encEl.getChildElements().map((c) => c.name).sort()).toEqual(['header', 'payload']);
    expect(el.getChild('request', 'urn:xmpp:receipts')).toBeDefined();
    expect(el.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id).toBe('m1');
    expect(el.getChild('active', 'http://jabber.org/protocol/chatstates')).toBeDefined();
    expect(el.getChild('replace', 'urn:xmpp:message-correct:0')?.attrs.id).toBe('m0');
    const back = parseMessage(el, ME);
    expect(back?.extras).toEqual({ originId: 'm1', receiptRequest: true, chatState: 'active', replaceId: 'm0' });
    expect(back?.encrypted).toBeDefined();
  });

  it('builds a retraction in both XEP-0424 forms with fallback and store hint', () => {
    const el = buildChatMessage(BOB, RETRACT_FALLBACK_BODY, { id: 'r1', extras: { retractId: 'orig-1' } });
    const applyTo = el.getChild('apply-to', 'urn:xmpp:fasten:0')!;
    expect(applyTo.attrs.id).toBe('orig-1');
    expect(applyTo.getChild('retract', 'urn:xmpp:message-retract:0')).toBeDefined();
    expect(el.getChild('retract', 'urn:xmpp:message-retract:1')?.attrs.id).toBe('orig-1');
    expect(el.getChild('fallback', 'urn:xmpp:fallback:0')?.attrs.for).toBe('urn:xmpp:message-retract:1');
    expect(el.getChild('store', 'urn:xmpp:hints')).toBeDefined();
    expect(el.getChildText('body')).toBe(RETRACT_FALLBACK_BODY);
    // Each form alone is understood.
    expect(parseExtras(parseXml(`<message><apply-to xmlns='urn:xmpp:fasten:0' id='a'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to></message>`)).retractId).toBe('a');
    expect(parseExtras(parseXml(`<message><retract xmlns='urn:xmpp:message-retract:1' id='b'/></message>`)).retractId).toBe('b');
    // apply-to without a retract inside is some other fastening, not a retraction.
    expect(parseExtras(parseXml(`<message><apply-to xmlns='urn:xmpp:fasten:0' id='a'><x xmlns='y'/></apply-to></message>`)).retractId).toBeUndefined();
  });

  it('signals: receipts are stored, chat states are not; body-less signals still parse', () => {
    const r = buildSignalMessage(`${BOB}/p`, { receivedId: 'm1' }, 'x1');
    expect(r.getChild('received', 'urn:xmpp:receipts')?.attrs.id).toBe('m1');
    expect(r.getChild('store', 'urn:xmpp:hints')).toBeDefined();
    expect(r.getChild('body')).toBeUndefined();
    const c = buildSignalMessage(BOB, { chatState: 'composing' }, 'x2');
    expect(c.getChild('no-store', 'urn:xmpp:hints')).toBeDefined();
    const parsed = parseMessage(parseXml(`<message from='${BOB}/p' to='${ME}' type='chat'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>`), ME);
    expect(parsed).toMatchObject({ from: `${BOB}/p`, extras: { chatState: 'paused' } });
    expect(parsed?.body).toBeUndefined();
    // Unknown chat-state names and oversized ids are ignored, nothing else.
    expect(parseMessage(parseXml(`<message from='${BOB}/p' type='chat'><dancing xmlns='http://jabber.org/protocol/chatstates'/></message>`), ME)).toBeUndefined();
    expect(parseExtras(parseXml(`<message><replace xmlns='urn:xmpp:message-correct:0' id='${'x'.repeat(300)}'/></message>`))).toEqual({});
  });
});

// ---- the account session over a fake port ---------------------------------------------------

interface Sent {
  kind: 'plain' | 'signal';
  to: string;
  body?: string;
  id?: string;
  extras?: MessageExtras;
}

class FakePort implements XmppPort {
  sent: Sent[] = [];
  private readonly handlers: { [K in keyof XmppPortEvents]?: XmppPortEvents[K][] } = {};
  async connect() {
    return `${ME}/xchat`;
  }
  async disconnect() {}
  on<K extends keyof XmppPortEvents>(event: K, listener: XmppPortEvents[K]) {
    (this.handlers[event] ??= [] as never[]).push(listener as never);
  }
  deliver(m: IncomingMessage) {
    for (const h of this.handlers.message ?? []) h(m);
  }
  async sendPlain(to: string, body: string, id: string, extras?: MessageExtras) {
    this.sent.push({ kind: 'plain', to, body, id, extras });
  }
  async sendEncrypted(): Promise<void> {
    throw new Error('not in these tests');
  }
  async sendSignal(to: string, extras: MessageExtras) {
    this.sent.push({ kind: 'signal', to, extras });
  }
  async fetchDeviceList(): Promise<number[]> {
    throw Object.assign(new Error('none'), { condition: 'item-not-found' });
  }
  async fetchBundle(): Promise<never> {
    throw new Error('no bundles');
  }
  async publishDeviceList() {}
  async publishBundle() {}
  async subscription() {}
  async rosterAdd() {}
  async rosterRemove() {}
  async setPresence() {}
}

describe('AccountSession: receipts, chat states, correction, retraction (plaintext chat)', () => {
  let port: FakePort;
  let s: AccountSession;
  let events: XchatEvent[];
  const incoming = (m: Partial<IncomingMessage> & { from: string }): Promise<void> => {
    port.deliver({ to: `${ME}/xchat`, type: 'chat', ...m });
    return s.drain();
  };
  const of = <K extends XchatEvent['event']>(k: K) => events.filter((e): e is Extract<XchatEvent, { event: K }> => e.event === k);

  beforeEach(async () => {
    port = new FakePort();
    events = [];
    s = new AccountSession({
      openOmemoStore: async () => new MemoryOmemoStore(),
      accounts: {
        list: async () => [],
        get: async (jid) => ({ jid, omemo_policy: 'manual' }), // plaintext chats: no OMEMO needed here
        add: async () => {},
        set: async () => {},
        remove: async () => {},
        getChatPolicy: async () => undefined,
        setChatPolicy: async () => {},
      },
      createXmpp: () => port,
      env: { XCHAT_PASSWORD: 'x' },
    });
    s.on((e) => events.push(e));
    await s.connect({ jid: ME });
    port.sent = [];
  });

  it('requests a receipt on every message (with origin-id and <active/>) and reports the receipt', async () => {
    await s.sendMessage(BOB, 'hello');
    const out = port.sent[0];
    expect(out).toMatchObject({ kind: 'plain', to: BOB, body: 'hello' });
    expect(out.extras).toEqual({ originId: out.id, receiptRequest: true, chatState: 'active' });
    // A receipt from someone else for that id means nothing; Bob's does.
    await incoming({ from: `${EVE}/x`, extras: { receivedId: out.id! } });
    await incoming({ from: `${BOB}/phone`, extras: { receivedId: 'unknown-id' } });
    expect(of('receipt')).toEqual([]);
    await incoming({ from: `${BOB}/phone`, extras: { receivedId: out.id! } });
    expect(of('receipt')).toEqual([{ event: 'receipt', id: out.id, from: `${BOB}/phone` }]);
  });

  it('answers receipt requests only for messages it shows, to the sender\'s full JID', async () => {
    await incoming({ from: `${BOB}/phone`, id: 'b1', body: 'hi', extras: { receiptRequest: true } });
    expect(of('message').map((e) => e.body)).toEqual(['hi']);
    expect(port.sent).toEqual([{ kind: 'signal', to: `${BOB}/phone`, extras: { receivedId: 'b1' } }]);
    port.sent = [];
    // No request, a carbon of a message to our other device, and a spoofed correction: no receipt.
    await incoming({ from: `${BOB}/phone`, id: 'b2', body: 'no request' });
    await incoming({ from: `${BOB}/phone`, id: 'b3', body: 'carbon', carbon: 'received', extras: { receiptRequest: true } });
    await incoming({ from: `${BOB}/phone`, id: 'b5', body: 'from the archive', extras: { receiptRequest: true }, archiveId: 'A1' } as Partial<IncomingMessage> & { from: string });
    await s.sendMessage(BOB, 'mine');
    const mine = port.sent.pop()!.id!;
    await incoming({ from: `${BOB}/phone`, id: 'e1', body: 'spoof', extras: { receiptRequest: true, replaceId: mine } });
    expect(of('error')).toHaveLength(1);
    expect(port.sent).toEqual([]);
  });

  it('applies a correction from the original sender and ignores one from anyone else', async () => {
    await s.sendMessage(BOB, 'mine');
    const mine = port.sent[0].id!;
    await incoming({ from: `${BOB}/phone`, id: 'b1', body: 'helo' });
    // Bob rewriting our message, and our own account (carbon) rewriting Bob's: refused.
    await incoming({ from: `${BOB}/phone`, id: 'e1', body: 'evil text', extras: { replaceId: mine } });
    await incoming({ from: `${ME}/other`, to: `${BOB}/phone`, carbon: 'sent', id: 'e2', body: 'evil 2', extras: { replaceId: 'b1' } });
    expect(of('correction')).toEqual([]);
    expect(of('error')).toHaveLength(2);
    expect(of('error')[0]).toMatchObject({ from: `${BOB}/phone`, reason: 'spoofed-correction' });
    expect(of('error')[1]).toMatchObject({ from: `${ME}/other`, reason: 'spoofed-correction' });
    expect(of('message').map((e) => e.body)).toEqual(['helo']); // the spoofs are not shown as messages either
    // Eve cannot reach into Bob's chat: her "correction" of b1 is only a message in her own chat.
    await incoming({ from: `${EVE}/x`, id: 'v1', body: 'eve text', extras: { replaceId: 'b1' } });
    expect(of('correction')).toEqual([]);
    expect(of('message').at(-1)).toMatchObject({ from: `${EVE}/x`, body: 'eve text' });

    await incoming({ from: `${BOB}/laptop`, id: 'b2', body: 'hello', extras: { replaceId: 'b1' } });
    expect(of('correction')).toEqual([
      expect.objectContaining({ event: 'correction', from: `${BOB}/laptop`, id: 'b1', new_id: 'b2', body: 'hello', encryption: 'none' }),
    ]);
    // A second correction may name the correction's id: it still targets the original line.
    await incoming({ from: `${BOB}/laptop`, id: 'b3', body: 'hello!', extras: { replaceId: 'b2' } });
    expect(of('correction').at(-1)).toMatchObject({ id: 'b1', body: 'hello!' });
    // A correction of a message never seen is shown as a message: the text is not lost.
    await incoming({ from: `${BOB}/laptop`, id: 'b4', body: 'orphan fix', extras: { replaceId: 'zzz' } });
    expect(of('message').map((e) => e.body)).toEqual(['helo', 'eve text', 'orphan fix']);
  });

  it('applies a retraction from the original sender, ignores a spoofed one, never shows the fallback', async () => {
    await s.sendMessage(BOB, 'mine');
    const mine = port.sent[0].id!;
    await incoming({ from: `${BOB}/phone`, id: 'b1', body: 'oops', extras: { originId: 'o1' } });
    await incoming({ from: `${BOB}/phone`, id: 'e1', body: RETRACT_FALLBACK_BODY, extras: { retractId: mine } });
    await incoming({ from: `${EVE}/x`, id: 'e2', body: RETRACT_FALLBACK_BODY, extras: { retractId: 'o1' } });
    expect(of('retraction')).toEqual([]);
    expect(of('error')).toHaveLength(1);
    expect(of('error')[0]).toMatchObject({ from: `${BOB}/phone`, reason: 'spoofed-retraction' });
    await incoming({ from: `${BOB}/phone`, id: 'b2', body: RETRACT_FALLBACK_BODY, extras: { retractId: 'o1' } });
    expect(of('retraction')).toEqual([{ event: 'retraction', from: `${BOB}/phone`, to: `${ME}/xchat`, id: 'b1' }]);
    // Body-less retraction (message-retract:1 allows it) also works.
    await incoming({ from: `${BOB}/phone`, id: 'b3', body: 'again' });
    await incoming({ from: `${BOB}/phone`, id: 'b4', extras: { retractId: 'b3' } });
    expect(of('retraction').at(-1)).toMatchObject({ id: 'b3' });
    expect(of('message').map((e) => e.body)).toEqual(['oops', 'again']);
  });

  it('/correct and /retract act on our last message in the current chat', async () => {
    s.openChat(BOB);
    await expect(s.correctLast('nothing yet')).rejects.toThrow(/no message of yours/);
    await s.sendMessage(BOB, 'first');
    await s.sendMessage(BOB, 'secnd');
    const [first, second] = port.sent;
    port.sent = [];
    await s.correctLast('second');
    expect(port.sent[0]).toMatchObject({ kind: 'plain', to: BOB, body: 'second', extras: { replaceId: second.id } });
    expect(of('correction')).toEqual([
      expect.objectContaining({ from: ME, to: BOB, id: second.id, new_id: port.sent[0].id, body: 'second' }),
    ]);
    // Correcting again still names the original.
    await s.correctLast('second!');
    expect(port.sent[1].extras?.replaceId).toBe(second.id);

    port.sent = [];
    await s.retractLast();
    expect(port.sent[0]).toMatchObject({ kind: 'plain', to: BOB, body: RETRACT_FALLBACK_BODY, extras: { retractId: second.id } });
    expect(port.sent[0].extras?.receiptRequest).toBe(false);
    expect(of('retraction')).toEqual([{ event: 'retraction', from: ME, to: BOB, id: second.id }]);
    // The retracted message is gone from "last": the next /retract takes the one before.
    await s.retractLast();
    expect(port.sent[1].extras?.retractId).toBe(first.id);
    expect(of('sent').map((e) => e.body)).toEqual(['first', 'secnd']); // no extra 'sent' lines
  });

  it('sends chat states once per change, shows incoming ones, and stops when /states off', async () => {
    s.typing(BOB, 'composing');
    s.typing(BOB, 'composing');
    s.typing(BOB, 'paused');
    await s.drain();
    expect(port.sent).toEqual([
      { kind: 'signal', to: BOB, extras: { chatState: 'composing' } },
      { kind: 'signal', to: BOB, extras: { chatState: 'paused' } },
    ]);
    port.sent = [];
    expect(s.chatStates(false)).toBe(false);
    s.typing(BOB, 'composing');
    await s.sendMessage(BOB, 'quiet');
    expect(port.sent.filter((x) => x.kind === 'signal')).toEqual([]);
    expect(port.sent[0].extras?.chatState).toBeUndefined();

    await incoming({ from: `${BOB}/phone`, extras: { chatState: 'composing' } });
    await incoming({ from: `${ME}/other`, to: `${BOB}/phone`, carbon: 'sent', extras: { chatState: 'composing' } });
    expect(of('chatstate')).toEqual([{ event: 'chatstate', from: `${BOB}/phone`, state: 'composing' }]);
  });
});

describe('commands', () => {
  it('/correct, /retract and /states call the core', async () => {
    const core = new FakeCore();
    const out: XchatEvent[] = [];
    const engine = new CommandEngine({ core, emit: (e) => out.push(e) });
    await engine.execute('/correct fixed  text');
    await engine.execute('/retract');
    await engine.execute('/states off');
    await engine.execute('/states maybe');
    expect(core.calls).toEqual([['correctLast', 'fixed  text', undefined], ['retractLast', undefined], ['chatStates', false]]);
    expect(out.map((e) => e.event)).toEqual(['info', 'error']);
  });
});
