// A room's archive (XEP-0313 to the room JID): results are believed only from that room and for our
// query id; the archived groupchat messages come back with their room archive ids.
import { describe, expect, it } from 'vitest';
import { xml, type Element } from '@xmpp/client';
import { Mam, NS_MAM } from '../../src/xmpp/mam.js';
import type { XmppSession } from '../../src/xmpp/connection.js';

const ROOM = 'team@muc.example.org';
const OWN = 'alice@example.org';

function result(from: string, queryid: string, id: string, inner: Element): Element {
  return xml(
    'message',
    { from, to: `${OWN}/x` },
    xml('result', { xmlns: NS_MAM, queryid, id }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2024-01-01T00:00:00Z' }), inner)),
  );
}

const groupchat = (from: string, body: string) => xml('message', { from, type: 'groupchat', id: `id-${body}` }, xml('body', {}, body));

describe('Mam.queryRoom', () => {
  it('asks the room, takes its results, and drops results from anyone else or for other queries', async () => {
    const errors: { condition?: string }[] = [];
    let sentTo: string | undefined;
    let mam!: Mam;
    const session = {
      bareJid: OWN,
      isOwnAccount: (f: string | undefined) => !f || f.split('/')[0] === OWN,
      emitError: (_m: string, o: { condition?: string }) => errors.push(o),
      iq: async (_type: string, q: Element, to?: string) => {
        sentTo = to;
        const qid = q.attrs.queryid as string;
        mam.handleMessage(result(ROOM, qid, 'a1', groupchat(`${ROOM}/bob`, 'from the room')));
        mam.handleMessage(result(OWN, qid, 'a2', groupchat(`${ROOM}/bob`, 'from our own server')));
        mam.handleMessage(result('mallory@example.org', qid, 'a3', groupchat(`${ROOM}/bob`, 'spoofed')));
        mam.handleMessage(result(ROOM, 'not-ours', 'a4', groupchat(`${ROOM}/bob`, 'other query')));
        mam.handleMessage(result(ROOM, qid, 'a5', groupchat(`other@muc.example.org/bob`, 'another room inside')));
        return xml('iq', {}, xml('fin', { xmlns: NS_MAM, complete: 'true' }, xml('set', { xmlns: 'http://jabber.org/protocol/rsm' }, xml('last', {}, 'a5'))));
      },
    };
    mam = new Mam(session as unknown as XmppSession);
    const page = await mam.queryRoom(ROOM, { after: 'a0' });
    expect(sentTo).toBe(ROOM);
    expect(page.messages).toMatchObject([{ room: ROOM, nick: 'bob', body: 'from the room', archiveId: 'a1', stanzaId: 'a1', stamp: '2024-01-01T00:00:00Z' }]);
    expect(page.messages).toHaveLength(1);
    expect(page).toMatchObject({ complete: true, last: 'a5' });
    // A room's result for a query we did not send to it is as foreign as any other.
    expect(errors.map((e) => e.condition)).toEqual(['spoofed-mam-result', 'spoofed-mam-result', 'spoofed-mam-result']);
  });
});
