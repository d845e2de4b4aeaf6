// `xchat run|send|listen` must not load ink or react (start-up cost); only the TUI path does.
// A resolve hook records every module the process loads while the CLI runs `xchat run`.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '../..');

describe('module graph', () => {
  it('xchat run (and the CLI module behind send/listen) loads no ink/react; the TUI module does', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'xchat-noink-'));
    try {
      const trace = path.join(dir, 'trace.txt');
      const script = `
        import { appendFileSync } from 'node:fs';
        import { Readable, PassThrough } from 'node:stream';
        const { runCli } = await import('./src/cli.ts');
        const sink = new PassThrough(); sink.resume();
        const code = await runCli(['run', '--profile', ${JSON.stringify(path.join(dir, 'profile'))}], {
          stdin: Readable.from(['/help\\n', '/quit\\n']), stdout: sink, stderr: sink, env: {},
        });
        appendFileSync(process.env.TRACE_FILE, 'MARK exit ' + code + '\\n');
        await import('./src/tui.ts');
      `;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/ui/fixtures/trace-register.mjs', '--input-type=module', '-e', script], {
        cwd: repo,
        encoding: 'utf8',
        env: { ...process.env, TRACE_FILE: trace },
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      const lines = readFileSync(trace, 'utf8').split('\n');
      const mark = lines.findIndex((l) => l.startsWith('MARK'));
      expect(lines[mark]).toBe('MARK exit 0');
      const uiLib = (l: string) => /\/node_modules\/(ink|react|react-reconciler)\//.test(l);
      const before = lines.slice(0, mark);
      expect(before.some((l) => l.endsWith('/src/cli.ts'))).toBe(true);
      expect(before.some((l) => l.includes('/src/core/'))).toBe(true);
      expect(before.filter(uiLib)).toEqual([]);
      // The hook does see ink when the TUI is loaded: the check above can fail.
      expect(lines.slice(mark).some(uiLib)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
