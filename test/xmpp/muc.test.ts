// Pure stanza parsing and building for group chat (XEP-0045) and bookmarks (XEP-0402).
import { describe, expect, it } from 'vitest';
import { parseXml } from '../../src/xmpp/omemo-xml.js';
import { buildGroupchat, parseForm, parseInvite, parseMucMessage, parseMucPresence, submitForm } from '../../src/xmpp/muc.js';
import { bookmarkFromItem, bookmarkToXml } from '../../src/xmpp/bookmarks.js';

const U = 'http://jabber.org/protocol/muc#user';

describe('parseMucPresence', () => {
  it('reads nick, real JID, affiliation, role and the self code', () => {
    const p = parseMucPresence(
      parseXml(`<presence from='Room@muc.x/bob' to='a@x/r'><x xmlns='${U}'><item jid='bob@x/res' affiliation='member' role='participant'/><status code='110'/><status code='201'/></x></presence>`),
    );
    expect(p).toEqual({ room: 'room@muc.x', nick: 'bob', type: 'available', jid: 'bob@x/res', affiliation: 'member', role: 'participant', codes: ['110', '201'], self: true });
  });

  it('reads a nick change (303) and a kick reason', () => {
    const p = parseMucPresence(parseXml(`<presence type='unavailable' from='r@m/old'><x xmlns='${U}'><item nick='new'/><status code='303'/></x></presence>`));
    expect(p).toMatchObject({ type: 'unavailable', nick: 'old', newNick: 'new', self: false });
    const k = parseMucPresence(parseXml(`<presence type='unavailable' from='r@m/x'><x xmlns='${U}'><item role='none'><reason>spam</reason></item><status code='307'/></x></presence>`));
    expect(k).toMatchObject({ codes: ['307'], reason: 'spam' });
  });

  it('ignores ordinary presence, and error presence from rooms we are not joining', () => {
    expect(parseMucPresence(parseXml(`<presence from='bob@x/r'/>`))).toBeUndefined();
    const err = `<presence type='error' from='r@m/me'><error type='auth'><registration-required xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`;
    expect(parseMucPresence(parseXml(err))).toBeUndefined();
    expect(parseMucPresence(parseXml(err), (r) => r === 'r@m')).toMatchObject({ type: 'error', room: 'r@m', error: { condition: 'registration-required' } });
  });
});

describe('parseMucMessage', () => {
  it('reads body, nick, origin-id, the room\'s stanza-id only, delay and real JID', () => {
    const m = parseMucMessage(
      parseXml(
        `<message type='groupchat' from='r@m/bob' id='i1'><body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/>` +
          `<stanza-id xmlns='urn:xmpp:sid:0' by='evil@x' id='forged'/><stanza-id xmlns='urn:xmpp:sid:0' by='r@m' id='s1'/>` +
          `<delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:00:00Z'/><x xmlns='${U}'><item jid='bob@x'/></x></message>`,
      ),
    );
    expect(m).toEqual({ room: 'r@m', nick: 'bob', id: 'i1', originId: 'o1', stanzaId: 's1', stamp: '2024-01-01T00:00:00Z', realJid: 'bob@x', body: 'hi', codes: [] });
  });

  it('a forged muc#user <x> beside the room\'s own makes a conflict, not a real JID', () => {
    // As Prosody archives it in a non-anonymous room: the sender's <x> first, the room's appended.
    const m = parseMucMessage(
      parseXml(
        `<message type='groupchat' from='r@m/bob'><body>hi</body><x xmlns='${U}'><item jid='carol@x/c'/></x>` +
          `<x xmlns='${U}'><item jid='bob@x' affiliation='member' role='participant'/></x></message>`,
      ),
    );
    expect(m?.realJid).toBeUndefined();
    expect(m?.realJidConflict).toBe(true);
    const agree = parseMucMessage(
      parseXml(`<message type='groupchat' from='r@m/bob'><body>hi</body><x xmlns='${U}'><item jid='Bob@x/r'/></x><x xmlns='${U}'><item jid='bob@x'/></x></message>`),
    );
    expect(agree).toMatchObject({ realJid: 'bob@x' });
    expect(agree?.realJidConflict).toBeUndefined();
  });

  it('takes one occupant-id, from messages and presence; two (one forged) count as none', () => {
    const O = 'urn:xmpp:occupant-id:0';
    const m = parseMucMessage(parseXml(`<message type='groupchat' from='r@m/bob'><body>hi</body><occupant-id xmlns='${O}' id='oid1'/></message>`));
    expect(m?.occupantId).toBe('oid1');
    const two = parseMucMessage(parseXml(`<message type='groupchat' from='r@m/bob'><body>hi</body><occupant-id xmlns='${O}' id='f'/><occupant-id xmlns='${O}' id='oid1'/></message>`));
    expect(two?.occupantId).toBeUndefined();
    const p = parseMucPresence(parseXml(`<presence from='r@m/bob'><x xmlns='${U}'><item jid='bob@x/r' affiliation='member' role='participant'/></x><occupant-id xmlns='${O}' id='oid1'/></presence>`));
    expect(p?.occupantId).toBe('oid1');
  });

  it('reads a subject change, status codes from the room, and never the fallback body of OMEMO', () => {
    expect(parseMucMessage(parseXml(`<message type='groupchat' from='r@m/bob'><subject>Plans</subject></message>`))).toMatchObject({ subject: 'Plans', nick: 'bob' });
    expect(parseMucMessage(parseXml(`<message type='groupchat' from='r@m'><x xmlns='${U}'><status code='104'/></x></message>`))).toEqual({ room: 'r@m', codes: ['104'] });
    const enc = parseMucMessage(
      parseXml(
        `<message type='groupchat' from='r@m/bob'><body>fallback</body><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='7'><key rid='9'>AAAA</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>AAAA</payload></encrypted></message>`,
      ),
    )!;
    expect(enc.body).toBeUndefined();
    expect(enc.encrypted).toMatchObject({ sid: 7 });
    const bad = parseMucMessage(parseXml(`<message type='groupchat' from='r@m/bob'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>`))!;
    expect(bad.encrypted).toHaveProperty('error');
  });

  it('ignores non-groupchat and empty messages', () => {
    expect(parseMucMessage(parseXml(`<message type='chat' from='r@m/bob'><body>x</body></message>`))).toBeUndefined();
    expect(parseMucMessage(parseXml(`<message type='groupchat' from='r@m/bob'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`))).toBeUndefined();
  });
});

