// Looking through a lab server's data directory: the live tests check that no plaintext, key or
// secret ever reaches the server's storage.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/** Files under `dir` (skipping any over 50 MB) whose bytes contain `needle`. */
export async function grepTree(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await filesUnder(dir)) {
    if ((await stat(f)).size > 50_000_000) continue;
    if ((await readFile(f)).includes(needle)) hits.push(f);
  }
  return hits;
}
