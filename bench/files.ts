// File encryption benchmark (XEP-0454 media, src/omemo/media.ts): streams `bytes` of generated
// data through the AES-256-GCM encrypt stream, then through encrypt → decrypt (tag verified),
// with nothing written to disk. Goal: ≥ 1 GB/s each way, peak RSS < 150 MB for 1 GB.
import { Readable, Writable, type Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createMediaDecryptStream, createMediaEncryptStream, newMediaSecret } from '../src/omemo/media.js';

export interface FilesBenchResult {
  bytes: number;
  /** GB/s (1e9 bytes per second) of plaintext. */
  encryptGBps: number;
  /** Decrypt alone: encrypt → decrypt wall time minus the time spent inside the encrypt stage. */
  decryptGBps: number;
  roundTripGBps: number;
  /** Highest RSS sampled during the run, MB (1e6). */
  peakRssMB: number;
}

/** `chunk` matches the read size files.ts uses for uploads. */
function source(bytes: number, chunk: number): Readable {
  const block = Buffer.alloc(chunk, 0x5a);
  let left = bytes;
  return new Readable({
    highWaterMark: chunk,
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, chunk);
      left -= n;
      // The same block again: ciphers only read their input, so reuse is safe and allocation-free.
      this.push(n === chunk ? block : block.subarray(0, n));
    },
  });
}

function sink(): Writable & { count: number } {
  const w = new Writable({
    highWaterMark: 1 << 20,
    write(c: Buffer, _e, cb) {
      w.count += c.length;
      cb();
    },
  }) as Writable & { count: number };
  w.count = 0;
  return w;
}

/**
 * Time spent inside a transform's own work. The callback is wrapped so the clock stops before the
 * output is pushed on (pushing runs the next stage synchronously).
 */
function timed(stream: Transform): { stream: Transform; ns(): number } {
  let total = 0n;
  const wrap = <A extends unknown[]>(fn: (...a: [...A, TransformCallback]) => void) =>
    (...a: [...A, TransformCallback]) => {
      const cb = a.pop() as TransformCallback;
      const t0 = process.hrtime.bigint();
      fn(...(a as unknown as A), (err?: Error | null, data?: unknown) => {
        total += process.hrtime.bigint() - t0;
        cb(err, data);
      });
    };
  stream._transform = wrap<[Buffer, BufferEncoding]>(stream._transform.bind(stream));
  stream._flush = wrap<[]>(stream._flush!.bind(stream));
  return { stream, ns: () => Number(total) };
}

export async function filesBench(bytes = 1 << 30, chunk = 1 << 18): Promise<FilesBenchResult> {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  sampler.unref();
  try {
    const secret = newMediaSecret();
    let t = process.hrtime.bigint();
    const encOut = sink();
    await pipeline(source(bytes, chunk), createMediaEncryptStream(secret), encOut);
    const encNs = Number(process.hrtime.bigint() - t);
    if (encOut.count !== bytes + 16) throw new Error(`encrypt produced ${encOut.count} bytes`);

    t = process.hrtime.bigint();
    const decOut = sink();
    const enc = timed(createMediaEncryptStream(secret));
    // Fails (rejects) if the tag does not verify: the benchmark also checks correctness at size.
    await pipeline(source(bytes, chunk), enc.stream, createMediaDecryptStream(secret), decOut);
    const bothNs = Number(process.hrtime.bigint() - t);
    const encInRoundTripNs = enc.ns();
    if (decOut.count !== bytes) throw new Error(`decrypt produced ${decOut.count} bytes`);
    peak = Math.max(peak, process.memoryUsage().rss);

    const gbps = (ns: number) => bytes / Math.max(ns, 1);
    return {
      bytes,
      encryptGBps: gbps(encNs),
      decryptGBps: gbps(Math.max(bothNs - encInRoundTripNs, 1)),
      roundTripGBps: gbps(bothNs),
      peakRssMB: peak / 1e6,
    };
  } finally {
    clearInterval(sampler);
  }
}

// Standalone: node --import tsx bench/files.ts [BYTES]
if (import.meta.url === `file://${process.argv[1]}`) {
  filesBench(Number(process.argv[2] ?? 1 << 30)).then((r) => console.log(JSON.stringify(r)));
}
