// One session's ratchet state on disk as an append-only log: every store appends one framed record
// through an O_DSYNC descriptor (one durable write, no temp file, rename or directory fsync), and a
// read takes the last complete record. A crash mid-append leaves a torn tail that fails its
// checksum; it is ignored on read and cut off before the next append. When the log has grown, it
// is rewritten with only the last record through atomicWriteFile (temp + fsync + rename).
//
// File layout: MAGIC, then frames of  u32 LE payload length ‖ u32 LE CRC-32 of payload ‖ payload,
// payload = u16 LE jid length ‖ jid (UTF-8) ‖ u32 LE device id ‖ session record.
import { promises as fsp, constants as fsc } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { FILE_MODE, atomicWriteFile, fsyncDir, readFileIfExists } from './profile.js';
import * as path from 'node:path';
import { logged, settled } from '../lib/diagnostics.js';

export const LOG_MAGIC = Buffer.from('XCSLOG1\n', 'latin1');
const FRAME_HEADER = 8;
/** Far above any real record (a full record with 40 archived states is a few hundred KB). */
const MAX_PAYLOAD = 64 * 1024 * 1024;
/** Rewrite once the log exceeds this and 8 records' worth (amortises the rename's two fsyncs). */
const COMPACT_MIN_BYTES = 128 * 1024;

export interface LogOwner {
  jid: string;
  deviceId: number;
}

export function encodeFrame(owner: LogOwner, record: Uint8Array): Buffer {
  const jid = Buffer.from(owner.jid, 'utf8');
  if (jid.length > 0xffff) throw new Error('JID too long for a session log');
  const payloadLen = 2 + jid.length + 4 + record.length;
  const out = Buffer.allocUnsafe(FRAME_HEADER + payloadLen);
  const p = FRAME_HEADER;
  out.writeUInt16LE(jid.length, p);
  jid.copy(out, p + 2);
  out.writeUInt32LE(owner.deviceId >>> 0, p + 2 + jid.length);
  out.set(record, p + 6 + jid.length);
  out.writeUInt32LE(payloadLen, 0);
  out.writeUInt32LE(crc32(out.subarray(FRAME_HEADER)), 4);
  return out;
}

export interface ParsedLog {
  /** The last complete record, or undefined when there is none. */
  record?: Uint8Array;
  owner?: LogOwner;
  /** Byte offset just after the last complete frame (where the next append belongs). */
  validEnd: number;
  /** The file holds bytes after validEnd (a torn append). */
  tornTail: boolean;
}

/** Parses a whole log file. Throws only if the file is not a session log at all. */
export function parseLog(buf: Uint8Array, file: string): ParsedLog {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < LOG_MAGIC.length) {
    // A crash while creating the file: nothing was ever acknowledged from it.
    if (LOG_MAGIC.subarray(0, b.length).equals(b)) return { validEnd: 0, tornTail: b.length > 0 };
    throw new Error(`${file} is not an xchat session log`);
  }
  if (!b.subarray(0, LOG_MAGIC.length).equals(LOG_MAGIC)) throw new Error(`${file} is not an xchat session log`);
  let off = LOG_MAGIC.length;
  let last: { start: number; end: number } | undefined;
  while (off + FRAME_HEADER <= b.length) {
    const len = b.readUInt32LE(off);
    const end = off + FRAME_HEADER + len;
    if (len < 6 || len > MAX_PAYLOAD || end > b.length) break;
    if (crc32(b.subarray(off + FRAME_HEADER, end)) !== b.readUInt32LE(off + 4)) break;
    last = { start: off + FRAME_HEADER, end };
    off = end;
  }
  const result: ParsedLog = { validEnd: off, tornTail: off < b.length };
  if (last) {
    const p = b.subarray(last.start, last.end);
    const jidLen = p.readUInt16LE(0);
    if (2 + jidLen + 4 > p.length) throw new Error(`${file}: malformed session log record`);
    result.owner = { jid: p.toString('utf8', 2, 2 + jidLen), deviceId: p.readUInt32LE(2 + jidLen) };
    result.record = new Uint8Array(p.subarray(2 + jidLen + 4)); // own copy, not a view of the file
  }
  return result;
}

/**
 * Appender for one log file. Appends are serialized. `end` is where the last durable frame ends:
 * after a failed or torn write the file is cut back there before the next append.
 */
export class SessionLog {
  private fh: FileHandle | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private size: number;
  private needsTruncate: boolean;

  /** `validEnd`/`tornTail` from parseLog of the existing file; validEnd 0 if it does not exist. */
  constructor(
    readonly file: string,
    validEnd: number,
    tornTail: boolean,
  ) {
    this.size = validEnd;
    this.needsTruncate = tornTail;
  }

  /** Durably appends `record` (resolves once it survives a crash), compacting when the log is long. */
  append(owner: LogOwner, record: Uint8Array): Promise<void> {
    const run = () => this.doAppend(owner, record);
    const p = this.chain.then(run, run);
    this.chain = settled(p); // the caller gets the failure
    return p;
  }

  private async doAppend(owner: LogOwner, record: Uint8Array): Promise<void> {
    const frame = encodeFrame(owner, record);
    if (this.size === 0 || (this.size + frame.length > COMPACT_MIN_BYTES && this.size + frame.length > 8 * frame.length)) {
      return this.rewrite(frame);
    }
    let fh: FileHandle;
    try {
      fh = await this.handle();
    } catch (e) {
      // Deleted behind our back: start the log afresh.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return this.rewrite(frame);
      throw e;
    }
    try {
      if (this.needsTruncate) {
        await fh.truncate(this.size);
        await fh.sync();
        this.needsTruncate = false;
      }
      // O_APPEND | O_DSYNC: the write returns once data and the new length are on disk.
      const { bytesWritten } = await fh.write(frame, 0, frame.length, null);
      if (bytesWritten !== frame.length) throw new Error(`short write to ${this.file}`);
      this.size += frame.length;
    } catch (e) {
      // Part of the frame may have landed: cut back to the last durable frame before the next one.
      this.needsTruncate = true;
      await this.close();
      throw e;
    }
  }

  /** New file or long log: [magic ‖ frame] as a whole new file (atomic, durable, 0600). */
  private async rewrite(frame: Buffer): Promise<void> {
    await this.close();
    await atomicWriteFile(this.file, Buffer.concat([LOG_MAGIC, frame]));
    this.size = LOG_MAGIC.length + frame.length;
    this.needsTruncate = false;
  }

  private async handle(): Promise<FileHandle> {
    this.fh ??= await fsp.open(this.file, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_DSYNC, FILE_MODE);
    return this.fh;
  }

  /** Closes the descriptor once pending appends are done (it is reopened by the next append). */
  release(): Promise<void> {
    const p = this.chain.then(
      () => this.close(),
      () => this.close(),
    );
    this.chain = p;
    return p;
  }

  get isOpen(): boolean {
    return this.fh !== undefined;
  }

  private async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(logged('store: close a session log'));
  }

}

/** Reads and parses a log file, or undefined if it does not exist. */
export async function readLog(file: string): Promise<ParsedLog | undefined> {
  const buf = await readFileIfExists(file);
  return buf ? parseLog(buf, file) : undefined;
}

/** Deletes a log durably (the directory entry is gone after a crash too). */
export async function removeLog(file: string): Promise<void> {
  try {
    await fsp.unlink(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fsyncDir(path.dirname(file));
}
