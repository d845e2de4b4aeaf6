// Pure stanza logic: carbon ownership, message parsing, outgoing message layout, caps hash.
import { beforeAll, describe, it, expect } from 'vitest';
import {
  unwrapCarbon,
  parseMessage,
  buildEncryptedMessage,
  buildKeyTransportMessage,
  buildChatMessage,
  capsVer,
  loadCapsHash,
  parseXml,
  OMEMO_FALLBACK_BODY,
} from '../../src/xmpp/index.js';

const NS = 'eu.siacs.conversations.axolotl';
const ME = 'me@example.org';
const carbon = (outerFrom: string, kind = 'received') =>
  parseXml(
    `<message from='${outerFrom}' to='${ME}/a' type='chat'><${kind} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
      `<delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:00:00Z'/>` +
      `<message from='friend@example.org/x' to='${ME}/b' type='chat'><body>hi</body></message></forwarded></${kind}></message>`,
  );

describe('unwrapCarbon', () => {
  it('accepts carbons from our own bare JID', () => {
    const r = unwrapCarbon(carbon(ME), ME);
    expect(r.kind).toBe('carbon');
    if (r.kind !== 'carbon') return;
    expect(r.carbon).toBe('received');
    expect(r.stamp).toBe('2024-01-01T00:00:00Z');
    expect(r.message.attrs.from).toBe('friend@example.org/x');
    expect(unwrapCarbon(carbon(ME, 'sent'), ME)).toMatchObject({ kind: 'carbon', carbon: 'sent' });
  });

  it('rejects carbons from anyone else, naming the sender', () => {
    expect(unwrapCarbon(carbon('mallory@evil.example/x'), ME)).toMatchObject({ kind: 'forged', from: 'mallory@evil.example/x' });
    expect(unwrapCarbon(carbon(`${ME}/other`), ME)).toMatchObject({ kind: 'forged' });
    expect(unwrapCarbon(carbon('example.org'), ME)).toMatchObject({ kind: 'forged' });
    const noFrom = parseXml(`<message><sent xmlns='urn:xmpp:carbons:2'/></message>`);
    expect(unwrapCarbon(noFrom, ME)).toMatchObject({ kind: 'forged', from: '(none)' });
  });

  it('leaves ordinary messages alone', () => {
    expect(unwrapCarbon(parseXml(`<message from='a@b/c'><body>x</body></message>`), ME)).toEqual({ kind: 'none' });
  });
});

describe('parseMessage', () => {
  it('never surfaces the fallback body of an encrypted message', () => {
    const el = buildEncryptedMessage('friend@example.org', { sid: 3, keys: [{ rid: 4, prekey: false, data: new Uint8Array([1]) }], iv: new Uint8Array([2]), payload: new Uint8Array([3]) });
    el.attrs.from = 'friend@example.org/x';
    const m = parseMessage(parseXml(el.toString()), ME)!;
    expect(m.body).toBeUndefined();
    expect(m.encrypted).toEqual({ sid: 3, keys: [{ rid: 4, prekey: false, data: new Uint8Array([1]) }], iv: new Uint8Array([2]), payload: new Uint8Array([3]) });
  });

  it('reports a broken <encrypted> as an error, still without the body', () => {
    const m = parseMessage(parseXml(`<message from='f@x/y' type='chat'><encrypted xmlns='${NS}'><header sid='1'/></encrypted><body>fallback</body></message>`), ME)!;
    expect(m.body).toBeUndefined();
    expect(m.encrypted).toMatchObject({ error: expect.stringMatching(/missing <iv>/) });
  });

  it('takes stamps and trusts only stanza-ids from our own server', () => {
    const el = parseXml(
      `<message from='f@x/y' to='${ME}' type='chat' id='m1'><body>yo</body><delay xmlns='urn:xmpp:delay' stamp='2020-02-02T02:02:02Z'/>` +
        `<stanza-id xmlns='urn:xmpp:sid:0' by='f@x' id='fake'/><stanza-id xmlns='urn:xmpp:sid:0' by='${ME}' id='real'/></message>`,
    );
    expect(parseMessage(el, ME)).toEqual({ from: 'f@x/y', to: ME, type: 'chat', id: 'm1', body: 'yo', stamp: '2020-02-02T02:02:02Z', stanzaId: 'real' });
    const onlyFake = parseXml(`<message from='f@x/y' type='chat'><body>yo</body><stanza-id xmlns='urn:xmpp:sid:0' by='f@x' id='fake'/></message>`);
    expect(parseMessage(onlyFake, ME)!.stanzaId).toBeUndefined();
  });

  it('ignores stanzas with nothing to show (chat states and receipts are extras: message-extras.test.ts)', () => {
    expect(parseMessage(parseXml(`<message from='f@x/y'><thread>t</thread></message>`), ME)).toBeUndefined();
  });
});

describe('outgoing messages', () => {
  const enc = { sid: 1, keys: [{ rid: 2, prekey: true, data: new Uint8Array([1]) }], iv: new Uint8Array([2]), payload: new Uint8Array([3]) };
  it('encrypted: <encrypted>, EME, store hint and the fallback body', () => {
    const el = buildEncryptedMessage('f@x', enc, { id: 'i1' });
    expect(el.attrs).toMatchObject({ to: 'f@x', type: 'chat', id: 'i1' });
    expect(el.getChild('encrypted', NS)).toBeTruthy();
    expect(el.getChild('encryption', 'urn:xmpp:eme:0')?.attrs).toMatchObject({ namespace: NS, name: 'OMEMO' });
    expect(el.getChild('store', 'urn:xmpp:hints')).toBeTruthy();
    expect(el.getChildText('body')).toBe(OMEMO_FALLBACK_BODY);
  });
  it('key transport: header only, store hint, no body, no payload', () => {
    const el = buildKeyTransportMessage('f@x', enc);
    expect(el.attrs.type).toBe('chat');
    expect(el.getChild('encrypted', NS)?.getChild('payload')).toBeUndefined();
    expect(el.getChild('encrypted', NS)?.getChild('header')?.getChild('iv')).toBeTruthy();
    expect(el.getChild('body')).toBeUndefined();
    expect(el.getChild('encryption', 'urn:xmpp:eme:0')).toBeUndefined();
    expect(el.getChild('store', 'urn:xmpp:hints')).toBeTruthy();
  });
  it('plain chat', () => {
    expect(buildChatMessage('f@x', 'a < b', { id: 'z' }).toString()).toBe('<message to="f@x" type="chat" id="z"><body>a &lt; b</body></message>');
  });
});

describe('capsVer', () => {
  beforeAll(() => loadCapsHash());
  it('matches the XEP-0115 §5.2 example', () => {
    const ver = capsVer({ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }, [
      'http://jabber.org/protocol/muc',
      'http://jabber.org/protocol/disco#info',
      'http://jabber.org/protocol/caps',
      'http://jabber.org/protocol/disco#items',
    ]);
    expect(ver).toBe('QgayPKawpkPSDYmwT/WM94uAlu0=');
  });
});
