// The profile's cache of salted SCRAM keys: private file, one entry per account, a broken file
// moved aside (it is only a cache), entries gone with the account.
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCRAM_KEYS_FILE, ScramKeyStore } from '../../src/store/scram-keys.js';

const keys = (n: number) => ({ clientKey: Buffer.alloc(32, n), serverKey: Buffer.alloc(32, n + 1) });

describe('ScramKeyStore', () => {
  it('keeps the newest keys of each account in a 0600 file, and reads them back after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xchat-scram-'));
    const store = await ScramKeyStore.open(dir, () => undefined);
    await store.set('alice@example.org sha256 4096 c2FsdA==', keys(1));
    await store.set('bob@example.org sha1 4096 c2FsdA==', keys(3));
    await store.set('alice@example.org sha256 4096 bmV3c2FsdA==', keys(5)); // a new salt replaces the old entry
    expect((await stat(join(dir, SCRAM_KEYS_FILE))).mode & 0o777).toBe(0o600);
    const again = await ScramKeyStore.open(dir, () => undefined);
    expect(again.get('alice@example.org sha256 4096 c2FsdA==')).toBeUndefined();
    expect(again.get('alice@example.org sha256 4096 bmV3c2FsdA==')?.clientKey).toEqual(keys(5).clientKey);
    expect(again.get('bob@example.org sha1 4096 c2FsdA==')?.serverKey).toEqual(keys(3).serverKey);
    const text = await readFile(join(dir, SCRAM_KEYS_FILE), 'utf8');
    expect(text).not.toMatch(/password/i);
    await again.forget('bob@example.org');
    expect(again.get('bob@example.org sha1 4096 c2FsdA==')).toBeUndefined();
    expect(again.get('alice@example.org sha256 4096 bmV3c2FsdA==')).toBeDefined();
  });

  it('a broken file is moved aside and reported; the cache starts empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xchat-scram-'));
    await writeFile(join(dir, SCRAM_KEYS_FILE), '{ not json');
    const notes: string[] = [];
    const store = await ScramKeyStore.open(dir, (m) => notes.push(m));
    expect(notes).toEqual([expect.stringMatching(/could not be read .* moved to .*unreadable/)]);
    expect(store.get('alice@example.org sha1 4096 c2FsdA==')).toBeUndefined();
    expect((await readdir(dir)).some((f) => f.startsWith(`${SCRAM_KEYS_FILE}.unreadable-`))).toBe(true);
  });
});
