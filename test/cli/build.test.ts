// The bundled CLI (scripts/build.mjs, what bin/xchat runs): it starts, and the code that
// `xchat run|send|listen` load statically holds no ink/react (a chunk imported dynamically on the
// TUI path only), nor the XMPP and OMEMO code: src/core/index.ts imports those once the profile
// is open, so a connection can start before the rest is read.
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
  it('builds, runs --help, and loads only the profile code statically', () => {
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
      expect(eager.length).toBeGreaterThan(1);
      const text = eager.map((f) => readFileSync(f, 'utf8')).join('\n');
      // String literals survive minifying: the accounts file (a shared chunk: the scan works),
      // the OMEMO namespace (xmpp and omemo code), SCRAM (@xmpp/client), Ink's element names.
      expect(text).toContain('accounts.json');
      for (const lazy of ['eu.siacs.conversations.axolotl', 'SCRAM-SHA-1']) {
        expect(text).not.toContain(lazy);
        // …while the bundle as a whole does contain them, in chunks loaded by import().
        const all = spawnSync('grep', ['-rl', lazy, out], { encoding: 'utf8' }).stdout.trim().split('\n');
        expect(all.some((f) => f.endsWith('.js') && !eager.includes(f))).toBe(true);
      }
      expect(text).not.toMatch(/ink-text|ink-box|useSyncExternalStore/);

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
