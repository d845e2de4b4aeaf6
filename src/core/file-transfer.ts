// The plumbing of file transfers: HTTP PUT/GET streamed end to end, byte caps, progress counting,
// file names. FilesCore (files.ts) decides what to transfer.
import { stat } from 'node:fs/promises';
import https from 'node:https';
import type { Agent, IncomingMessage as HttpResponse } from 'node:http';
import { homedir } from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { UploadSlot } from '../xmpp/upload.js';
import { settled } from '../lib/diagnostics.js';

/** A transfer with no progress for this long is given up. */
export const IDLE_TIMEOUT_MS = 60_000;

export class DownloadCancelled extends Error {
  constructor(name: string) {
    super(`download of ${name} cancelled: nothing was saved`);
    this.name = 'DownloadCancelled';
  }
}

/**
 * Fails the stream once more than `cap` bytes arrived: more than the server announced, or more
 * than the user allows. Nothing past the cap reaches the disk.
 */
export function byteCap(cap: number, describe: (cap: number) => string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      seen += chunk.length;
      if (seen > cap) cb(new Error(describe(cap)));
      else cb(null, chunk);
    },
  });
}

export function human(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < u.length - 1);
  return `${v.toFixed(1)} ${u[i]}`;
}

export function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? path.join(homedir(), p.slice(2)) : p;
}

export async function exists(p: string): Promise<boolean> {
  return (await statIfExists(p)) !== undefined;
}

/** Counts bytes passing through and reports whole-percent steps (at most ~100 events a file). */
export function progressCounter(total: number, report: (done: number) => void): Transform {
  let done = 0;
  let lastPct = -1;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      done += chunk.length;
      const pct = total > 0 ? Math.floor((done * 100) / total) : 100;
      if (pct !== lastPct) {
        lastPct = pct;
        report(done);
      }
      cb(null, chunk);
    },
  });
}

// ---- HTTP -----------------------------------------------------------------------------------
// node:https with the default CA store (NODE_EXTRA_CA_CERTS included); verification is never off.

export async function httpPut(slot: UploadSlot, size: number, stages: (Readable | Transform)[], agent?: Agent): Promise<void> {
  const req = https.request(slot.putUrl, {
    ...(agent ? { agent } : {}),
    method: 'PUT',
    headers: { ...slot.putHeaders, 'Content-Length': String(size), 'Content-Type': 'application/octet-stream' },
  });
  req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error('upload stalled (no progress for 60 s)')));
  const response = new Promise<HttpResponse>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  void settled(response); // its failure is reported through the pipeline or below
  try {
    await pipeline([...stages, req] as unknown as [Readable, NodeJS.WritableStream]);
  } catch (e) {
    req.destroy();
    throw new Error(`upload failed: ${(e as Error).message}`);
  }
  const res = await response.catch((e: Error) => {
    throw new Error(`upload failed: ${e.message}`);
  });
  res.resume();
  // XEP-0363 says 201 Created; some servers answer 200 for the same success.
  if (res.statusCode !== 201 && res.statusCode !== 200) {
    throw new Error(`upload refused by ${new URL(slot.putUrl).host}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim());
  }
}

export function httpGet(url: string, signal?: AbortSignal, agent?: Agent): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...(signal ? { signal } : {}), ...(agent ? { agent } : {}) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`download of ${url} failed: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      resolve(res);
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error('download stalled (no data for 60 s)')));
    req.once('error', (e) => reject(new Error(`download of ${url} failed: ${e.message}`)));
  });
}

/** stat(), or undefined when nothing is at `p` yet (a new file name, not a directory). */
export async function statIfExists(p: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await stat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
