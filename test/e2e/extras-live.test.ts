// Live: receipts (XEP-0184), chat states (XEP-0085), corrections (XEP-0308) and retractions
// (XEP-0424) between the real `xchat run --json` process and the python peer, in an OMEMO chat,
// through a Prosody of our own. Typing notifications come from an in-process core (the TUI's path:
// no command sends them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer, type PeerEvent } from '../helpers/peer.js';
import { startXchat, type XchatProc, type XEvent } from '../helpers/xchat.js';
import { AccountSession } from '../../src/core/account-session.js';
import { createXmppPort } from '../../src/core/xmpp-port.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import type { XchatEvent } from '../../src/core/api.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody and python3-omemo (scripts/install-test-deps)');

describe.skipIf(!canRun)('receipts, chat states, correction, retraction (live)', () => {
  let lab: Lab;
  let dirs: string;
  let aliceJid: string;
  let bobJid: string;
  let carolJid: string;
  let bob: Peer;
  let alice: XchatProc;
  let carol: AccountSession | undefined;

  const peerMsg = (body: string) => (e: PeerEvent) => e.event === 'message' && e.body === body;
  const sentBody = (body: string) => (e: XEvent) => e.event === 'sent' && e.body === body;

  beforeAll(async () => {
    lab = await startProsody({ name: 'extras' });
    aliceJid = await lab.register('alice', 'alice-pw');
    bobJid = await lab.register('bob', 'bob-pw');
    carolJid = await lab.register('carol', 'carol-pw');
    dirs = await mkdtemp(join(tmpdir(), 'xchat-extras-'));
    bob = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
    alice = startXchat({ profile: join(dirs, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    alice.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await alice.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
  });

  afterAll(async () => {
    await carol?.disconnect().catch(() => undefined);
    await alice?.end(5000).catch(() => undefined);
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('receipts round-trip both ways; messages carry <active/> unless /states off', async () => {
    alice.send(`/msg ${bobJid} receipt-me-1`);
    const sent = await alice.waitFor(sentBody('receipt-me-1'), 30_000, 'sent');
    expect(sent.encryption).toBe('omemo');
    const got = await bob.waitFor(peerMsg('receipt-me-1'));
    expect(got).toMatchObject({ encrypted: true, id: sent.id, origin_id: sent.id, receipt_request: true, chatstate: 'active' });
    // The peer (slixmpp xep_0184, auto_ack) answers; xchat reports it for our message id.
    const receipt = await alice.waitFor((e) => e.event === 'receipt' && e.id === sent.id, 20_000, 'receipt');
    expect(receipt.from.startsWith(`${bobJid}/`)).toBe(true);

    // The other way: the peer asks, xchat shows the message and answers with its id.
    const bobSent = await bob.request({ cmd: 'send', to: aliceJid, body: 'receipt-please-2', request_receipt: true });
    await alice.waitFor((e) => e.event === 'message' && e.body === 'receipt-please-2', 20_000, 'message from bob');
    const ack = await bob.waitFor((e) => e.event === 'receipt' && e.id === bobSent.id);
    expect(ack.from).toBe(aliceJid);

    alice.send('/states off');
    await alice.waitFor((e) => e.event === 'info' && e.message === 'chat states off', 10_000, 'states off');
    alice.send('no-states-3');
    const quiet = await bob.waitFor(peerMsg('no-states-3'));
    expect(quiet.chatstate).toBeUndefined();
    expect(quiet.receipt_request).toBe(true);
    alice.send('/states on');
    await alice.waitFor((e) => e.event === 'info' && e.message === 'chat states on', 10_000, 'states on');
    expect(alice.events.filter((e) => e.event === 'error')).toEqual([]);
  });

  it('/correct and /retract reach the peer encrypted; the peer\'s correction and retraction are applied', async () => {
    alice.send(`/msg ${bobJid} typo-mesage-4`);
    const orig = await alice.waitFor(sentBody('typo-mesage-4'), 30_000, 'sent');
    await bob.waitFor(peerMsg('typo-mesage-4'));
    alice.send('/correct typo-message-4-fixed');
    const corr = await alice.waitFor((e) => e.event === 'correction' && e.body === 'typo-message-4-fixed', 20_000, 'own correction');
    expect(corr).toMatchObject({ id: orig.id, encryption: 'omemo', to: bobJid });
    const atBob = await bob.waitFor(peerMsg('typo-message-4-fixed'));
    expect(atBob).toMatchObject({ encrypted: true, replace_id: orig.id, id: corr.new_id });

    alice.send('/retract');
    const ret = await alice.waitFor((e) => e.event === 'retraction', 20_000, 'own retraction');
    expect(ret).toMatchObject({ id: orig.id, to: bobJid });
    const retAtBob = await bob.waitFor((e) => e.event === 'message' && e.retract_id === orig.id);
    // Both XEP-0424 forms, and the fallback text travels encrypted like everything in this chat.
    expect(retAtBob).toMatchObject({ encrypted: true, retract0_id: orig.id });
    // No new 'sent' lines for the correction or the retraction.
    expect(alice.events.filter((e) => e.event === 'sent').map((e) => e.body)).not.toContain('typo-message-4-fixed');

    // The peer corrects its own message: xchat replaces the line instead of adding one.
    const b1 = await bob.request({ cmd: 'send', to: aliceJid, body: 'bob-tpyo-5' });
    await alice.waitFor((e) => e.event === 'message' && e.body === 'bob-tpyo-5', 20_000, 'bob message');
    await bob.request({ cmd: 'send', to: aliceJid, body: 'bob-typo-5-fixed', replace_id: b1.id });
    const applied = await alice.waitFor((e) => e.event === 'correction' && e.body === 'bob-typo-5-fixed', 20_000, 'bob correction');
    expect(applied).toMatchObject({ id: b1.id, encryption: 'omemo' });
    expect(applied.from.startsWith(`${bobJid}/`)).toBe(true);

    // The peer tries to rewrite and to retract alice's message: refused with errors.
    await bob.request({ cmd: 'send', to: aliceJid, body: 'rewritten-by-bob-6', replace_id: corr.new_id });
    await alice.waitFor((e) => e.event === 'error' && e.reason === 'spoofed-correction', 20_000, 'spoofed correction');
    await bob.request({ cmd: 'send', to: aliceJid, body: 'fallback', retract_id: orig.id });
    await alice.waitFor((e) => e.event === 'error' && e.reason === 'spoofed-retraction', 20_000, 'spoofed retraction');

    // The peer retracts its own message.
    await bob.request({ cmd: 'send', to: aliceJid, body: 'retract fallback', retract_id: b1.id });
    const bobRet = await alice.waitFor((e) => e.event === 'retraction' && e.id === b1.id, 20_000, 'bob retraction');
    expect(bobRet.from.startsWith(`${bobJid}/`)).toBe(true);
    const shown = alice.events.filter((e) => e.event === 'message').map((e) => e.body);
    expect(shown).not.toContain('bob-typo-5-fixed');
    expect(shown).not.toContain('rewritten-by-bob-6');
    expect(shown).not.toContain('retract fallback');
    expect(alice.events.filter((e) => e.event === 'correction').map((e) => e.body)).not.toContain('rewritten-by-bob-6');
    // Nothing of this reached the server's storage in clear.
    await new Promise((r) => setTimeout(r, 300));
    for (const f of ['typo-message-4-fixed', 'bob-typo-5-fixed']) {
      expect((await readAll(lab.dir)).includes(f), f).toBe(false);
    }
  });

  it('typing notifications from the core reach the peer; the peer\'s reach xchat', async () => {
    const events: XchatEvent[] = [];
    carol = new AccountSession({
      openOmemoStore: async () => new MemoryOmemoStore(),
      accounts: {
        list: async () => [],
        get: async (jid) => ({ jid }),
        add: async () => {},
        set: async () => {},
        remove: async () => {},
        getChatPolicy: async () => undefined,
        setChatPolicy: async () => {},
      },
      createXmpp: () => createXmppPort({ ca: readFileSync(lab.caFile, 'utf8') }),
      env: { XCHAT_PASSWORD: 'carol-pw' },
    });
    carol.on((e) => events.push(e));
    await carol.connect({ jid: carolJid, server: lab.host, port: lab.c2sPort, tls: 'force' });
    const since = bob.events.length;
    carol.typing(bobJid, 'composing');
    carol.typing(bobJid, 'composing'); // unchanged: not sent again
    carol.typing(bobJid, 'paused');
    await carol.drain();
    await bob.waitFor((e) => e.event === 'chatstate' && e.from === carolJid && e.state === 'paused', 20_000, since);
    const states = bob.events.slice(since).filter((e) => e.event === 'chatstate' && e.from === carolJid).map((e) => e.state);
    expect(states).toEqual(['composing', 'paused']);

    await bob.request({ cmd: 'chatstate', to: aliceJid, state: 'composing' });
    const cs = await alice.waitFor((e) => e.event === 'chatstate', 20_000, 'chatstate');
    expect(cs.state).toBe('composing');
    expect(cs.from.startsWith(`${bobJid}/`)).toBe(true);
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
  });
});

/** Everything under the server's directory, as one string (small test data). */
async function readAll(dir: string): Promise<string> {
  let out = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out += await readAll(p);
    else if (st.size < 5_000_000) out += (await readFile(p)).toString('latin1');
  }
  return out;
}
