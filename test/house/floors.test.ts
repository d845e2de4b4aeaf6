// The floors of docs/architecture.md are checked by dependency-cruiser in `npm test`. This makes
// sure its rules bite: a probe tree with an upward import, I/O in src/omemo and a cycle is refused
// for each of them, while src/ itself passes.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

function cruise(cwd: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(BIN, ['src', '--config', CONFIG, '--output-type', 'err'], { cwd, encoding: 'utf8' }) };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('floor rules (dependency-cruiser)', () => {
  it('refuse an upward import, I/O in src/omemo and a cycle', () => {
    const r = cruise(join(import.meta.dirname, 'fixtures', 'floors'));
    expect(r.ok).toBe(false);
    expect(r.out).toContain('omemo-imports-down-only');
    expect(r.out).toContain('omemo-and-lib-do-no-io');
    expect(r.out).toContain('no-cycle');
    expect(r.out).not.toContain('src/lib/fine.ts');
  }, 60_000);

  it('src/ keeps them', () => {
    const r = cruise(ROOT);
    expect(r.out).toContain('no dependency violations found');
    expect(r.ok).toBe(true);
  }, 60_000);
});
