// Live, end to end through a real terminal: the full-screen `xchat` TUI runs in a private tmux
// server (120×40), is typed at with send-keys and read with capture-pane, against the suite's
// Prosody and the python-omemo reference peer. One scenario, in the order a user meets it:
// connect, keys, an untrusted contact refused, trust, an encrypted exchange, window switching,
// and the QR code read back off the screen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { decodeQrText, extractQrBlock, haveTmux, startTmux, type Tmux } from '../helpers/tmux.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody') && haveTmux();
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody, python3-omemo and tmux (scripts/install-test-deps)');

/** The screen without any whitespace: long lines wrap at 120 columns, anywhere. */
const squash = (s: string) => s.replace(/\s+/g, '');
const shows = (needle: string) => (screen: string) => squash(screen).includes(squash(needle));
const title = (screen: string) => screen.split('\n')[0];

const FINAL_SCREEN = join(tmpdir(), 'xchat-tui-tmux-final-screen.txt');

describe.skipIf(!canRun)('the TUI in a real terminal (tmux, live)', () => {
  let lab: Lab;
  let dir: string;
  let bob: Peer;
  let tty: Tmux;

  beforeAll(async () => {
    lab = await startProsody({ name: 'tui-tmux' });
    await lab.register('alice', 'alice-pw');
    await lab.register('bob', 'bob-pw');
    dir = await mkdtemp(join(tmpdir(), 'xchat-tui-tmux-'));
    bob = await startPeer({ jid: 'bob@localhost', password: 'bob-pw', lab, stateDir: join(dir, 'bob'), autoSubscribe: true, echo: true });
    tty = await startTmux([process.execPath, '--import', 'tsx', join(ROOT, 'src/cli.ts'), '--profile', join(dir, 'alice')], {
      socket: `xchat-test-${process.pid}`,
      width: 120,
      height: 40,
      cwd: ROOT,
      env: { XCHAT_PASSWORD: 'alice-pw', NODE_EXTRA_CA_CERTS: lab.caFile, TERM: 'xterm-256color' },
    });
  });

  afterAll(async () => {
    await tty?.kill();
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('connects, refuses an untrusted contact, trusts, talks OMEMO, switches windows and shows a readable QR code', async () => {
    const bobJid = 'bob@localhost';
    // First paint: title, status bar with the console window, input line.
    await tty.waitFor((s) => /\[1:console\]/.test(s) && /^ xchat console/.test(title(s)), 30_000, 'first paint');

    await tty.line(`/connect alice@localhost server ${lab.host} port ${lab.c2sPort} tls force`);
    await tty.waitFor((s) => / online/.test(title(s)), 60_000, 'online in the title bar');

    await tty.line('/omemo gen');
    const gen = await tty.waitFor((s) => /device\d+,fingerprint[0-9a-f]{64}/.test(squash(s)), 20_000, '/omemo gen');
    const [, deviceId, ownFp] = /device(\d+),fingerprint([0-9a-f]{64})/.exec(squash(gen))!;

    // Manual trust: the first message to bob's unknown device must not leave, and say how to fix it.
    await tty.line('/omemo trustmode manual');
    await tty.waitFor(shows('trust mode: manual'), 20_000, 'trust mode');
    await tty.line(`/msg ${bobJid} secret-while-untrusted`);
    const refused = await tty.waitFor(shows('NOT sent'), 30_000, 'the refusal');
    expect(title(refused)).toMatch(/^ bob@localhost/); // /msg moved to bob's window
    expect(squash(refused)).toContain(squash(`/omemo trust ${bobJid}`));
    expect(squash(refused)).toContain(bob.ready.fingerprint);
    expect(title(refused)).not.toContain('[trusted]');

    // Trusted (/omemo trust verifies): the next line goes out encrypted, bob's echo comes back on screen.
    await tty.line(`/omemo trust ${bobJid} ${bob.ready.fingerprint}`);
    await tty.waitFor((s) => title(s).includes('[verified]'), 20_000, '[verified] in the title bar');
    await tty.line('hello-bob');
    const got = await bob.waitFor((e) => e.event === 'message' && e.body === 'hello-bob', 30_000);
    expect(got.encrypted).toBe(true);
    const chat = await tty.waitFor(shows(`${bobJid}: echo: hello-bob`), 30_000, "bob's echo on screen");
    expect(chat).toMatch(/me: hello-bob/);
    expect(title(chat)).toContain('[OMEMO]');
    // bob receives in order: the refused message would have come first.
    expect(bob.events.some((e) => e.event === 'message' && e.body === 'secret-while-untrusted')).toBe(false);

    // Alt+1 / Alt+2 switch windows: the title bar follows.
    await tty.keys('M-1');
    await tty.waitFor((s) => /^ xchat console/.test(title(s)), 10_000, 'console after Alt+1');
    await tty.keys('M-2');
    const back = await tty.waitFor((s) => /^ bob@localhost/.test(title(s)), 10_000, "bob's window after Alt+2");
    expect(back).toMatch(/\[2:bob@localhost\]/);

    // The QR code, read back off the terminal as a phone would: this device's URI.
    await tty.keys('M-1');
    await tty.waitFor((s) => /^ xchat console/.test(title(s)), 10_000, 'console again');
    await tty.line('/clear');
    await tty.line('/omemo qrcode');
    const qrScreen = await tty.waitFor(shows(`omemo-sid-${deviceId}=${ownFp}`), 20_000, 'the QR code and its URI');
    const block = extractQrBlock(qrScreen);
    expect(block, qrScreen).toBeDefined();
    const uri = decodeQrText(block!);
    expect(uri).toMatch(/^xmpp:alice@localhost\?/);
    expect(uri).toContain(`omemo-sid-${deviceId}=${ownFp}`);

    // Save the screen of the whole story (bob's window) for the record.
    await tty.keys('M-2');
    const final = await tty.waitFor((s) => /^ bob@localhost/.test(title(s)), 10_000, 'final screen');
    await writeFile(FINAL_SCREEN, final + '\n');
    console.log(`final TUI screen (also in ${FINAL_SCREEN}):\n${final}`);

    await tty.line('/quit');
    const deadline = Date.now() + 20_000;
    while (!(await tty.dead()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await tty.dead()).toBe(true);
    // A whole scripted session against real peers: generous under a loaded CI machine.
  }, 240_000);
});
