import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireLock, atomicWriteFile, resolveProfileDir, ProfileLockedError, LOCK_NAME, ensureDir } from '../../src/store/profile.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'xchat-profile-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('resolveProfileDir', () => {
  it('prefers --profile, then XDG_DATA_HOME, then ~/.local/share', () => {
    expect(resolveProfileDir('rel/dir', {})).toBe(path.resolve('rel/dir'));
    expect(resolveProfileDir(undefined, { XDG_DATA_HOME: '/x/data', HOME: '/home/u' })).toBe('/x/data/xchat');
    expect(resolveProfileDir(undefined, { XDG_DATA_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.local/share/xchat');
    expect(resolveProfileDir(undefined, { HOME: '/home/u' })).toBe('/home/u/.local/share/xchat');
  });
});

describe('atomicWriteFile', () => {
  it('writes 0600 files in 0700 dirs and replaces content atomically', async () => {
    const dir = path.join(root, 'a', 'b');
    await ensureDir(dir);
    const f = path.join(dir, 'x.json');
    await atomicWriteFile(f, 'one');
    await atomicWriteFile(f, new TextEncoder().encode('two'));
    expect(readFileSync(f, 'utf8')).toBe('two');
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual(['x.json']);
  });

  it('overlapping writes to one path end with the last one', async () => {
    const f = path.join(root, 'y');
    await Promise.all(Array.from({ length: 20 }, (_, i) => atomicWriteFile(f, String(i))));
    expect(readFileSync(f, 'utf8')).toBe('19');
  });
});

describe('acquireLock', () => {
  it('a second lock on the same profile fails with a clear message; release frees it', async () => {
    const dir = path.join(root, 'p');
    const lock = await acquireLock(dir);
    expect(readFileSync(path.join(dir, LOCK_NAME), 'utf8').trim()).toBe(String(process.pid));
    await expect(acquireLock(dir)).rejects.toThrow(`profile ${dir} is in use by xchat pid ${process.pid}`);
    lock.release();
    expect(existsSync(path.join(dir, LOCK_NAME))).toBe(false);
    const again = await acquireLock(dir);
    again.release();
  });

  it('a lock held by another live process is refused', async () => {
    const dir = path.join(root, 'p');
    await ensureDir(dir);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(path.join(dir, LOCK_NAME), `${child.pid}\n`);
      const err = await acquireLock(dir).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ProfileLockedError);
      expect((err as ProfileLockedError).pid).toBe(child.pid);
      expect(readFileSync(path.join(dir, LOCK_NAME), 'utf8').trim()).toBe(String(child.pid));
    } finally {
      child.kill();
    }
  });

  it('a stale lock (dead pid) is taken over', async () => {
    const dir = path.join(root, 'p');
    await ensureDir(dir);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    expect(deadPid).toBeGreaterThan(0);
    writeFileSync(path.join(dir, LOCK_NAME), `${deadPid}\n`);
    const lock = await acquireLock(dir);
    expect(readFileSync(path.join(dir, LOCK_NAME), 'utf8').trim()).toBe(String(process.pid));
    expect(statSync(path.join(dir, LOCK_NAME)).mode & 0o777).toBe(0o600);
    lock.release();
  });

  it('the lock file is removed when the process exits', () => {
    const dir = path.join(root, 'p');
    const script = `import('${path.resolve('src/store/profile.ts')}').then(m => m.acquireLock(${JSON.stringify(dir)})).then(() => console.log('locked'))`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    expect(r.stdout).toContain('locked');
    expect(existsSync(path.join(dir, LOCK_NAME))).toBe(false);
  });
});
