// Live: the XMPP stream and file transfers through SOCKS5. A real proxy (microsocks) carries the
// session; a proxy that is down is an error, never a direct connection; through a recording
// proxy, a .onion server name (which nothing here could resolve) is handed to the proxy as a name,
// and a file download goes through the proxy too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net, { createServer } from 'node:net';
import { describePrivacy } from '../../src/commands/privacy-command.js';
import { startProsody, type Lab } from '../lab/prosody.js';
import { AccountSession } from '../../src/core/account-session.js';
import { createXmppPort } from '../../src/core/xmpp-port.js';
import type { XchatEvent } from '../../src/core/api.js';
import { httpGet } from '../../src/core/file-transfer.js';
import { parseProxy, proxyAgent } from '../../src/xmpp/proxy.js';
import { fakeDeps } from '../helpers/fake-xmpp.js';
import { startSocksRecorder, type SocksRecorder } from '../helpers/socks-recorder.js';

const MICROSOCKS = '/usr/bin/microsocks';
const canRun = existsSync('/usr/bin/prosody') && existsSync(MICROSOCKS);
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody and microsocks (scripts/install-test-deps)');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe.skipIf(!canRun)('SOCKS5 proxy (live)', () => {
  let lab: Lab;
  let socksPort: number;
  let microsocks: ChildProcess;
  let recorder: SocksRecorder;
  const sessions: AccountSession[] = [];

  beforeAll(async () => {
    lab = await startProsody({ name: 'proxy' });
    await lab.register('alice', 'alice-pw');
    await lab.register('bob', 'bob-pw');
    socksPort = await freePort();
    microsocks = spawn(MICROSOCKS, ['-i', '127.0.0.1', '-p', String(socksPort)], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      const up = await new Promise<boolean>((r) => {
        const c = net.connect(socksPort, '127.0.0.1', () => (c.destroy(), r(true)));
        c.on('error', () => r(false));
      });
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // The lab's server answers as xchatlab.onion through this proxy only; other names: same port on loopback.
    recorder = await startSocksRecorder((host, port) => ({ host: '127.0.0.1', port: host === 'xchatlab.onion' ? lab.c2sPort : port }));
  }, 60_000);

  afterAll(async () => {
    for (const s of sessions) await s.disconnect().catch(() => undefined);
    microsocks?.kill();
    await recorder?.close();
    await lab?.stop();
  });

  function session(password: string, proxy?: string) {
    const ca = readFileSync(lab.caFile, 'utf8');
    const events: XchatEvent[] = [];
    const s = new AccountSession(fakeDeps(() => createXmppPort({ ca }), { env: { XCHAT_PASSWORD: password }, ...(proxy ? { proxy } : {}) }));
    s.on((e) => events.push(e));
    sessions.push(s);
    return { s, events };
  }

  it('through microsocks: online (and says so), messages flow', async () => {
    const proxy = `socks5h://127.0.0.1:${socksPort}`;
    const alice = session('alice-pw', proxy);
    const bob = session('bob-pw');
    await alice.s.connect({ jid: 'alice@localhost', server: 'localhost', port: lab.c2sPort });
    await bob.s.connect({ jid: 'bob@localhost', server: lab.host, port: lab.c2sPort });
    expect(alice.events.find((e) => e.event === 'status' && e.status === 'online')).toMatchObject({ via: proxy });
    // /privacy says which way the traffic goes: through the proxy for alice, directly for bob.
    const viaProxy = describePrivacy(await alice.s.privacy()).join('\n');
    expect(viaProxy).toContain(`route: localhost:${lab.c2sPort}, through the proxy ${proxy}`);
    expect(viaProxy).toMatch(/encryption in transit: TLSv1\.3; the certificate is verified/);
    expect(viaProxy).toMatch(/login: SCRAM-SHA-1, not bound/);
    const direct = describePrivacy(await bob.s.privacy()).join('\n');
    expect(direct).toContain('a direct connection: no proxy');
    expect(direct).not.toContain('through the proxy');
    await alice.s.omemoEnd('bob@localhost');
    await alice.s.sendMessage('bob@localhost', 'via socks');
    const end = Date.now() + 20_000;
    while (!bob.events.some((e) => e.event === 'message' && e.body === 'via socks') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(bob.events.some((e) => e.event === 'message' && e.body === 'via socks')).toBe(true);
  }, 60_000);

  it('a proxy that is down: a clear error, no direct connection', async () => {
    const dead = await freePort();
    const alice = session('alice-pw', `socks5h://127.0.0.1:${dead}`);
    await expect(alice.s.connect({ jid: 'alice@localhost', server: lab.host, port: lab.c2sPort })).rejects.toThrow(/through the proxy socks5h:\/\/127\.0\.0\.1:\d+: .*no direct connection is tried/);
    expect(alice.s.isConnected()).toBe(false);
  });

  it('a .onion server name is resolved by the proxy, never here; downloads go through it too', async () => {
    const proxy = `socks5h://127.0.0.1:${recorder.port}`;
    const alice = session('alice-pw', proxy);
    await alice.s.connect({ jid: 'alice@localhost', server: 'xchatlab.onion', port: 5222 });
    expect(alice.s.isConnected()).toBe(true);
    expect(recorder.requests).toContainEqual({ kind: 'domain', host: 'xchatlab.onion', port: 5222 });
    // A file link on another name: the proxy is asked for it by name as well.
    await httpGet(`https://files.xchatlab.onion:${lab.httpsPort}/nothing`, undefined, proxyAgent(parseProxy(proxy))).catch(() => undefined);
    expect(recorder.requests).toContainEqual({ kind: 'domain', host: 'files.xchatlab.onion', port: lab.httpsPort });
    expect(recorder.requests.every((r) => r.kind === 'domain')).toBe(true);
  }, 60_000);
});
