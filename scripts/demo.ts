// `npm run demo`: a working encrypted conversation in one command. Starts a throwaway Prosody on
// loopback, registers you and an echo bot, runs the bot (a headless xchat core that answers every
// message with "echo: …", OMEMO-encrypted) and opens the full-screen UI as you, connected, with the
// bot's chat window open. /quit or Ctrl-C stops everything this script started.
//
// One file, three roles (the role is the first argument): no argument = the orchestrator;
// `--bot` and `--tui` are its children. They are separate processes because the lab's self-signed
// CA has to be in NODE_EXTRA_CA_CERTS when Node starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CoreApi, XchatEvent } from '../src/core/api.js';
import { createAccountSession } from '../src/core/index.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, '../..');
const PROSODY = process.env.XCHAT_PROSODY ?? '/usr/bin/prosody';

type Session = CoreApi & { close(): Promise<void> };

/** --key value pairs after the role. */
function args(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

const bare = (j: string) => j.split('/')[0].toLowerCase();
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the echo bot (child) ---------------------------------------------------------------------

async function runBot(a: Record<string, string>): Promise<void> {
  const log = (s: string) => process.stderr.write(`[bot] ${s}\n`);
  const core: Session = await createAccountSession({ profileDir: a.profile, account: a.jid });
  await core.accountAdd(a.jid);
  await core.accountSet(a.jid, 'server', '127.0.0.1');
  await core.accountSet(a.jid, 'port', a.port);
  // The bot never falls back to plaintext.
  await core.omemoPolicy('always');
  let greeted = false;
  const greet = async () => {
    // The user's device list appears a moment after their presence: retry briefly.
    for (let i = 0; i < 10 && !greeted; i++) {
      try {
        await core.sendMessage(a.user, "hi! I'm an echo bot. Everything you write here comes back to you, OMEMO-encrypted both ways. Try /omemo fingerprint, /omemo trust, /omemo qrcode.");
        greeted = true;
      } catch (e) {
        log(`greeting not sent yet: ${errText(e)}`);
        await sleep(1000);
      }
    }
  };
  core.on((e: XchatEvent) => {
    if (e.event === 'message' && !e.carbon && !e.archived && bare(e.from) === a.user) {
      core.sendMessage(bare(e.from), `echo: ${e.body}`).catch((err) => log(`echo failed: ${errText(err)}`));
    } else if (e.event === 'subscription' && bare(e.from) === a.user && e.type === 'subscribe') {
      // Approve the user and ask back, so each sees the other's presence.
      void core.subscription('allow', a.user).then(() => core.subscription('request', a.user)).catch((err) => log(errText(err)));
    } else if (e.event === 'presence' && bare(e.jid) === a.user && e.show !== 'offline' && !greeted) {
      void greet();
    } else if (e.event === 'error') {
      log(e.message);
    }
  });
  const stop = () => {
    void core.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await core.connect({ jid: a.jid, password: process.env.XCHAT_PASSWORD! });
  process.stdout.write('ready\n');
}

// ---- the TUI (child) --------------------------------------------------------------------------

async function runTui(a: Record<string, string>): Promise<number> {
  const { startTui } = await import('../src/tui.js');
  const contact = a.open;
  // The real UI on the real core; the wrapper only opens the bot's chat once online and accepts
  // the bot's subscription request, as a user would on first contact.
  const createSession: typeof createAccountSession = async (o) => {
    const core = await createAccountSession(o);
    let opened = false;
    core.on((e: XchatEvent) => {
      if (e.event === 'status' && e.status === 'online' && !opened) {
        opened = true;
        core.openChat(contact);
        void core.subscription('request', contact).catch(() => undefined);
      } else if (e.event === 'subscription' && bare(e.from) === contact && e.type === 'subscribe') {
        void core.subscription('allow', contact).catch(() => undefined);
      }
    });
    return core;
  };
  return startTui({ profileDir: a.profile, account: a.account, createSession });
}

// ---- the orchestrator -------------------------------------------------------------------------

async function main(): Promise<number> {
  if (!existsSync(PROSODY)) {
    process.stderr.write(
      `npm run demo needs a Prosody XMPP server binary at ${PROSODY} (it runs a private one on 127.0.0.1).\n` +
        `Install it with:  sudo apt-get install prosody   (or run scripts/install-test-deps)\n`,
    );
    return 1;
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write('npm run demo opens the full-screen UI: run it in a terminal.\n');
    return 2;
  }
  const { startProsody } = await import('../test/lab/prosody.js');
  const children: ChildProcess[] = [];
  let lab: Awaited<ReturnType<typeof startProsody>> | undefined;
  let dir: string | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
      await lab?.stop().catch(() => undefined);
      if (dir) await rm(dir, { recursive: true, force: true });
    })());
  // When the terminal goes away (SIGHUP) writes fail with EIO: cleaning up matters more.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  // Raw mode means Ctrl-C reaches the TUI as a key; signals from elsewhere still clean up.
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('SIGINT', onSignal);

  try {
    process.stdout.write('starting a private Prosody on 127.0.0.1 …\n');
    lab = await startProsody({ name: 'demo' });
    dir = await mkdtemp(join(tmpdir(), 'xchat-demo-'));
    const pw = () => Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
    const me = { pw: pw(), jid: '' };
    me.jid = await lab.register('me', me.pw);
    const botPw = pw();
    const bot = await lab.register('echo-bot', botPw);
    const env = (password: string) => ({ ...process.env, XCHAT_PASSWORD: password, NODE_EXTRA_CA_CERTS: lab!.caFile });

    process.stdout.write(`starting the echo bot ${bot} …\n`);
    const botProc = spawn(process.execPath, ['--import', 'tsx', SELF, '--bot', '--profile', join(dir, 'bot'), '--jid', bot, '--user', me.jid, '--port', String(lab.c2sPort)], {
      cwd: ROOT,
      env: env(botPw),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(botProc);
    let botLog = '';
    botProc.stderr!.on('data', (b: Buffer) => {
      botLog = (botLog + b.toString()).slice(-4000);
    });
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: botProc.stdout! }).on('line', (l) => l === 'ready' && resolve());
      botProc.once('exit', (code) => reject(new Error(`the echo bot exited (${code}) before it was ready:\n${botLog}`)));
    });

    // Your profile: the account with this server, an OMEMO identity, OMEMO on for the bot's chat.
    const profile = join(dir, 'me');
    const setup = await createAccountSession({ profileDir: profile, account: me.jid });
    try {
      await setup.accountAdd(me.jid);
      await setup.accountSet(me.jid, 'server', '127.0.0.1');
      await setup.accountSet(me.jid, 'port', String(lab.c2sPort));
      await setup.accountSet(me.jid, 'tls', 'force');
      await setup.omemoGen();
      await setup.omemoStart(bot);
    } finally {
      await setup.close();
    }

    const tui = spawn(process.execPath, ['--import', 'tsx', SELF, '--tui', '--profile', profile, '--account', me.jid, '--open', bot], {
      cwd: ROOT,
      env: env(me.pw),
      stdio: 'inherit',
    });
    children.push(tui);
    const code = await new Promise<number>((resolve) => tui.once('exit', (c) => resolve(c ?? 1)));
    process.stdout.write('demo over: stopping the bot and Prosody, removing the temp profiles.\n');
    return code;
  } catch (e) {
    process.stderr.write(`demo failed: ${errText(e)}\n`);
    return 1;
  } finally {
    await cleanup();
  }
}

const role = process.argv[2];
if (role === '--bot') {
  runBot(args(process.argv.slice(3))).catch((e) => {
    process.stderr.write(`[bot] ${errText(e)}\n`);
    process.exit(1);
  });
} else if (role === '--tui') {
  runTui(args(process.argv.slice(3))).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${errText(e)}\n`);
      process.exit(1);
    },
  );
} else {
  main().then((code) => process.exit(code));
}
