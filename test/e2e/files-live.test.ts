// Live: encrypted file sharing between `xchat run --json` and the python reference peer through
// the lab Prosody's http_file_share (XEP-0363 over https, XEP-0454 aesgcm:// links).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { startXchat, type XchatProc, type XEvent } from '../helpers/xchat.js';
import { filesUnder } from '../helpers/files.js';

const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody and python3-omemo (scripts/install-test-deps)');

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function httpsGet(url: string, ca: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

describe.skipIf(!canRun)('encrypted file sharing with python-omemo over Prosody (live)', () => {
  let lab: Lab;
  let dirs: string;
  let aliceJid: string;
  let bobJid: string;
  let bob: Peer;
  let alice: XchatProc;

  /** Events after index `since` only: each step waits for its own. */
  const after = (since: number, pred: (e: XEvent) => boolean) => (e: XEvent) => alice.events.indexOf(e) >= since && pred(e);

  beforeAll(async () => {
    lab = await startProsody({ name: 'files' });
    aliceJid = await lab.register('alice', 'alice-pw');
    bobJid = await lab.register('bob', 'bob-pw');
    dirs = await mkdtemp(join(tmpdir(), 'xchat-files-'));
    bob = await startPeer({ jid: bobJid, password: 'bob-pw', lab, stateDir: join(dirs, 'bob'), autoSubscribe: true });
    // PATH without xdg-open: /url open must fail with a clear error, not launch anything.
    alice = startXchat({ profile: join(dirs, 'alice'), password: 'alice-pw', caFile: lab.caFile, env: { PATH: '/nonexistent' } });
    alice.send(`/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`);
    await alice.waitFor((e) => e.event === 'status' && e.status === 'online', 30_000, 'online');
    alice.send(`/msg ${bobJid} hello-before-files`);
    const sent = await alice.waitFor((e) => e.event === 'sent' && e.body === 'hello-before-files', 30_000, 'first message');
    expect(sent.encryption).toBe('omemo');
    await bob.waitFor((e) => e.event === 'message' && e.body === 'hello-before-files', 20_000);
  }, 120_000);

  afterAll(async () => {
    await alice?.end(5000).catch(() => undefined);
    await bob?.stop().catch(() => undefined);
    await lab?.stop();
    if (dirs) await rm(dirs, { recursive: true, force: true });
  });

  it('sends a 5 MB file in an OMEMO chat; the peer downloads and decrypts it byte-identical', async () => {
    const marker = Buffer.from('PLAINTEXT-MARKER-THAT-MUST-NOT-REACH-THE-SERVER');
    const data = Buffer.concat([marker, randomBytes(5 * 1024 * 1024 - marker.length)]);
    const file = join(dirs, 'five-mb.bin');
    await writeFile(file, data);
    const since = alice.events.length;
    alice.send(`/sendfile ${file}`);
    const uploaded = await alice.waitFor(after(since, (e) => e.event === 'file' || e.event === 'error'), 60_000, 'upload');
    expect(uploaded, JSON.stringify(alice.events.slice(since).filter((e) => e.event !== 'progress'))).toMatchObject({
      event: 'file',
      action: 'uploaded',
      size: data.length,
      encryption: 'omemo',
    });
    const sent = await alice.waitFor(after(since, (e) => e.event === 'sent'), 20_000, 'sent link');
    expect(sent.encryption).toBe('omemo');
    expect(sent.body).toMatch(/^aesgcm:\/\/localhost:\d+\/.+#[0-9a-f]{88}$/);
    const progress = alice.events.slice(since).filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThan(2);
    expect(progress[progress.length - 1]).toMatchObject({ direction: 'upload', bytes: data.length, total: data.length });

    // The peer gets the link only inside OMEMO, and the server stores ciphertext (plain + 16 bytes).
    const got = await bob.waitFor((e) => e.event === 'message' && typeof e.body === 'string' && e.body.startsWith('aesgcm://'), 20_000);
    expect(got.encrypted).toBe(true);
    expect(got.body).toBe(sent.body);
    const out = join(dirs, 'bob-got.bin');
    const fetched = await bob.request({ cmd: 'fetch_aesgcm', url: got.body, out }, 60_000);
    expect(fetched, JSON.stringify(fetched)).toMatchObject({ event: 'fetched', size: data.length, sha256: sha256(data) });
    expect(sha256(await readFile(out))).toBe(sha256(data));
    const stored = [];
    for (const f of await filesUnder(lab.dir)) {
      const content = await readFile(f);
      expect(content.includes(marker), f).toBe(false);
      if ((await stat(f)).size === data.length + 16) stored.push(f);
    }
    expect(stored.length).toBe(1);
    // The key never reached the server: not in its archive, logs or storage.
    const keyHex = sent.body.split('#')[1];
    for (const f of await filesUnder(lab.dir)) expect((await readFile(f, 'latin1')).includes(keyHex), f).toBe(false);
  }, 120_000);

  for (const ivLen of [12, 16]) {
    it(`saves a file the peer uploaded with a ${ivLen}-byte IV, byte-identical`, async () => {
      const data = randomBytes(300_000 + ivLen);
      const file = join(dirs, `from-bob-${ivLen}.bin`);
      await writeFile(file, data);
      const since = alice.events.length;
      const up = await bob.request({ cmd: 'upload_aesgcm', to: aliceJid, path: file, iv_len: ivLen }, 60_000);
      expect(up.event, JSON.stringify(up)).toBe('uploaded');
      const msg = await alice.waitFor(after(since, (e) => e.event === 'message' && e.body === up.url), 20_000, 'link message');
      expect(msg.encryption).toBe('omemo');
      // Nothing is fetched until asked.
      expect(alice.events.slice(since).some((e) => e.event === 'progress' || e.event === 'file')).toBe(false);

      alice.send('/url list');
      const list = await alice.waitFor(after(since, (e) => e.event === 'info' && /encrypted file links/.test(e.message)), 10_000, 'list');
      const lines = (list.message as string).split('\n').filter((l) => /^\s+\d+\. /.test(l));
      const n = lines.findIndex((l) => l.includes(`from-bob-${ivLen}.bin`)) + 1;
      expect(n, list.message).toBeGreaterThan(0);

      const dest = join(dirs, `alice-saved-${ivLen}.bin`);
      alice.send(`/url save ${n} ${dest}`);
      const saved = await alice.waitFor(after(since, (e) => e.event === 'file' || e.event === 'error'), 60_000, 'saved');
      expect(saved, JSON.stringify(saved)).toMatchObject({ event: 'file', action: 'saved', path: dest, size: data.length });
      expect(sha256(await readFile(dest))).toBe(sha256(data));
      expect(existsSync(`${dest}.xchat-part`)).toBe(false);
      const progress = alice.events.slice(since).filter((e) => e.event === 'progress');
      expect(progress[progress.length - 1]).toMatchObject({ direction: 'download', bytes: data.length, total: data.length });

      // Saving again to the same path never overwrites it.
      const again = alice.events.length;
      alice.send(`/url save ${n} ${dest}`);
      const refused = await alice.waitFor(after(again, (e) => e.event === 'error'), 10_000, 'refused overwrite');
      expect(refused.message).toMatch(/already exists/);
    }, 120_000);
  }

  it('refuses a tampered file and leaves no partial file behind', async () => {
    const data = randomBytes(200_000);
    const file = join(dirs, 'tampered.bin');
    await writeFile(file, data);
    const since = alice.events.length;
    const up = await bob.request({ cmd: 'upload_aesgcm', to: aliceJid, path: file, tamper: true }, 60_000);
    expect(up.event, JSON.stringify(up)).toBe('uploaded');
    await alice.waitFor(after(since, (e) => e.event === 'message' && e.body === up.url), 20_000, 'link message');
    const dest = join(dirs, 'alice-tampered.bin');
    alice.send(`/url save ${dest}`); // the newest link
    const err = await alice.waitFor(after(since, (e) => e.event === 'error' || e.event === 'file'), 60_000, 'verification');
    expect(err.event).toBe('error');
    expect(err.message).toMatch(/failed verification/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.xchat-part`)).toBe(false);
    // /url open on a link that was never saved says so.
    const o = alice.events.length;
    alice.send('/url open');
    expect((await alice.waitFor(after(o, (e) => e.event === 'error'), 10_000, 'open unsaved')).message).toMatch(/not saved/);
  }, 120_000);

  it('/url open without xdg-open installed is a clear error', async () => {
    alice.send('/url list');
    const since = alice.events.length;
    alice.send('/url open 1');
    const err = await alice.waitFor(after(since, (e) => e.event === 'error' || (e.event === 'info' && /opened/.test(e.message))), 10_000, 'open');
    expect(err.event).toBe('error');
    expect(err.message).toMatch(/xdg-open is not installed/);
  });

  it('refuses a file larger than the service allows, before uploading anything', async () => {
    // Exactly the limit in plaintext: the GCM tag makes it 16 bytes too big.
    const file = join(dirs, 'too-big.bin');
    await writeFile(file, Buffer.alloc(10 * 1024 * 1024));
    const since = alice.events.length;
    alice.send(`/sendfile ${file}`);
    const err = await alice.waitFor(after(since, (e) => e.event === 'error' || e.event === 'file'), 30_000, 'refusal');
    expect(err.event).toBe('error');
    expect(err.message).toMatch(/too large.*10485776 bytes.*at most.*10485760 bytes/);
    expect(alice.events.slice(since).some((e) => e.event === 'progress' || e.event === 'sent')).toBe(false);
  }, 60_000);

  it('in a plaintext chat sends the https link (with OOB); the file on the server is the plain file', async () => {
    const data = randomBytes(100_000);
    const file = join(dirs, 'plain.bin');
    await writeFile(file, data);
    alice.send('/omemo end');
    await alice.waitFor((e) => e.event === 'chat' && e.encryption === 'none', 10_000, 'plaintext chat');
    const since = alice.events.length;
    alice.send(`/sendfile ${file}`);
    const sent = await alice.waitFor(after(since, (e) => e.event === 'sent' || e.event === 'error'), 60_000, 'sent');
    expect(sent).toMatchObject({ event: 'sent', encryption: 'none' });
    expect(sent.body).toMatch(/^https:\/\/localhost:\d+\/.+plain\.bin$/);
    const got = await bob.waitFor((e) => e.event === 'message' && e.body === sent.body, 20_000);
    expect(got.encrypted).toBe(false);
    expect(sha256(await httpsGet(sent.body, await readFile(lab.caFile, 'utf8')))).toBe(sha256(data));
    alice.send('/omemo start');
  }, 60_000);

  it('bad input gets clear errors', async () => {
    const since = alice.events.length;
    alice.send(`/sendfile ${join(dirs, 'does-not-exist.bin')}`);
    alice.send(`/sendfile ${dirs}`);
    alice.send('/url save 99');
    alice.send('/url save 0');
    // Transfers run in the background: their errors may come in any order.
    for (const re of [/no such file/, /not a regular file/, /no link 99/, /is not a link number/]) {
      await alice.waitFor(after(since, (e) => e.event === 'error' && re.test(e.message)), 10_000, String(re));
    }
  });
});
