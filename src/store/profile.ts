// The profile directory: where it is, how files in it are written, and who may use it.
// Key material lives here, so directories are 0700, files 0600, and every write is atomic
// (temp + fsync + rename + fsync dir): a crash leaves either the old or the new content.
import { promises as fsp, constants as fsc, openSync, closeSync, writeSync, readFileSync, unlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { logged, reportCaught, settled } from '../lib/diagnostics.js';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** `--profile DIR`, else `$XDG_DATA_HOME/xchat`, else `~/.local/share/xchat`. */
export function resolveProfileDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return path.resolve(explicit);
  const xdg = env.XDG_DATA_HOME;
  // XDG says relative values are invalid and must be ignored.
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'xchat');
  return path.join(env.HOME || os.homedir(), '.local', 'share', 'xchat');
}

/** mkdir -p with 0700; an existing directory is tightened to 0700 too. */
export async function ensureDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
  await fsp.chmod(dir, DIR_MODE);
}

let tmpCounter = 0;
/** Temp files sit next to their target (same filesystem, so rename is atomic). */
export function isTempFile(name: string): boolean {
  return name.includes('.tmp-');
}

// Writes to one path are serialized: two overlapping writes could otherwise rename out of order
// and leave the older content in place.
const writeChains = new Map<string, Promise<void>>();

/**
 * Durably replaces `file` with `data`: temp file (mode 0600) + fsync + rename + fsync of the
 * directory. Resolves only once the new content survives a crash.
 */
export function atomicWriteFile(file: string, data: Uint8Array | string, mode = FILE_MODE): Promise<void> {
  const key = path.resolve(file);
  const prev = writeChains.get(key) ?? Promise.resolve();
  const next = prev.then(
    () => doAtomicWrite(key, data, mode),
    () => doAtomicWrite(key, data, mode),
  );
  const tail = settled(next); // the caller gets the failure
  writeChains.set(key, tail);
  void tail.then(() => {
    if (writeChains.get(key) === tail) writeChains.delete(key);
  });
  return next;
}

async function doAtomicWrite(file: string, data: Uint8Array | string, mode: number): Promise<void> {
  const dir = path.dirname(file);
  const tmp = `${file}.tmp-${process.pid}-${++tmpCounter}`;
  const fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode);
  try {
    // umask can only remove bits, but an explicit chmod also documents the intent.
    await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(logged('store: close a failed temp file'));
    await fsp.unlink(tmp).catch(logged('store: remove a failed temp file'));
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.unlink(tmp).catch(logged('store: remove a temp file after a failed rename'));
    throw e;
  }
  await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const dh = await fsp.open(dir, fsc.O_RDONLY);
  try {
    await dh.sync();
  } catch (e) {
    // Some filesystems refuse fsync on directories (EINVAL); the rename is still atomic there.
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') reportCaught(`store: fsync directory ${dir}`, e, 'warn');
  } finally {
    await dh.close();
  }
}

/** Reads a file, or undefined when it does not exist. */
export async function readFileIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

// ---- one running instance per profile ------------------------------------------------------

export const LOCK_NAME = 'xchat.lock';

export class ProfileLockedError extends Error {
  readonly pid: number;
  readonly dir: string;
  constructor(dir: string, pid: number) {
    super(`profile ${dir} is in use by xchat pid ${pid}`);
    this.name = 'ProfileLockedError';
    this.dir = dir;
    this.pid = pid;
  }
}

export interface ProfileLock {
  readonly dir: string;
  readonly file: string;
  /** Removes the lock file (idempotent). Also happens automatically on process exit. */
  release(): void;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLockPid(file: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Takes the profile lock: a file holding our pid, created with O_EXCL. A lock whose pid is alive
 * (including our own process: two sessions on one profile in one process corrupt state just as
 * well) throws ProfileLockedError; a lock left by a dead process is taken over.
 */
export async function acquireLock(dir: string): Promise<ProfileLock> {
  await ensureDir(dir);
  const file = path.join(dir, LOCK_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, FILE_MODE);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = readLockPid(file);
      if (pid !== undefined && pidAlive(pid)) throw new ProfileLockedError(dir, pid);
      // Stale (dead pid, or empty/garbled because its writer died between create and write).
      try {
        unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    // No fsync: the lock only means something while this process lives, and after a crash a
    // lock file that did not survive is as good as the stale one that would be taken over.
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.removeListener('exit', release);
      // Only remove the file if it is still ours.
      if (readLockPid(file) === process.pid) {
        try {
          unlinkSync(file);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') reportCaught(`store: remove lock ${file}`, e, 'warn');
        }
      }
    };
    process.on('exit', release);
    return { dir, file, release };
  }
  const pid = readLockPid(file);
  throw new ProfileLockedError(dir, pid ?? -1);
}
