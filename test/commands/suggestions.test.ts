// Every command xchat suggests in its messages is one the command table accepts as written: the
// texts are taken from the code that writes them, each suggested command line is cut out and run
// through the engine, and none may be refused as a usage error (issue 10: "/omemo end JID").
import { describe, expect, it } from 'vitest';
import { CommandEngine } from '../../src/commands/engine.js';
import type { CoreApi, XchatEvent } from '../../src/core/api.js';
import { AccountSession } from '../../src/core/account-session.js';
import { unreachableText } from '../../src/core/trust-ux.js';
import { explainFetchError } from '../../src/core/session/device-lists.js';
import { formatEvent } from '../../src/ui/event-text.js';
import { FakeCore } from './fake-core.js';
import { FakePort, FakeServer, fakeDeps } from '../helpers/fake-xmpp.js';

const COMMANDS = ['omemo', 'sub', 'join', 'room', 'connect', 'account', 'msg', 'tls', 'search', 'theme'];
const CONNECTORS = new Set(['and', 'or', 'then', 'to', 'first', 'now', 'again', 'with']);

/** The command lines a text suggests: "/word" and its arguments up to punctuation or prose. */
function suggested(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s(:'"`])\/([a-z_]+)\b/g)) {
    if (!COMMANDS.includes(m[1])) continue;
    const rest = text.slice(m.index + m[0].length).split(/\s+/).filter(Boolean);
    const words = [`/${m[1]}`];
    for (const w of rest) {
      if (CONNECTORS.has(w)) break;
      const bare = w.replace(/[.,;:)'"`]+$/, '');
      if (!/^[A-Za-z0-9@._\-/]+$/.test(bare) || bare === '') break;
      words.push(bare);
      if (bare !== w) break;
    }
    out.push(words.join(' '));
  }
  return out;
}

describe('suggested commands are accepted', () => {
  it('the texts xchat writes: trust, hidden keys, forbidden device lists, invitations, subscriptions', async () => {
    const server = new FakeServer();
    const forbidden = Object.assign(new Error('forbidden'), { condition: 'forbidden' });
    server.deviceListErrors.set('carol@localhost', forbidden);
    const s = new AccountSession(fakeDeps(() => new FakePort(server)));
    await s.connect({ jid: 'me@localhost' });
    const refusal = await s.sendMessage('carol@localhost', 'hi').then(
      () => '',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    expect(refusal).toContain('/omemo end carol@localhost');
    const texts = [
      refusal,
      unreachableText('bob@localhost', [{ jid: 'bob@localhost', deviceId: 7, status: 'untrusted', fingerprint: 'ab'.repeat(32) }, { jid: 'me@localhost', deviceId: 8, status: 'untrusted' }], 'me@localhost'),
      explainFetchError('carol@localhost', forbidden).message,
      formatEvent({ event: 'invite', room: 'team@muc.localhost', from: 'bob@localhost/x', password: 'secret' }),
      formatEvent({ event: 'subscription', from: 'bob@localhost', type: 'subscribe' }),
    ];
    const lines = texts.flatMap(suggested);
    expect(lines).toEqual(
      expect.arrayContaining([
        '/omemo end carol@localhost',
        `/omemo trust bob@localhost ${'ab'.repeat(32)}`,
        '/omemo devices me@localhost',
        '/sub request carol@localhost',
        '/sub allow carol@localhost',
        '/join team@muc.localhost password secret',
        '/sub allow bob@localhost',
        '/sub deny bob@localhost',
      ]),
    );
    const errors: XchatEvent[] = [];
    const engine = new CommandEngine({ core: new FakeCore() as unknown as CoreApi, emit: (e) => errors.push(e) });
    for (const line of lines) {
      const r = await engine.execute(line);
      expect(r.usage, `${line}: ${JSON.stringify(errors.at(-1))}`).not.toBe(true);
    }
  });

  it('the cutter stops at prose and punctuation', () => {
    expect(suggested('To send unencrypted anyway: /omemo end bob@x.')).toEqual(['/omemo end bob@x']);
    expect(suggested('(answer with /sub allow a@b or /sub deny a@b)')).toEqual(['/sub allow a@b', '/sub deny a@b']);
  });
});
