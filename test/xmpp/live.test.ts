// Live tests against a private Prosody (test/lab/prosody.ts). The lab CA is trusted through the
// `ca` connect option (added to Node's roots); one test also proves the NODE_EXTRA_CA_CERTS path
// in a child process, since that variable is only read at process start.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { xml } from '@xmpp/client';
import { startProsody, type Lab } from '../lab/prosody.js';
import {
  XmppSession,
  XmppError,
  CertificateError,
  type XmppEvents,
  type IncomingMessage,
  type XmlBundle,
  type EncryptedElement,
  buildEncryptedMessage,
} from '../../src/xmpp/index.js';

const execFileP = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

let lab: Lab;
let ca: string;
const sessions: XmppSession[] = [];

beforeAll(async () => {
  lab = await startProsody({ name: 'xmpp-live' });
  ca = readFileSync(lab.caFile, 'utf8');
  for (const u of ['alice', 'bob', 'carol', 'dave', 'mallory', 'erin']) await lab.register(u, `pw-${u}`);
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.disconnect().catch(() => undefined)));
  await lab?.stop();
});

async function login(user: string, resource?: string): Promise<XmppSession> {
  const s = new XmppSession();
  s.on('error', () => undefined); // tests that care listen themselves
  await s.connect({ jid: `${user}@localhost`, password: `pw-${user}`, server: lab.host, port: lab.c2sPort, ca, resource });
  sessions.push(s);
  return s;
}

/** Resolves with the first event matching `pred`; rejects after `ms` (a failure, not a timing claim). */
function waitFor<K extends keyof XmppEvents>(
  s: XmppSession,
  ev: K,
  pred: (...a: XmppEvents[K]) => boolean = () => true,
  ms = 10_000,
): Promise<XmppEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off(ev, on as never);
      reject(new Error(`timed out waiting for ${String(ev)}`));
    }, ms);
    const on = (...a: XmppEvents[K]) => {
      if (!pred(...a)) return;
      clearTimeout(timer);
      s.off(ev, on as never);
      resolve(a[0]);
    };
    s.on(ev, on as never);
  });
}

function collect<K extends keyof XmppEvents>(s: XmppSession, ev: K): XmppEvents[K][0][] {
  const out: XmppEvents[K][0][] = [];
  s.on(ev, ((...a: XmppEvents[K]) => out.push(a[0])) as never);
  return out;
}

const key33 = (fill: number) => {
  const k = new Uint8Array(33).fill(fill);
  k[0] = 0x05;
  return k;
};

function sampleBundle(deviceId: number): XmlBundle {
  return {
    deviceId,
    identityKey33: key33(1),
    signedPreKeyId: 7,
    signedPreKey33: key33(2),
    signedPreKeySignature: new Uint8Array(64).fill(3),
    preKeys: [
      { id: 1, key33: key33(4) },
      { id: 2, key33: key33(5) },
    ],
  };
}

async function befriend(a: XmppSession, b: XmppSession): Promise<void> {
  // Mutual presence subscription, each side approving the other's request explicitly.
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    const req = waitFor(y, 'subscription-request', (r) => r.from === x.bareJid);
    await x.presence.subscribe(y.bareJid);
    await req;
    const ok = waitFor(x, 'subscription', (u) => u.from === y.bareJid && u.type === 'subscribed');
    await y.presence.allow(x.bareJid);
    await ok;
  }
}

