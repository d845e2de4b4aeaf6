// run/send/listen wiring, in process, with a fake core.
import { describe, it, expect, beforeEach } from 'vitest';
import { PassThrough, Writable } from 'node:stream';
import { runCli, type CliIo } from '../../src/cli.js';
import { formatEvent } from '../../src/ui/event-text.js';
import { FakeCore } from '../commands/fake-core.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

class CliCore extends FakeCore {
  closed = false;
  refuse?: string;
  opts?: unknown;
  override async sendMessage(to: string, text: string, opts?: { plain?: boolean }) {
    await super.sendMessage(to, text, opts);
    if (this.refuse) throw new Error(this.refuse);
    this.emit({ event: 'sent', to, id: 'm1', body: text, encryption: opts?.plain ? 'none' : 'omemo', devices: 2 });
  }
  override async disconnect() {
    await super.disconnect();
    this.connected = false;
  }
  async close() {
    this.closed = true;
  }
}

let core: CliCore;
let out: Sink;
let err: Sink;

function io(input: string, env: NodeJS.ProcessEnv = {}): CliIo {
  const stdin = new PassThrough();
  stdin.end(input);
  return {
    stdin,
    stdout: out,
    stderr: err,
    env,
    createSession: async (opts) => {
      core.opts = opts;
      return core;
    },
  };
}

beforeEach(() => {
  core = new CliCore();
  out = new Sink();
  err = new Sink();
});

describe('xchat run', () => {
  it('runs stdin lines through the command engine, drains, and exits 0 at EOF', async () => {
    const code = await runCli(['run', '--profile', '/tmp/p', '--json'], io('/connect alice@example.org\n/msg bob@example.org\nhello bob\n'));
    expect(code).toBe(0);
    expect(core.calls).toEqual([
      ['connect', { jid: 'alice@example.org' }],
      ['openChat', 'bob@example.org'],
      ['sendMessage', 'bob@example.org', 'hello bob'],
      ['drain'],
      ['disconnect'],
    ]);
    expect(core.closed).toBe(true);
    expect(core.opts).toEqual({ profileDir: '/tmp/p', json: true });
    const lines = out.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([{ event: 'sent', to: 'bob@example.org', id: 'm1', body: 'hello bob', encryption: 'omemo', devices: 2 }]);
  });

  it('stops at /quit, ignoring later lines', async () => {
    const code = await runCli(['run'], io('/msg bob@example.org one\n/quit\n/msg bob@example.org two\n'));
    expect(code).toBe(0);
    expect(core.calls.filter((c) => c[0] === 'sendMessage')).toEqual([['sendMessage', 'bob@example.org', 'one']]);
  });

  it('--account connects first, with the password file', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/xchat-pw-');
    writeFileSync(`${dir}/pw`, 'hunter2\nignored\n');
    const code = await runCli(['run', '--account', 'alice@example.org', '--password-file', `${dir}/pw`], io(''));
    expect(code).toBe(0);
    expect(core.calls[0]).toEqual(['connect', { jid: 'alice@example.org', password: 'hunter2' }]);
    expect(core.opts).toMatchObject({ account: 'alice@example.org' });
  });

  it('prints command errors readably on stderr and keeps going', async () => {
    const code = await runCli(['run'], io('/nope\nhello\n/help quit\n'));
    expect(code).toBe(0);
    expect(err.text).toBe('error: Unknown command: /nope (try /help)\nerror: no chat window: use /msg JID first\n');
    expect(out.text).toContain('/quit\n\nQuit once pending messages are sent; downloads under way are stopped and their partial files removed.');
  });
});

describe('xchat send', () => {
  it('connects to the first account, sends, drains, disconnects: exit 0', async () => {
    core.accounts = [{ jid: 'alice@example.org' }, { jid: 'zed@example.org' }];
    const code = await runCli(['send', '--to', 'bob@example.org', '--text', 'hi'], io('', { XCHAT_PASSWORD: 'pw' }));
    expect(code).toBe(0);
    expect(core.calls).toEqual([
      ['accountList'],
      ['connect', { jid: 'alice@example.org', password: 'pw' }],
      ['sendMessage', 'bob@example.org', 'hi'],
      ['drain'],
      ['disconnect'],
    ]);
    expect(out.text).toMatch(/me → bob@example.org \(omemo, 2 devices\): hi\n$/);
  });

  it('reads the text from stdin and passes --plain', async () => {
    const code = await runCli(['send', '--account', 'alice@example.org', '--to', 'bob@example.org', '--plain'], io('line one\nline two\n'));
    expect(code).toBe(0);
    expect(core.calls[1]).toEqual(['sendMessage', 'bob@example.org', 'line one\nline two', { plain: true }]);
  });

  it('a refused message is a runtime failure: exit 1 with the reason', async () => {
    core.refuse = 'no trusted OMEMO device for bob@example.org';
    const code = await runCli(['send', '--account', 'alice@example.org', '--to', 'bob@example.org', '--text', 'hi', '--json'], io(''));
    expect(code).toBe(1);
    expect(out.text.trim().split('\n').map((l) => JSON.parse(l))).toContainEqual({ event: 'error', message: 'no trusted OMEMO device for bob@example.org' });
    expect(core.closed).toBe(true);
  });

  it('no configured account is a usage error: exit 2', async () => {
    const code = await runCli(['send', '--to', 'bob@example.org', '--text', 'hi'], io(''));
    expect(code).toBe(2);
    expect(err.text).toContain('no account configured');
    expect(core.calls.filter((c) => c[0] === 'connect')).toEqual([]);
  });
});

describe('xchat listen and omemo fingerprint', () => {
  it('listen --for prints events as JSON lines and exits 0', async () => {
    const p = runCli(['listen', '--account', 'alice@example.org', '--for', '0.05', '--json'], io(''));
    await new Promise((r) => setImmediate(r));
    core.emit({ event: 'message', from: 'bob@example.org/phone', to: 'alice@example.org', body: 'yo', encryption: 'omemo', trust: 'trusted', stamp: '2024-01-01T12:01:02Z' });
    expect(await p).toBe(0);
    expect(JSON.parse(out.text.trim())).toMatchObject({ event: 'message', body: 'yo' });
    expect(core.calls.at(-1)).toEqual(['disconnect']);
  });

  it('omemo fingerprint prints the own fingerprint in groups', async () => {
    expect(await runCli(['omemo', 'fingerprint'], io(''))).toBe(0);
    expect(out.text).toBe(`${'abababab '.repeat(8).trim()} (device 1234)\n`);
  });
});

describe('readable output', () => {
  it('formats a message like [hh:mm:ss] from (omemo, trusted): body', () => {
    const stamp = new Date(2024, 0, 1, 12, 1, 2).toISOString();
    expect(formatEvent({ event: 'message', from: 'bob@localhost/res', to: 'a@localhost', body: 'hello', encryption: 'omemo', trust: 'trusted', stamp })).toBe(
      '[12:01:02] bob@localhost/res (omemo, trusted): hello',
    );
    expect(formatEvent({ event: 'message', from: 'bob@localhost', to: 'a@localhost', body: 'x', encryption: 'none', stamp })).toBe('[12:01:02] bob@localhost (plaintext): x');
    expect(formatEvent({ event: 'error', message: 'bad', from: 'bob@x', reason: 'bad-mac' })).toBe('error: bad (from bob@x): bad-mac');
  });
});
