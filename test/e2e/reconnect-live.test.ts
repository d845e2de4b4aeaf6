// Server restart mid-conversation (live, Prosody restarted on the same port): both xchat
// processes say they are reconnecting, come back by themselves, and the conversation goes on —
// a message sent after the restart arrives, once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startXchat, type XchatProc } from '../helpers/xchat.js';

const canRun = existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody (scripts/install-test-deps)');

describe.skipIf(!canRun)('reconnect after a server restart (live)', () => {
  let lab: Lab;
  let dir: string;
  const procs: XchatProc[] = [];

  beforeAll(async () => {
    lab = await startProsody({ name: 'reconnect' });
    await lab.register('alice', 'alice-pw');
    await lab.register('bob', 'bob-pw');
    dir = await mkdtemp(join(tmpdir(), 'xchat-reconnect-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill9().catch(() => undefined)));
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const countOnline = (p: XchatProc) => p.events.filter((e) => e.event === 'status' && e.status === 'online').length;
  async function waitOnlineTimes(p: XchatProc, n: number, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (countOnline(p) < n) {
      if (Date.now() > end) throw new Error(`not online ${n} times; events: ${JSON.stringify(p.events.slice(-10))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('both sides come back by themselves; the message after the restart arrives exactly once', async () => {
    const alice = startXchat({ profile: join(dir, 'alice'), password: 'alice-pw', caFile: lab.caFile });
    const bob = startXchat({ profile: join(dir, 'bob'), password: 'bob-pw', caFile: lab.caFile });
    procs.push(alice, bob);
    alice.send(`/connect alice@localhost server ${lab.host} port ${lab.c2sPort}`);
    bob.send(`/connect bob@localhost server ${lab.host} port ${lab.c2sPort}`);
    await waitOnlineTimes(alice, 1, 30_000);
    await waitOnlineTimes(bob, 1, 30_000);
    alice.send('/msg bob@localhost before the restart');
    await bob.waitFor((e) => e.event === 'message' && e.body === 'before the restart', 20_000, 'first message');

    // Frozen, then killed with what it had not read yet: the sockets break (ECONNRESET), no goodbye.
    lab.pause();
    alice.send('/msg bob@localhost into the frozen server');
    await new Promise((r) => setTimeout(r, 500));
    await lab.restart(1500, { kill: true });
    const retry = await alice.waitFor((e) => e.event === 'status' && e.status === 'reconnecting', 20_000, 'reconnecting');
    expect(retry.retry_in).toBeGreaterThanOrEqual(1);
    await waitOnlineTimes(alice, 2, 60_000);
    await waitOnlineTimes(bob, 2, 60_000);

    bob.send('/msg alice@localhost after the restart');
    await alice.waitFor((e) => e.event === 'message' && e.body === 'after the restart', 30_000, 'message after the restart');
    alice.send('/msg bob@localhost and back');
    await bob.waitFor((e) => e.event === 'message' && e.body === 'and back', 30_000, 'answer after the restart');
    // What the frozen server never confirmed went out again on the new connection, once.
    await bob.waitFor((e) => e.event === 'message' && e.body === 'into the frozen server', 30_000, 'the unconfirmed message');
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate would arrive by now
    expect(bob.events.filter((e) => e.event === 'message' && e.body === 'into the frozen server')).toHaveLength(1);
    expect(alice.events.filter((e) => e.event === 'message' && e.body === 'after the restart')).toHaveLength(1);
    expect(bob.events.filter((e) => e.event === 'message' && e.body === 'before the restart')).toHaveLength(1);
    // The broken sockets are told as 'connection lost', not as low-level errors.
    expect(alice.events.filter((e) => e.event === 'error')).toEqual([]);
    expect(bob.events.filter((e) => e.event === 'error')).toEqual([]);
  }, 180_000);
});
