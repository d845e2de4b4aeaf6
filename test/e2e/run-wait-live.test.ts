// Live: a script knows when catch-up is done. Messages arrive while alice is away; her next
// `xchat run` script connects and then asks something right away: the answer comes after every
// message that waited in the archive, so the script acts on what arrived meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { startXchat, type XchatProc } from '../helpers/xchat.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody and python3-omemo (scripts/install-test-deps)');
const N = 30;

describe.skipIf(!canRun)('xchat run waits for the catch-up after /connect (live)', () => {
  let lab: Lab;
  let dir: string;
  let bob: Peer | undefined;
  const procs: XchatProc[] = [];

  beforeAll(async () => {
    lab = await startProsody({ name: 'run-wait' });
    await lab.register('alice', 'alice-pw');
    await lab.register('bob', 'bob-pw');
    dir = await mkdtemp(join(tmpdir(), 'xchat-run-wait-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill9().catch(() => undefined)));
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the line after /connect runs once the archived messages are shown', async () => {
    bob = await startPeer({ jid: 'bob@localhost', password: 'bob-pw', lab, stateDir: join(dir, 'bob'), autoSubscribe: true });
    const first = startXchat({ profile: join(dir, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    procs.push(first);
    first.send(`/connect alice@localhost server ${lab.host} port ${lab.c2sPort}`);
    await first.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    expect(await first.end()).toBe(0);
    for (let i = 0; i < N; i++) await bob.request({ cmd: 'send', to: 'alice@localhost', body: `away-${i}` }, 30_000);

    // The account was saved by the first /connect: a bare /connect finds it.
    const script = startXchat({ profile: join(dir, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    procs.push(script);
    script.send('/connect');
    script.send('/account list');
    const listed = await script.waitFor((e) => e.event === 'info' && /alice@localhost/.test(e.message) && /server/.test(e.message), 60_000, 'account list');
    const shown = script.events.filter((e) => e.event === 'message' && /^away-\d+$/.test(e.body));
    expect(shown.map((e) => e.body)).toEqual(Array.from({ length: N }, (_, i) => `away-${i}`));
    const lastShown = script.events.indexOf(shown[shown.length - 1]);
    expect(script.events.indexOf(listed)).toBeGreaterThan(lastShown);
    expect(await script.end()).toBe(0);
  }, 240_000);

  it('keeps the salted SCRAM keys (never the password) in the profile, 0600, and the next login uses them', async () => {
    const file = join(dir, 'alice', 'scram-keys.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/"alice@localhost sha1 \d+ [^"]+":\{"clientKey":"[A-Za-z0-9+/=]{28}","serverKey"/);
    expect(text).not.toContain('alice-pw');
    const x = startXchat({ profile: join(dir, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    procs.push(x);
    x.send('/connect');
    x.send('/privacy');
    const report = await x.waitFor((e) => e.event === 'info' && /^privacy of alice@localhost/.test(e.message), 60_000, '/privacy');
    expect(report.message).toMatch(/login: SCRAM-SHA-1, not bound to the TLS channel .*; salted keys from the profile \(never the password\)/);
    expect(report.message).toMatch(/route: \S+:\d+, a direct connection: no proxy/);
    expect(await x.end()).toBe(0);
  }, 120_000);
});
