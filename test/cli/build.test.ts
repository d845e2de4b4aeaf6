// The bundled CLI (scripts/build.mjs, what bin/xchat runs): it starts, and the code that
// `xchat run|send|listen` load statically holds no ink/react: those sit in a chunk imported
// dynamically on the TUI path only.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '../..');

/** Files reachable from `file` through static `import … from "./x.js"` (not import()). */
function staticGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/(?:^|[;\n}])\s*import\s*(?:[\w${},\s*]+from\s*)?["'](\.[^"']+)["']/g)) {
    staticGraph(path.resolve(path.dirname(file), m[1]), seen);
  }
  return seen;
}

describe('bundle', () => {
  it('builds, runs --help, and keeps ink/react out of the statically loaded code', () => {
    // Inside the repo so the external better-sqlite3 resolves from node_modules.
    const cache = path.join(repo, 'node_modules/.cache');
    mkdirSync(cache, { recursive: true });
    const out = mkdtempSync(path.join(cache, 'xchat-build-test-'));
    try {
      const b = spawnSync(process.execPath, ['scripts/build.mjs', '--outdir', out], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
      expect(b.stderr).toBe('');
      expect(b.status).toBe(0);

      const cli = path.join(out, 'cli.js');
      const eager = [...staticGraph(cli)];
      expect(eager.length).toBeGreaterThan(1); // the shared core chunk is found: the scan works
      const text = eager.map((f) => readFileSync(f, 'utf8')).join('\n');
      // String literals survive minifying: the OMEMO namespace (core), Ink's element names.
      expect(text).toContain('eu.siacs.conversations.axolotl');
      expect(text).not.toMatch(/ink-text|ink-box|useSyncExternalStore/);
      // …while the bundle as a whole does contain them (the TUI chunk, loaded by import()).
      const all = spawnSync('grep', ['-rl', 'ink-text', out], { encoding: 'utf8' }).stdout.trim().split('\n');
      expect(all.some((f) => f.endsWith('.js') && !eager.includes(f))).toBe(true);

      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const { runCli } = await import(${JSON.stringify(cli)}); process.exitCode = await runCli(['--help']);`], {
        cwd: repo,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Usage: xchat/);
      expect(r.stdout).toMatch(/send/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
