// Caught-and-survived errors go to the profile's xchat.log (rotated by size) and, with --debug, to
// stderr; none is dropped, including those reported before the log was opened.
import { mkdtempSync, readFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addDiagnosticSink, logged, reportCaught, recentDiagnostics } from '../../src/lib/diagnostics.js';
import { openDiagnosticsLog, diagnosticsLogPath } from '../../src/store/diagnostics-log.js';
import { createAccountSession } from '../../src/core/index.js';

const removals: (() => void)[] = [];
afterEach(() => {
  for (const r of removals.splice(0)) r();
  vi.restoreAllMocks();
});

describe('diagnostics log', () => {
  it('appends one line per caught error to xchat.log, private to the user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xchat-diag-'));
    removals.push(addDiagnosticSink(openDiagnosticsLog(dir)));
    reportCaught('files: remove a partial download', new Error('EACCES: permission denied'));
    await Promise.reject(new Error('timed out')).catch(logged('session: fetch own device list'));
    const text = readFileSync(diagnosticsLogPath(dir), 'utf8');
    expect(text).toMatch(/ERROR \[files: remove a partial download\] EACCES: permission denied/);
    expect(text).toMatch(/WARN \[session: fetch own device list\] timed out/);
    expect(statSync(diagnosticsLogPath(dir)).mode & 0o777).toBe(0o600);
  });

  it('rotates by size: xchat.log.1, .2 …, the oldest dropped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xchat-diag-'));
    removals.push(addDiagnosticSink(openDiagnosticsLog(dir, { maxBytes: 300, keep: 2 })));
    for (let i = 0; i < 20; i++) reportCaught(`step ${i}`, `failure number ${i}`, 'warn');
    const log = diagnosticsLogPath(dir);
    expect(existsSync(`${log}.1`)).toBe(true);
    expect(existsSync(`${log}.2`)).toBe(true);
    expect(existsSync(`${log}.3`)).toBe(false);
    expect(statSync(log).size).toBeLessThanOrEqual(300);
    expect(readFileSync(log, 'utf8')).toContain('failure number 19');
  });

  it('a sink added later gets what was reported before it (replay)', () => {
    reportCaught('early', new Error('before any sink'));
    const seen: string[] = [];
    removals.push(addDiagnosticSink((e) => seen.push(e.message), { replay: true }));
    expect(seen).toContain('before any sink');
    expect(recentDiagnostics().at(-1)?.message).toBe('before any sink');
  });

  it('the session writes to the profile log, and with debug to stderr too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xchat-diag-'));
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const s = await createAccountSession({ profileDir: dir, debug: true });
    reportCaught('probe', new Error('while the session is open'));
    await s.close();
    reportCaught('probe', new Error('after the session closed'));
    const text = readFileSync(diagnosticsLogPath(dir), 'utf8');
    expect(text).toContain('while the session is open');
    expect(text).not.toContain('after the session closed');
    expect(written.join('')).toContain('while the session is open');
  });
});
