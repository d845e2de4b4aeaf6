// FilesCore without a network: which links are noted per chat, numbering, and the checks made
// before any transfer (size limit, missing file, unsaved link, missing opener).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesCore, type FilesDeps, type UploadPort } from '../../src/core/files.js';
import type { XchatEvent } from '../../src/core/api.js';

const FRAG = 'ab'.repeat(44);
const link = (name: string) => `aesgcm://up.example/slot/${name}#${FRAG}`;
const msg = (from: string, body: string, extra: Partial<XchatEvent> = {}): XchatEvent =>
  ({ event: 'message', from, to: 'me@example.org', body, encryption: 'omemo', stamp: '2024-01-01T00:00:00Z', ...extra }) as XchatEvent;

function core(over: Partial<FilesDeps> = {}) {
  const events: XchatEvent[] = [];
  const calls: string[] = [];
  const upload: UploadPort = {
    discover: async () => ({ jid: 'up.example', maxFileSize: 100 }),
    requestSlot: async () => {
      calls.push('slot');
      throw new Error('no slot in this test');
    },
    sendOob: async () => undefined,
  };
  const files = new FilesCore({
    emit: (e) => events.push(e),
    upload: () => upload,
    chatEncryption: async () => 'omemo',
    sendEncrypted: async () => undefined,
    ...over,
  });
  return { files, events, calls };
}

describe('FilesCore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xchat-files-unit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('notes valid aesgcm links of messages per chat, once each; not our sent messages', () => {
    const { files } = core();
    files.observe(msg('bob@example.org/phone', `${link('a.jpg')} and junk aesgcm://x#12`));
    files.observe(msg('bob@example.org/laptop', link('a.jpg')));
    files.observe(msg('carol@example.org/x', link('c.txt')));
    files.observe(msg('me@example.org/other', link('mine.txt'), { to: 'bob@example.org', carbon: 'sent' }));
    files.observe({ event: 'sent', to: 'bob@example.org', id: '1', body: link('sent.txt'), encryption: 'omemo' });
    expect(files.list('Bob@example.org').map((l) => l.name)).toEqual(['a.jpg', 'mine.txt']);
    expect(files.list('carol@example.org').map((l) => l.name)).toEqual(['c.txt']);
    expect(files.describeList('bob@example.org')).toMatch(/1\. a\.jpg from bob@example\.org\/phone/);
    expect(files.describeList('dave@example.org')).toMatch(/no encrypted file links/);
  });

  it('save and open check the link number, and open needs a saved file and an opener', async () => {
    const { files } = core({ opener: 'xchat-no-such-opener' });
    await expect(files.save('bob@example.org')).rejects.toThrow(/no encrypted file links/);
    files.observe(msg('bob@example.org/phone', link('a.jpg')));
    await expect(files.save('bob@example.org', 2)).rejects.toThrow(/no link 2.*1 to 1/);
    await expect(files.open('bob@example.org', 1)).rejects.toThrow(/not saved yet/);
    files.list('bob@example.org'); // copies: callers cannot mark links saved
    const entry = (files as unknown as { links: Map<string, { saved?: string }[]> }).links.get('bob@example.org')![0];
    entry.saved = join(dir, 'a.jpg');
    await expect(files.open('bob@example.org')).rejects.toThrow(/xchat-no-such-opener is not installed/);
  });

  it('refuses a file over the limit counting the tag, before asking for a slot', async () => {
    const { files, calls } = core();
    const f = join(dir, 'ninety.bin');
    await writeFile(f, Buffer.alloc(90)); // 90 + 16 > 100
    await expect(files.sendFile('bob@example.org', f)).rejects.toThrow(/too large.*106 bytes.*at most.*100 bytes/);
    expect(calls).toEqual([]);
    const plain = core({ chatEncryption: async () => 'none' });
    await expect(plain.files.sendFile('bob@example.org', f)).rejects.toThrow(/no slot in this test/); // 90 fits
    expect(plain.calls).toEqual(['slot']);
  });

  it('refuses missing files, directories and offline sends clearly', async () => {
    const { files } = core();
    await expect(files.sendFile('bob@example.org', join(dir, 'nope'))).rejects.toThrow(/no such file/);
    await expect(files.sendFile('bob@example.org', dir)).rejects.toThrow(/not a regular file/);
    const off = core({ upload: () => undefined });
    const f = join(dir, 'small.bin');
    await writeFile(f, 'x');
    await expect(off.files.sendFile('bob@example.org', f)).rejects.toThrow(/not connected/);
  });
});

describe('download limits', () => {
  it('byteCap passes up to the cap and fails the stream past it, writing nothing beyond', async () => {
    const { byteCap } = await import('../../src/core/files.js');
    const { Readable, Writable } = await import('node:stream');
    const { pipeline } = await import('node:stream/promises');
    const got: Buffer[] = [];
    const sink = () => new Writable({ write(c: Buffer, _e, cb) { got.push(c); cb(); } });
    await pipeline(Readable.from([Buffer.alloc(600), Buffer.alloc(400)]), byteCap(1000, () => 'too much'), sink());
    expect(Buffer.concat(got).length).toBe(1000);
    got.length = 0;
    await expect(pipeline(Readable.from([Buffer.alloc(600), Buffer.alloc(401)]), byteCap(1000, (cap) => `over ${cap}`), sink())).rejects.toThrow('over 1000');
    expect(Buffer.concat(got).length).toBe(600);
  });

  it('max_download sizes: K/M/G are powers of 1024; junk is refused', async () => {
    const { parseSize } = await import('../../src/store/account-store.js');
    expect(parseSize('100M')).toBe(100 * 1024 ** 2);
    expect(parseSize('2G')).toBe(2 * 1024 ** 3);
    expect(parseSize('512k')).toBe(512 * 1024);
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('10MiB')).toBe(10 * 1024 ** 2);
    for (const bad of ['', '0', '-1M', '1T', 'lots', '1.5M']) expect(() => parseSize(bad)).toThrow(/invalid size/);
  });
});
