// XEP-0363 stanza logic: service discovery result, slot parsing (header allow-list, https only),
// and the plaintext OOB message.
import { describe, expect, it } from 'vitest';
import { parseXml } from '../../src/xmpp/omemo-xml.js';
import { buildOobMessage, buildSlotRequest, parseSlot, parseUploadInfo } from '../../src/xmpp/upload.js';

const info = (features: string[], max?: string, formType = 'urn:xmpp:http:upload:0') =>
  parseXml(
    `<query xmlns='http://jabber.org/protocol/disco#info'><identity category='store' type='file'/>${features
      .map((f) => `<feature var='${f}'/>`)
      .join('')}${
      max === undefined
        ? ''
        : `<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>${formType}</value></field><field var='max-file-size'><value>${max}</value></field></x>`
    }</query>`,
  );

describe('upload service discovery', () => {
  it('reads the feature and max-file-size', () => {
    expect(parseUploadInfo('up.example', info(['urn:xmpp:http:upload:0'], '1048576'))).toEqual({ jid: 'up.example', maxFileSize: 1048576 });
    expect(parseUploadInfo('up.example', info(['urn:xmpp:http:upload:0']))).toEqual({ jid: 'up.example' });
  });
  it('ignores services without the feature, other forms and junk sizes', () => {
    expect(parseUploadInfo('x', info(['urn:xmpp:http:upload'], '5'))).toBeUndefined();
    expect(parseUploadInfo('x', undefined)).toBeUndefined();
    expect(parseUploadInfo('x', info(['urn:xmpp:http:upload:0'], '5', 'urn:other'))).toEqual({ jid: 'x' });
    expect(parseUploadInfo('x', info(['urn:xmpp:http:upload:0'], '-5'))).toEqual({ jid: 'x' });
  });
});

describe('upload slots', () => {
  const slot = (put: string, get: string, headers: string) =>
    parseXml(
      `<iq type='result'><slot xmlns='urn:xmpp:http:upload:0'><put url='${put}'>${headers}</put><get url='${get}'/></slot></iq>`,
    );

  it('keeps only Authorization, Cookie and Expires, without newlines', () => {
    const s = parseSlot(
      slot(
        'https://up.example/put/1',
        'https://up.example/get/1',
        `<header name='Authorization'>Bearer a&#10;b&#13;c</header><header name='cookie'>k=v</header><header name='Expires'>Tue</header><header name='Host'>evil</header><header name='X-Other'>x</header>`,
      ),
    );
    expect(s).toEqual({
      putUrl: 'https://up.example/put/1',
      getUrl: 'https://up.example/get/1',
      putHeaders: { Authorization: 'Bearer abc', cookie: 'k=v', Expires: 'Tue' },
    });
  });

  it('refuses non-https or missing URLs', () => {
    expect(() => parseSlot(slot('http://up.example/p', 'https://up.example/g', ''))).toThrow(/non-https/);
    expect(() => parseSlot(slot('https://up.example/p', 'http://up.example/g', ''))).toThrow(/non-https/);
    expect(() => parseSlot(parseXml(`<iq type='result'/>`))).toThrow(/without put\/get/);
    expect(() => parseSlot(slot('::', 'https://up.example/g', ''))).toThrow(/invalid URL/);
  });

  it('builds the request and the OOB message', () => {
    expect(buildSlotRequest('a b.txt', 42, 'text/plain').toString()).toBe(
      `<request xmlns="urn:xmpp:http:upload:0" filename="a b.txt" size="42" content-type="text/plain"/>`,
    );
    const m = buildOobMessage('bob@example.org', 'https://up.example/g/1', 'id1');
    expect(m.getChildText('body')).toBe('https://up.example/g/1');
    expect(m.getChild('x', 'jabber:x:oob')?.getChildText('url')).toBe('https://up.example/g/1');
    expect(m.attrs).toMatchObject({ to: 'bob@example.org', type: 'chat', id: 'id1' });
  });
});