describe('invites', () => {
  it('reads mediated and direct invitations', () => {
    expect(parseInvite(parseXml(`<message from='r@m'><x xmlns='${U}'><invite from='bob@x/r'><reason>come</reason></invite><password>pw</password></x></message>`))).toEqual({
      room: 'r@m',
      from: 'bob@x/r',
      reason: 'come',
      password: 'pw',
    });
    expect(parseInvite(parseXml(`<message from='bob@x/r'><x xmlns='jabber:x:conference' jid='R@m' reason='hi'/></message>`))).toEqual({ room: 'r@m', from: 'bob@x/r', reason: 'hi' });
    expect(parseInvite(parseXml(`<message from='bob@x/r'><body>no</body></message>`))).toBeUndefined();
  });
});

describe('forms and building', () => {
  it('submits the whole current form with changes, dropping fixed fields', () => {
    const form = parseForm(
      parseXml(
        `<x xmlns='jabber:x:data' type='form'><field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>` +
          `<field type='fixed'><value>title</value></field><field type='boolean' var='muc#roomconfig_membersonly'><value>0</value></field>` +
          `<field type='list-single' var='muc#roomconfig_whois'><value>moderators</value></field></x>`,
      ),
    );
    const sub = submitForm(form, { 'muc#roomconfig_membersonly': '1' });
    expect(sub.attrs.type).toBe('submit');
    const fields = sub.getChildren('field').map((f) => [f.attrs.var, f.getChildText('value')]);
    expect(fields).toEqual([
      ['FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig'],
      ['muc#roomconfig_membersonly', '1'],
      ['muc#roomconfig_whois', 'moderators'],
    ]);
  });

  it('builds groupchat messages with an origin-id equal to the id', () => {
    const el = buildGroupchat('r@m', { id: 'abc', body: 'hello' });
    expect(el.attrs).toMatchObject({ to: 'r@m', type: 'groupchat', id: 'abc' });
    expect(el.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id).toBe('abc');
    expect(el.getChildText('body')).toBe('hello');
  });

  it('round-trips bookmarks and ignores junk items', () => {
    const b = { room: 'team@muc.x', autojoin: true, nick: 'al', name: 'Team', password: 'pw' };
    const item = parseXml(`<item id='team@muc.x'>${bookmarkToXml(b).toString()}</item>`);
    expect(bookmarkFromItem(item)).toEqual(b);
    expect(bookmarkFromItem(parseXml(`<item id='team@muc.x'><conference xmlns='urn:xmpp:bookmarks:1'/></item>`))).toEqual({ room: 'team@muc.x', autojoin: false });
    expect(bookmarkFromItem(parseXml(`<item id='nojid'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/></item>`))).toBeUndefined();
    expect(bookmarkFromItem(parseXml(`<item id='a@b'><other/></item>`))).toBeUndefined();
  });
});
