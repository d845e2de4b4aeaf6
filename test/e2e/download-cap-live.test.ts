// Live: a contact sends an aesgcm:// link to a server that never stops sending (or announces a
// huge file). xchat stops at its limit, /url cancel, /quit and SIGTERM stop a download at once,
// no partial file stays, and one left by kill -9 is removed on the next start.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { startXchat, type XchatProc } from '../helpers/xchat.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');

describe.skipIf(!canRun)('downloads: size cap, cancel, quit, leftovers (live)', () => {
  let lab: Lab;
  let dirs: string;
  let downloads: string;
  let server: Server;
  let port: number;
  let bob: Peer | undefined;
  const procs: XchatProc[] = [];
  const aliceJid = 'alice@localhost';
  const bobJid = 'bob@localhost';
  const chunk = randomBytes(64 * 1024);

  const startAlice = async (): Promise<XchatProc> => {
    const x = startXchat({ profile: join(dirs, 'alice'), password: 'alice-pw', caFile: lab.caFile, env: { XDG_DOWNLOAD_DIR: downloads } });
    procs.push(x);
    x.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await x.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    return x;
  };
  /** bob sends an encrypted aesgcm:// link to `path` on the endless server; alice opens his window. */
  const offer = async (x: XchatProc, path: string): Promise<void> => {
    const url = `aesgcm://localhost:${port}${path}#${randomBytes(44).toString('hex')}`;
    await bob!.request({ cmd: 'send', to: aliceJid, body: url });
    await x.waitFor((e) => e.event === 'message' && e.body === url, 20_000, 'link');
    x.send(`/msg ${bobJid}`);
    await x.waitFor((e) => e.event === 'chat' && e.jid === bobJid, 20_000, 'window');
  };
  const downloading = (x: XchatProc, from: number) =>
    x.waitFor((e) => e.event === 'progress' && e.direction === 'download' && x.events.indexOf(e) >= from && Number(e.bytes) > 0, 20_000, 'bytes arriving');
  const partials = async () => (await readdir(downloads)).filter((f) => f.endsWith('.xchat-part'));

  beforeAll(async () => {
    lab = await startProsody({ name: 'dlcap' });
    for (const u of ['alice', 'bob']) await lab.register(u, `${u}-pw`);
    dirs = await mkdtemp(join(tmpdir(), 'xchat-dlcap-'));
    downloads = join(dirs, 'downloads');
    await mkdir(downloads);
    const cert = await readFile(lab.caFile);
    const key = await readFile(join(lab.dir, 'localhost.key'));
    // Loopback only; every response ends with its client or after 60 s, whichever comes first.
    server = createServer({ cert, key }, (req, res) => {
      if (req.url?.startsWith('/huge')) {
        res.writeHead(200, { 'Content-Length': String(2 * 1024 ** 3) });
        res.write(chunk);
        return; // never finished: the client must refuse on the announced size
      }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }); // chunked, no length
      const until = Date.now() + 60_000;
      const pump = () => {
        while (!res.destroyed && Date.now() < until && res.write(chunk)) { /* fill the socket */ }
        if (!res.destroyed && Date.now() < until) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    bob = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
  }, 60_000);

  // A failed test must not leave its xchat holding the profile for the next one.
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((x) => x.end(5000).catch(() => undefined)));
  });

  afterAll(async () => {
    await bob?.stop().catch(() => undefined);
    server?.closeAllConnections();
    server?.close();
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('stops an endless download at the limit, and refuses an announced size over it before writing', async () => {
    const x = await startAlice();
    x.send(`/account add ${aliceJid}`);
    x.send(`/account set ${aliceJid} max_download 1M`);
    await x.waitFor((e) => e.event === 'info' && /max_download/.test(e.message), 20_000, 'setting');
    await offer(x, '/endless.bin');
    let mark = x.events.length;
    x.send('/url save');
    const err = await x.waitFor((e) => e.event === 'error' && x.events.indexOf(e) >= mark, 30_000, 'cap error');
    expect(err.message, err.message).toMatch(/over the download limit of 1\.0 MB/);
    expect(await partials()).toEqual([]);
    expect(await readdir(downloads)).toEqual([]);

    await offer(x, '/huge.bin');
    mark = x.events.length;
    x.send('/url save');
    const huge = await x.waitFor((e) => e.event === 'error' && x.events.indexOf(e) >= mark, 30_000, 'huge error');
    expect(huge.message, huge.message).toMatch(/is 2\.0 GB, over the download limit/);
    expect(await readdir(downloads)).toEqual([]);
    expect(await x.end()).toBe(0);
  }, 120_000);

  it('/url cancel stops a download under way; /quit ends at once during one', async () => {
    const x = await startAlice();
    x.send(`/account set ${aliceJid} max_download 10G`);
    await offer(x, '/endless.bin');
    let mark = x.events.length;
    x.send('/url save');
    await downloading(x, mark);
    expect(await partials(), JSON.stringify(x.events.slice(mark))).toHaveLength(1); // presence: the partial file exists while it runs
    mark = x.events.length;
    x.send('/url cancel');
    const err = await x.waitFor((e) => e.event === 'error' && x.events.indexOf(e) >= mark, 20_000, 'cancelled');
    expect(err.message).toMatch(/cancelled: nothing was saved/);
    expect(await readdir(downloads)).toEqual([]);

    mark = x.events.length;
    x.send('/url save');
    await downloading(x, mark);
    const t0 = Date.now();
    x.send('/quit');
    const code = await Promise.race([x.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await readdir(downloads)).toEqual([]);
  }, 120_000);

  it('SIGTERM ends at once during a download; a partial file left by kill -9 is removed on the next start', async () => {
    let x = await startAlice();
    await offer(x, '/endless.bin');
    let mark = x.events.length;
    x.send('/url save');
    await downloading(x, mark);
    x.proc.kill('SIGTERM');
    const code = await Promise.race([x.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
    expect(code).not.toBe('hung');
    expect(await readdir(downloads)).toEqual([]);

    x = await startAlice();
    await offer(x, '/endless.bin');
    mark = x.events.length;
    x.send('/url save');
    await downloading(x, mark);
    await x.kill9();
    const left = await partials();
    expect(left).toHaveLength(1); // what kill -9 leaves behind
    x = await startAlice();
    expect(await partials()).toEqual([]);
    expect(await x.end()).toBe(0);
  }, 120_000);
});
