// Screen test (tmux, live), issue 9: with no password source the TUI asks for the password, masked;
// when the server goes away, the title says when it reconnects, a line typed meanwhile shows as
// [pending] and, once back online, as sent — at 160×50 and at 60×15; colour and the cursor at the
// caret are on screen (capture-pane -e, the pane's cursor), also when CI is set, as it is in CI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProsody, type Lab } from '../lab/prosody.js';
import { haveTmux, startTmux, type Tmux } from '../helpers/tmux.js';
import { AccountStore } from '../../src/store/account-store.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const canRun = existsSync('/usr/bin/prosody') && haveTmux();
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody and tmux (scripts/install-test-deps)');

describe.skipIf(!canRun)('reconnecting on screen (tmux, live)', () => {
  let lab: Lab;
  let dir: string;
  const ttys: Tmux[] = [];

  beforeAll(async () => {
    lab = await startProsody({ name: 'tui-reconnect' });
    for (const u of ['alice1', 'alice2', 'bob']) await lab.register(u, `${u}-pw`);
    dir = await mkdtemp(join(tmpdir(), 'xchat-tui-reconnect-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(ttys.map((t) => t.kill().catch(() => undefined)));
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [n, width, height] of [[1, 160, 50], [2, 60, 15]] as const) {
    it(`${width}×${height}: masked password, 'reconnecting in N s', a pending line that becomes sent`, async () => {
      const alice = `alice${n}@localhost`;
      const profile = join(dir, `alice${n}`);
      const store = await AccountStore.open(profile);
      await store.add(alice);
      await store.set(alice, 'server', lab.host);
      await store.set(alice, 'port', lab.c2sPort);
      // No XCHAT_PASSWORD, no password file, no eval_password: the TUI asks.
      const tty = await startTmux([process.execPath, '--import', 'tsx', join(ROOT, 'src/cli.ts'), '--profile', profile], {
        socket: `xchat-reconnect-${process.pid}-${n}`,
        width,
        height,
        cwd: ROOT,
        env: { NODE_EXTRA_CA_CERTS: lab.caFile, TERM: 'xterm-256color', CI: 'true' },
      });
      ttys.push(tty);
      await tty.waitFor(/password for alice\d@localhost/, 30_000, 'the prompt');
      await tty.type(`alice${n}-pw`);
      const masked = await tty.waitFor(/\*{9}/, 10_000, 'nine stars');
      expect(masked).not.toContain(`alice${n}-pw`);
      await tty.keys('Enter');
      await tty.waitFor((s) => / online/.test(s.split('\n')[0]!), 60_000, 'online');
      // Attributes, not just text: a colour (the status bar's time), the current window in reverse
      // video, and the terminal's own cursor shown at the caret of the (empty) input line.
      const attrs = await tty.captureAttributes();
      expect(attrs, 'a colour').toMatch(/\u001b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38;5;\d+)m/);
      expect(attrs, 'reverse video').toMatch(/\u001b\[(?:[0-9;]*;)?7m/);
      expect(await tty.cursor(), 'the cursor at the caret').toEqual({ x: 2, y: height - 1, visible: true });
      await tty.line('/msg bob@localhost');
      await tty.line('/omemo end');
      await tty.waitFor(/messages are NOT encrypted/, 20_000, 'the chat in plaintext');
      await new Promise((r) => setTimeout(r, 500)); // /omemo end's own 'chat' event refocuses the chat: let it land first

      const restarted = lab.restart(4000, { kill: true });
      await tty.keys('M-1');
      await tty.waitFor((s) => /reconnecting in \d+ s/.test(s.split('\n')[0]!), 20_000, "'reconnecting in N s' in the title");
      await tty.keys('M-2');
      await tty.waitFor((s) => s.split('\n')[0]!.includes('bob@localhost'), 10_000, "bob's window");
      await tty.line('typed while the server is away');
      await tty.waitFor((s) => s.includes('[pending] typed while the server is away'), 20_000, 'the pending line');
      await restarted;
      const sent = await tty.waitFor((s) => s.includes('me: typed while the server is away') && !s.includes('[pending]'), 60_000, 'sent once back');
      expect(sent).not.toContain('{"event"');
      console.log(`screen at ${width}×${height} after reconnecting:\n${sent}`);
      await tty.line('/quit');
      const deadline = Date.now() + 20_000;
      while (!(await tty.dead()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await tty.dead()).toBe(true);
    }, 150_000);
  }
});
