// Locates the shared test vectors, which are read in place and never copied into the repository.
// XCHAT_VECTORS_DIR overrides the default ../shared/vectors next to the repository root;
// XCHAT_WYCHEPROOF_DIR may point at the Wycheproof folder alone.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const vectorsDir = process.env.XCHAT_VECTORS_DIR
  ? path.resolve(process.env.XCHAT_VECTORS_DIR)
  : path.resolve(repoRoot, '../shared/vectors');

export const wycheproofDir = process.env.XCHAT_WYCHEPROOF_DIR
  ? path.resolve(process.env.XCHAT_WYCHEPROOF_DIR)
  : path.join(vectorsDir, 'wycheproof');

const isCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Absolute path of a vector file, or null (with a message) when it is absent. Under CI=true a
 * missing vector is a failure, because a suite that silently skips proves nothing.
 */
export function vectorPath(file: string, dir: string = vectorsDir): string | null {
  const p = path.join(dir, file);
  if (existsSync(p)) return p;
  const msg = `test vectors not found: ${p} (set XCHAT_VECTORS_DIR)`;
  if (isCI) throw new Error(msg);
  console.warn(`${msg}; skipping`);
  return null;
}

/** Parsed JSON of a vector file, or null when absent outside CI. */
export function loadVectors<T = any>(file: string, dir: string = vectorsDir): T | null {
  const p = vectorPath(file, dir);
  return p === null ? null : (JSON.parse(readFileSync(p, 'utf8')) as T);
}

export function loadWycheproof<T = any>(file: string): T | null {
  return loadVectors<T>(file, wycheproofDir);
}

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
