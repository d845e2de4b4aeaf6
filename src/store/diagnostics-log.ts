// The profile's diagnostics log, xchat.log (as Profanity keeps profanity.log): one line per caught
// and survived error, rotated by size so it never grows without bound.
import { appendFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic, type DiagnosticEntry, type DiagnosticSink } from '../lib/diagnostics.js';

export const DIAGNOSTICS_FILE = 'xchat.log';
const MAX_BYTES = 1024 * 1024;
const KEPT_FILES = 3;

export function diagnosticsLogPath(profileDir: string): string {
  return join(profileDir, DIAGNOSTICS_FILE);
}

/** A sink appending to `<profile>/xchat.log`; at `maxBytes` it becomes xchat.log.1 (and so on). */
export function openDiagnosticsLog(profileDir: string, opts: { maxBytes?: number; keep?: number } = {}): DiagnosticSink {
  const file = diagnosticsLogPath(profileDir);
  const maxBytes = opts.maxBytes ?? MAX_BYTES;
  const keep = opts.keep ?? KEPT_FILES;
  let size = Math.max(0, sizeOf(file));
  return (entry: DiagnosticEntry) => {
    const text = `${formatDiagnostic(entry)}\n${entry.stack && entry.level === 'error' ? indent(entry.stack) : ''}`;
    if (size > 0 && size + Buffer.byteLength(text) > maxBytes) {
      rotate(file, keep);
      size = 0;
    }
    appendFileSync(file, text, { mode: 0o600 });
    size += Buffer.byteLength(text);
  };
}

/** A sink writing each entry as one line to a stream (--debug: stderr). */
export function streamSink(out: NodeJS.WritableStream): DiagnosticSink {
  return (entry) => {
    out.write(`${formatDiagnostic(entry)}\n`);
  };
}

function rotate(file: string, keep: number): void {
  rmSync(`${file}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) {
    if (sizeOf(`${file}.${i}`) >= 0) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
  }
  renameSync(file, `${file}.1`);
}

/** Size in bytes, -1 when the file does not exist. */
function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw e;
  }
}

function indent(stack: string): string {
  return stack
    .split('\n')
    .slice(1, 8)
    .map((l) => `    ${l.trim()}\n`)
    .join('');
}
