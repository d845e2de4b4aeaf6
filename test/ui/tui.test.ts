// startTui end to end on fake terminal streams and a fake core: alternate screen, connect at
// start, notifications (bell + OSC 0 title), /quit drains and closes.
import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import type { CoreApi } from '../../src/core/api.js';
import { startTui } from '../../src/tui.js';
import { FakeCore } from '../commands/fake-core.js';

class FakeStdout extends EventEmitter {
  isTTY = true;
  columns = 80;
  rows = 12;
  out = '';
  write(s: string) {
    this.out += s;
    return true;
  }
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read() {
    const d = this.data;
    this.data = null;
    return d;
  }
  type(s: string) {
    this.data = s;
    this.emit('readable');
  }
}

const tick = (ms = 40) => new Promise((r) => setTimeout(r, ms));

/** Ink throttles frames: wait until the output shows what we expect (or give up). */
async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await tick(20);
}

class ClosableCore extends FakeCore {
  closed = false;
  async close() {
    this.closed = true;
  }
}

describe('startTui', () => {
  it('connects the only account, notifies, and /quit drains, closes and restores the screen', async () => {
    const core = new ClosableCore();
    core.accounts = [{ jid: 'alice@x' }];
    const stdin = new FakeStdin();
    const stdout = new FakeStdout();
    const done = startTui({
      profileDir: '/nonexistent',
      env: { XCHAT_PASSWORD: 'pw' },
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
      createSession: async () => core as unknown as CoreApi & { close(): Promise<void> },
    });
    await waitFor(() => core.calls.some((c) => c[0] === 'connect'));
    expect(stdout.out.startsWith('\u001b[?1049h')).toBe(true);
    expect(core.calls).toContainEqual(['connect', { jid: 'alice@x', password: 'pw' }]);

    core.emit({ event: 'message', from: 'bob@x/r', to: 'alice@x', body: 'ping', encryption: 'none', stamp: new Date().toISOString() });
    await waitFor(() => stdout.out.includes('[2:bob@x*1]'));
    expect(stdout.out).toContain('\u0007');
    expect(stdout.out).toContain('\u001b]0;xchat (1 unread)\u0007');
    expect(stdout.out).toContain('[2:bob@x*1]');

    for (const c of '/quit\r') stdin.type(c);
    expect(await done).toBe(0);
    expect(core.calls).toContainEqual(['drain']);
    expect(core.closed).toBe(true);
    expect(stdout.out.endsWith('\u001b[?1049l')).toBe(true);
  });

  it('without accounts it does not connect and says how to add one', async () => {
    const core = new ClosableCore();
    const stdin = new FakeStdin();
    const stdout = new FakeStdout();
    const done = startTui({
      profileDir: '/nonexistent',
      env: {},
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
      createSession: async () => core as unknown as CoreApi & { close(): Promise<void> },
    });
    await waitFor(() => stdout.out.includes('no account yet'));
    expect(core.calls.some((c) => c[0] === 'connect')).toBe(false);
    expect(stdout.out).toContain('no account yet');
    stdin.type('\u0003'); // Ctrl-C
    expect(await done).toBe(0);
    expect(core.closed).toBe(true);
  });

  it('with one account and no password source: asks for it, masked, and connects with the answer', async () => {
    const core = new ClosableCore();
    core.accounts = [{ jid: 'alice@x' }];
    const stdin = new FakeStdin();
    const stdout = new FakeStdout();
    const done = startTui({
      profileDir: '/nonexistent',
      env: {},
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
      createSession: async () => core as unknown as CoreApi & { close(): Promise<void> },
    });
    await waitFor(() => stdout.out.includes('password for alice@x'));
    for (const c of 's3cret') stdin.type(c);
    await waitFor(() => stdout.out.includes('******'));
    expect(stdout.out).not.toContain('s3cret');
    stdin.type('\r');
    await waitFor(() => core.calls.some((c) => c[0] === 'connect'));
    expect(core.calls.find((c) => c[0] === 'connect')?.[1]).toMatchObject({ jid: 'alice@x', password: 's3cret' });
    stdin.type('\u0003');
    expect(await done).toBe(0);
  });

  it('paints the screen before the profile is open; a line typed meanwhile runs once it is', async () => {
    const core = new ClosableCore();
    const stdin = new FakeStdin();
    const stdout = new FakeStdout();
    let openProfile!: () => void;
    const done = startTui({
      profileDir: '/nonexistent',
      env: {},
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
      createSession: () => new Promise((resolve) => (openProfile = () => resolve(core as unknown as CoreApi & { close(): Promise<void> }))),
    });
    await waitFor(() => stdout.out.includes('[1:console]'));
    expect(stdout.out).toContain('[1:console]');
    await tick(); // the App's key handler attaches after the first frame (a real tty buffers)
    for (const c of '/msg bob@x\r') stdin.type(c);
    await tick();
    expect(core.calls).toEqual([]);
    openProfile();
    await waitFor(() => core.calls.some((c) => c[0] === 'openChat'));
    expect(core.calls).toContainEqual(['openChat', 'bob@x']);
    for (const c of '/quit\r') stdin.type(c);
    expect(await done).toBe(0);
    expect(core.closed).toBe(true);
  });
});
