// Every caught-and-survived error goes somewhere (the diagnostics sink, an event, the caller):
// src/ holds no catch that drops an error without a trace.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : /\.tsx?$/.test(d.name) && !d.name.endsWith('.d.ts') ? [join(dir, d.name)] : [],
  );
}

/** `.catch(() => undefined)`, `.catch(() => {})` and the like: a rejection turned into nothing. */
const SWALLOWING_CALLBACK = /\.catch\(\s*(?:async\s*)?\(\s*\w*\s*\)\s*=>\s*(?:undefined|null|void 0|false|true|\{\s*\}|\[\s*\]|''|0)\s*\)/g;

/** `.then(ok, () => undefined)`: the rejection handler of a then() that drops the error. */
const SWALLOWING_THEN = /,\s*(?:async\s*)?\(\s*\w*\s*\)\s*=>\s*(?:undefined|null|void 0|false|true|\{\s*\}|\[\s*\]|''|0)\s*,?\s*\)/g;

/** The one place allowed to settle a promise without its error: settled(), for queue tails. */
const SETTLED_HELPER = 'lib/diagnostics.ts';

/** Bodies of `catch { … }` / `catch (e) { … }` blocks, with their line numbers. */
function catchBlocks(text: string): { line: number; body: string; variable?: string }[] {
  const out: { line: number; body: string; variable?: string }[] = [];
  const re = /\bcatch\s*(?:\(\s*(\w*)\s*\))?\s*\{/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
    }
    out.push({ line: text.slice(0, m.index).split('\n').length, body: text.slice(m.index + m[0].length, i - 1), ...(m[1] ? { variable: m[1] } : {}) });
  }
  return out;
}

/** A block that passes the error on (throw, reject, event, report), turns it into a result, or uses it. */
const HANDLES = /\b(?:throw|return|reject|reportCaught|logged|emit|error|warn|warning|fail|cb|callback|write|push|resolve|onError|report)\b/;

function stripComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
}

export function silentCatches(files: string[]): string[] {
  const found: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const rel = f.slice(SRC.length + 1);
    for (const m of text.matchAll(SWALLOWING_CALLBACK)) found.push(`${rel}:${text.slice(0, m.index).split('\n').length}: ${m[0]}`);
    if (!rel.endsWith(SETTLED_HELPER)) {
      for (const m of text.matchAll(SWALLOWING_THEN)) found.push(`${rel}:${text.slice(0, m.index).split('\n').length}: then(…${m[0].replace(/\s+/g, ' ')}`);
    }
    for (const b of catchBlocks(text)) {
      const code = stripComments(b.body).trim();
      const usesError = b.variable !== undefined && new RegExp(`\\b${b.variable}\\b`).test(code);
      if (code === '' || !(HANDLES.test(code) || usesError)) found.push(`${rel}:${b.line}: catch { ${code.slice(0, 60) || '(empty)'} }`);
    }
  }
  return found;
}

describe('no silent catch in src/', () => {
  it('the checker finds each swallowing shape (so it cannot pass vacuously)', () => {
    const probe = join(import.meta.dirname, 'fixtures', 'silent-catch-probe.ts.txt');
    const hits = silentCatches([probe]).map((h) => h.replace(/^.*?:(\d+):.*$/, '$1'));
    expect(hits).toEqual(['3', '4', '5', '28', '8', '13']);
  });

  it('src/ has none', () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(50);
    expect(silentCatches(files)).toEqual([]);
  });
});