describe('XmppSession against Prosody', () => {
  it('logs in with SCRAM over STARTTLS and exchanges plain messages; carbons reach the second resource', async () => {
    const a1 = await login('alice', 'one');
    const a2 = await login('alice', 'two');
    const bob = await login('bob');
    expect(a1.jid).toBe('alice@localhost/one');
    expect(a1.client?.isSecure()).toBe(true);
    expect(a1.carbons.enabled).toBe(true);

    // bob → alice/one: alice/one gets it, alice/two gets a 'received' carbon.
    const atOne = waitFor(a1, 'message', (m) => m.body === 'hello alice');
    const atTwo = waitFor(a2, 'message', (m) => m.carbon === 'received');
    await bob.messages.sendChat('alice@localhost/one', 'hello alice');
    const m1 = await atOne;
    expect(m1).toMatchObject({ from: bob.jid, to: 'alice@localhost/one', type: 'chat', body: 'hello alice' });
    expect(m1.carbon).toBeUndefined();
    expect(m1.stanzaId).toBeTruthy(); // Prosody's mod_mam stamps archived messages
    const c1 = await atTwo;
    expect(c1).toMatchObject({ from: bob.jid, body: 'hello alice', carbon: 'received' });

    // alice/one → bob: alice/two gets a 'sent' carbon.
    const sent = waitFor(a2, 'message', (m) => m.carbon === 'sent');
    const atBob = waitFor(bob, 'message', (m) => m.body === 'hi bob');
    await a1.messages.sendChat('bob@localhost', 'hi bob');
    expect(await atBob).toMatchObject({ from: 'alice@localhost/one', body: 'hi bob' });
    expect(await sent).toMatchObject({ from: 'alice@localhost/one', to: 'bob@localhost', body: 'hi bob', carbon: 'sent' });
  });

  it('sends an OMEMO element that arrives parsed, with the fallback body hidden', async () => {
    const carol = await login('carol');
    const dave = await login('dave');
    const enc: EncryptedElement = {
      sid: 4242,
      keys: [{ rid: 99, prekey: true, data: new Uint8Array([1, 2, 3]) }],
      iv: new Uint8Array(12).fill(9),
      payload: new Uint8Array([7, 7, 7]),
    };
    const got = waitFor(dave, 'message', (m) => m.encrypted !== undefined);
    await carol.messages.sendEncrypted(dave.bareJid, enc);
    const m = (await got) as IncomingMessage;
    expect(m.body).toBeUndefined();
    expect(m.encrypted).toEqual(enc);

    const kt = waitFor(dave, 'message', (x) => x.encrypted !== undefined && !('error' in x.encrypted) && x.encrypted.sid === 5);
    await carol.messages.sendKeyTransport(dave.bareJid, { ...enc, sid: 5 });
    const k = await kt;
    expect(k.encrypted).toEqual({ sid: 5, keys: enc.keys, iv: enc.iv });
  });

  it('publishes device list and bundle (open), a stranger fetches them, contacts get +notify events', async () => {
    const alice = await login('alice', 'pep');
    const bob = await login('bob', 'pep');
    const erin = await login('erin'); // no subscription with alice at all
    await befriend(alice, bob);

    const bobSees = waitFor(bob, 'devicelist', (d) => d.jid === 'alice@localhost' && d.ids.includes(1111));
    const aliceSeesOwn = waitFor(alice, 'devicelist', (d) => d.jid === 'alice@localhost' && d.ids.includes(1111));
    await alice.pep.publishDeviceList([1111, 2222]);
    await alice.pep.publishBundle(sampleBundle(1111));
    expect(await bobSees).toEqual({ jid: 'alice@localhost', ids: [1111, 2222], dropped: [] });
    expect((await aliceSeesOwn).ids).toEqual([1111, 2222]);

    expect((await erin.pep.fetchDeviceList('alice@localhost')).ids).toEqual([1111, 2222]);
    expect(await erin.pep.fetchBundle('alice@localhost', 1111)).toEqual(sampleBundle(1111));
    // Own list via our own PEP service.
    expect((await alice.pep.fetchDeviceList(alice.bareJid)).ids).toEqual([1111, 2222]);
    // Nothing published (own service) → empty list; missing bundle → item-not-found.
    expect((await erin.pep.fetchDeviceList(erin.bareJid)).ids).toEqual([]);
    // A contact sees a missing node as item-not-found; Prosody answers strangers forbidden instead.
    await expect(bob.pep.fetchBundle('alice@localhost', 3333)).rejects.toMatchObject({ condition: 'item-not-found' });
    await expect(erin.pep.fetchBundle('alice@localhost', 3333)).rejects.toMatchObject({ condition: 'forbidden' });
  });

  it('reports forbidden for presence-only nodes, and republishing as open reconfigures the node', async () => {
    const carol = await login('carol', 'pep');
    const mallory = await login('mallory', 'pep');
    // Profanity-style node: access model presence.
    await carol.pep.publishDeviceList([31337], 'presence');
    const err = await mallory.pep.fetchDeviceList('carol@localhost').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XmppError);
    expect((err as XmppError).condition).toBe('forbidden');
    expect((err as XmppError).message).toMatch(/presence subscription/);
    // publish-options open on a presence node → precondition-not-met → configure → retry.
    await carol.pep.publishDeviceList([31337, 4]);
    expect((await mallory.pep.fetchDeviceList('carol@localhost')).ids).toEqual([31337, 4]);
  });

  it('rejects a forged carbon and a forged roster push, naming the sender', async () => {
    const alice = await login('alice', 'victim');
    const mallory = await login('mallory', 'forger');
    const errors = collect(alice, 'error');
    const messages = collect(alice, 'message');

    await mallory.send(
      xml(
        'message',
        { to: alice.jid, type: 'chat', id: 'forged1' },
        xml(
          'received',
          { xmlns: 'urn:xmpp:carbons:2' },
          xml(
            'forwarded',
            { xmlns: 'urn:xmpp:forward:0' },
            xml('message', { from: 'bob@localhost/x', to: alice.jid, type: 'chat' }, xml('body', {}, 'forged by mallory')),
          ),
        ),
      ),
    );
    await expect(mallory.iq('set', xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'evil@localhost', name: 'Evil' })), alice.jid))
      .rejects.toMatchObject({ condition: 'service-unavailable' });
    // A marker after the forgeries: the stream is ordered, so once it arrives the forgeries were handled.
    const marker = waitFor(alice, 'message', (m) => m.body === 'marker');
    await mallory.messages.sendChat(alice.jid, 'marker');
    await marker;

    expect(messages.map((m) => m.body)).toEqual(['marker']);
    const carbonErr = errors.find((e) => e.condition === 'forged-carbon');
    expect(carbonErr?.from).toBe(mallory.jid);
    expect(carbonErr?.message).toContain(mallory.jid);
    const rosterErr = errors.find((e) => e.condition === 'forged-roster-push');
    expect(rosterErr?.from).toBe(mallory.jid);
    expect(alice.roster.get('evil@localhost')).toBeUndefined();
  });

  it('fails on an untrusted certificate with its SHA-256 fingerprint in the message', async () => {
    const expected = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', lab.caFile], { encoding: 'utf8' })
      .trim()
      .replace(/^.*=/, '');
    const s = new XmppSession();
    const err = await s
      .connect({ jid: 'bob@localhost', password: 'pw-bob', server: lab.host, port: lab.c2sPort })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CertificateError);
    expect((err as CertificateError).fingerprint).toBe(expected);
    expect((err as Error).message).toContain(expected);
    expect(s.isOnline).toBe(false);
  });

  it('refuses wrong passwords and tls=disable against a server that requires encryption', async () => {
    const s = new XmppSession();
    await expect(s.connect({ jid: 'bob@localhost', password: 'wrong', server: lab.host, port: lab.c2sPort, ca })).rejects.toMatchObject({
      condition: 'auth',
    });
    const d = new XmppSession();
    await expect(
      d.connect({ jid: 'bob@localhost', password: 'pw-bob', server: lab.host, port: lab.c2sPort, ca, tls: 'disable', timeoutMs: 3000 }),
    ).rejects.toBeInstanceOf(XmppError);
    expect(d.isOnline).toBe(false);
  });

  it('trusts the lab CA through NODE_EXTRA_CA_CERTS in a fresh process', async () => {
    const script = `
      import { XmppSession } from './src/xmpp/index.ts';
      const s = new XmppSession();
      await s.connect({ jid: 'dave@localhost', password: 'pw-dave', server: '127.0.0.1', port: ${lab.c2sPort} });
      console.log('ONLINE ' + s.jid);
      await s.disconnect();`;
    const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: lab.caFile },
      timeout: 30_000,
    });
    expect(stdout).toMatch(/^ONLINE dave@localhost\//m);
  });
});
