// Live: the real command line (`node --import tsx src/cli.ts …`) against python-omemo peers
// through a Prosody the suite starts: account set-up with `xchat run`, one-shot `xchat send`
// (flag and stdin), `xchat listen --json`, exit codes, the own fingerprint, and the profile lock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createServer, connect as netConnect, type AddressInfo } from 'node:net';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer, type PeerEvent } from '../helpers/peer.js';
import { startXchat, type XchatProc } from '../helpers/xchat.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody and python3-omemo (scripts/install-test-deps)');

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.skipIf(!canRun)('xchat command line (live)', () => {
  let lab: Lab;
  let dirs: string;
  let profile: string;
  let bob: Peer;
  const peers: Peer[] = [];
  const procs: XchatProc[] = [];
  const aliceJid = 'alice@localhost';
  const bobJid = 'bob@localhost';

  const spawnCli = (args: string[]) =>
    spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, XCHAT_PASSWORD: 'alice-pw', NODE_EXTRA_CA_CERTS: lab.caFile },
      stdio: ['pipe', 'pipe', 'pipe'],
    });

  /** Runs the CLI to completion; `stdin` is written and closed (empty when absent). */
  const cli = (args: string[], stdin = '', timeoutMs = 40_000): Promise<CliRun> =>
    new Promise((resolve, reject) => {
      const p = spawnCli(args);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const t = setTimeout(() => {
        p.kill('SIGKILL');
        reject(new Error(`xchat ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, timeoutMs);
      p.on('exit', (code) => {
        clearTimeout(t);
        resolve({ code, stdout, stderr });
      });
      p.stdin.end(stdin);
    });

  /** `xchat run --json` on the profile with these lines; fails the test on any error event. */
  const runLines = async (lines: string[]) => {
    const x = startXchat({ profile, password: 'alice-pw', caFile: lab.caFile });
    for (const l of lines) x.send(l);
    expect(await x.end()).toBe(0);
    expect(x.events.filter((e) => e.event === 'error')).toEqual([]);
    return x;
  };
  const got = (body: string) => (e: PeerEvent) => e.event === 'message' && e.body === body;

  beforeAll(async () => {
    lab = await startProsody({ name: 'cli' });
    for (const u of ['alice', 'bob', 'carol']) await lab.register(u, `${u}-pw`);
    dirs = await mkdtemp(join(tmpdir(), 'xchat-cli-'));
    profile = join(dirs, 'alice-profile');
    bob = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
    peers.push(bob);
  });

  afterAll(async () => {
    await Promise.all(procs.map((x) => x.end(5000).catch(() => undefined)));
    await Promise.all(peers.map((p) => p.stop().catch(() => undefined)));
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('configures an account with xchat run, then sends with --text and from stdin', async () => {
    await runLines([
      `/account add ${aliceJid}`,
      `/account set ${aliceJid} server ${lab.host}`,
      `/account set ${aliceJid} port ${lab.c2sPort}`,
    ]);

    const r = await cli(['send', '--to', bobJid, '--text', 'hi-from-cli', '--account', aliceJid, '--profile', profile]);
    expect(r.code, r.stderr).toBe(0);
    const m = await bob.waitFor(got('hi-from-cli'), 20_000);
    expect(m.encrypted).toBe(true);

    // No --account: the only configured account is used; the text comes from stdin.
    const s = await cli(['send', '--to', bobJid, '--profile', profile], 'text-from-stdin\n');
    expect(s.code, s.stderr).toBe(0);
    const m2 = await bob.waitFor(got('text-from-stdin'), 20_000);
    expect(m2.encrypted).toBe(true);
    expect(m2.prekey).toBe(false); // the session stored by the first send was reused
  });

  it('send logs in over the one connection it opened while still loading', async () => {
    // A relay in front of Prosody that counts connections: the early TCP connection (opened
    // before the XMPP code is loaded) must be the one the login uses, not a second one.
    let connections = 0;
    const relay = createServer((client) => {
      connections++;
      const server = netConnect(lab.c2sPort, lab.host);
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      await runLines([`/account set ${aliceJid} port ${(relay.address() as AddressInfo).port}`]);
      const r = await cli(['send', '--to', bobJid, '--text', 'hi-over-relay', '--profile', profile]);
      expect(r.code, r.stderr).toBe(0);
      await bob.waitFor(got('hi-over-relay'), 20_000);
      expect(connections).toBe(1);
    } finally {
      await runLines([`/account set ${aliceJid} port ${lab.c2sPort}`]);
      relay.close();
    }
  });

  it('listen --json prints the peer\'s encrypted message as a message event and exits 0', async () => {
    const p = spawnCli(['listen', '--for', '8', '--json', '--profile', profile]);
    const lines: any[] = [];
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => p.on('exit', resolve));
    const online = new Promise<void>((resolve) => {
      createInterface({ input: p.stdout }).on('line', (l) => {
        const e = JSON.parse(l);
        lines.push(e);
        if (e.event === 'status' && e.status === 'online') resolve();
      });
    });
    p.stdin.end();
    await Promise.race([online, exited.then(() => { throw new Error(`listen exited early: ${stderr}`); })]);
    await bob.request({ cmd: 'send', to: aliceJid, body: 'secret-for-listen' });
    const code = await exited;
    expect(code, stderr).toBe(0);
    const msg = lines.find((e) => e.event === 'message' && e.body === 'secret-for-listen');
    expect(msg, JSON.stringify(lines)).toBeDefined();
    expect(msg).toMatchObject({ encryption: 'omemo', sender_device: bob.ready.device_id });
    expect(msg.from.startsWith(bobJid)).toBe(true);
    expect(lines.filter((e) => e.event === 'error')).toEqual([]);
  });

  it('omemo fingerprint prints the fingerprint the peer sees for this account', async () => {
    const r = await cli(['omemo', 'fingerprint', '--profile', profile]);
    expect(r.code, r.stderr).toBe(0);
    const printed = r.stdout.replace(/\(device \d+\)/, '').replace(/\s+/g, '');
    expect(printed).toMatch(/^[0-9a-f]{64}$/);
    const devices = (await bob.request({ cmd: 'devices', jid: aliceJid })).devices as { id: number; fingerprint: string }[];
    expect(devices.map((d) => d.fingerprint)).toEqual([printed]);
    expect(r.stdout).toContain(`(device ${devices[0].id})`);
  });

  it('a second xchat on the same profile fails with a clear "in use" error', async () => {
    const first = startXchat({ profile, password: 'alice-pw', caFile: lab.caFile });
    procs.push(first);
    // The lock is taken before the first line is read: once a command answers, it is held.
    first.send('/omemo policy');
    await first.waitFor((e) => e.event === 'info' && /policy/i.test(e.message), 20_000, 'first instance up');
    const second = await cli(['run', '--json', '--profile', profile]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/in use/);
    expect(second.stderr).toContain(profile);
    expect(await first.end()).toBe(0);
    // Released on exit: the profile works again.
    const again = await cli(['omemo', 'fingerprint', '--profile', profile]);
    expect(again.code, again.stderr).toBe(0);
  });

  it('exits 1 when the contact has no trusted device, 2 on a bad flag', async () => {
    const carol = await startPeer({ jid: 'carol@localhost', password: 'carol-pw', lab, stateDir: join(dirs, 'carol') });
    peers.push(carol);
    await runLines([`/account set ${aliceJid} trust_mode manual`]);

    const r = await cli(['send', '--to', 'carol@localhost', '--text', 'secret-untrusted', '--profile', profile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOT sent/);
    expect(r.stderr).toContain(carol.ready.fingerprint);
    expect(r.stderr).toContain('/omemo trust carol@localhost');

    // Trusted (offline, in xchat run), the next send goes through; carol gets it and never the first.
    await runLines([`/omemo trust carol@localhost ${carol.ready.fingerprint}`]);
    const ok = await cli(['send', '--to', 'carol@localhost', '--text', 'secret-trusted', '--profile', profile]);
    expect(ok.code, ok.stderr).toBe(0);
    await carol.waitFor(got('secret-trusted'), 20_000);
    expect(carol.events.some((e) => e.body === 'secret-untrusted')).toBe(false);

    const bad = await cli(['send', '--to', bobJid, '--text', 'x', '--bogus-flag', '--profile', profile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option.*--bogus-flag/);
  });
});
