// File sharing for one account: /sendfile (XEP-0363 upload; XEP-0454 aesgcm:// in OMEMO chats,
// XEP-0066 OOB link otherwise) and the aesgcm:// links received per chat (/url list|save|open).
// Transfers are streamed end to end, so memory stays flat whatever the file size. Nothing is ever
// fetched unless the user asks.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { link as hardLink, mkdir, open as openFile, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import type { Encryption, XchatEvent } from './api.js';
import type { UploadService, UploadSlot } from '../xmpp/upload.js';
import {
  buildAesgcmUrl,
  createMediaDecryptStream,
  createMediaEncryptStream,
  encryptedSize,
  fileNameOf,
  findAesgcmUrls,
  MEDIA_TAG_BYTES,
  newMediaSecret,
  parseAesgcmUrl,
} from '../omemo/media.js';
import { isOmemoError } from '../omemo/errors.js';
import { bareJid as bare } from '../lib/jid.js';
import { logged, settled } from '../lib/diagnostics.js';
import type { Agent } from 'node:http';
import { parseProxy, proxyAgent } from '../xmpp/proxy.js';
import { DownloadCancelled, byteCap, exists, expandHome, httpGet, httpPut, human, progressCounter, statIfExists } from './file-transfer.js';
export { DownloadCancelled, byteCap } from './file-transfer.js';

/** What files need from the XMPP floor (src/xmpp/upload.ts). */
export interface UploadPort {
  discover(): Promise<UploadService | undefined>;
  requestSlot(service: string, filename: string, size: number, contentType: string): Promise<UploadSlot>;
  sendOob(to: string, url: string, id: string): Promise<void>;
}

export interface FilesDeps {
  emit(e: XchatEvent): void;
  /** Undefined while offline (or when the XMPP floor has no upload support). */
  upload(): UploadPort | undefined;
  /** The mode the next message to `jid` uses (the session's policy decision). */
  chatEncryption(jid: string): Promise<Encryption>;
  /** Sends `text` OMEMO-encrypted through the normal path; never falls back to plaintext. */
  sendEncrypted(jid: string, text: string): Promise<void>;
  env?: NodeJS.ProcessEnv;
  /** The system opener (default xdg-open). */
  opener?: string;
  /** The account's download limit in bytes (`/account set JID max_download`), if set. */
  maxDownloadBytes?(): Promise<number | undefined>;
  /** The SOCKS5 proxy transfers go through (socks5h://…), if any: never around it. */
  proxy?(): Promise<string | undefined>;
  /**
   * A file in the profile listing the partial downloads under way: a killed xchat leaves them
   * behind, and the next start removes them (they hold unverified plaintext).
   */
  partialsJournal?(): string | undefined;
}

export interface LinkEntry {
  url: string; // the aesgcm:// link as received
  from: string;
  stamp: string;
  name: string;
  saved?: string;
}

const MAX_LINKS_PER_CHAT = 200;
/** Without an account setting, no download may exceed this (a server that never stops sending). */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024;
/** Partial downloads are named so; only such files are ever removed as leftovers. */
export const PARTIAL_SUFFIX = '.xchat-part';

export class FilesCore {
  private readonly links = new Map<string, LinkEntry[]>();
  /** Downloads under way: link entry → its abort switch. */
  private readonly running = new Map<LinkEntry, AbortController>();

  constructor(private readonly deps: FilesDeps) {}

  /** Stops downloads under way (all, or link N of `jid`); returns the names of those stopped. */
  cancel(jid?: string, n?: number): string[] {
    const only = jid !== undefined && n !== undefined ? this.pick(jid, n) : undefined;
    const stopped: string[] = [];
    for (const [entry, ctl] of this.running) {
      if (only && entry !== only) continue;
      ctl.abort();
      stopped.push(entry.name);
    }
    return stopped;
  }

  /** Removes partial downloads a killed xchat left behind (listed in the journal). */
  async removeLeftovers(): Promise<string[]> {
    const removed: string[] = [];
    for (const p of await this.journal()) {
      if (!p.endsWith(PARTIAL_SUFFIX)) continue; // never anything else, whatever the file says
      try {
        await unlink(p);
        removed.push(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.deps.emit({ event: 'error', message: `could not remove the partial download ${p}: ${(e as Error).message}` });
      }
    }
    await this.writeJournal([]);
    return removed;
  }

  private async journal(): Promise<string[]> {
    const f = this.deps.partialsJournal?.();
    if (!f) return [];
    try {
      const parsed: unknown = JSON.parse(await readFile(f, 'utf8'));
      return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.deps.emit({ event: 'error', message: `unreadable partial-download list ${f}: ${(e as Error).message}` });
      return [];
    }
  }

  private async writeJournal(paths: string[]): Promise<void> {
    const f = this.deps.partialsJournal?.();
    if (f) await writeFile(f, JSON.stringify(paths), { mode: 0o600 });
  }

  private journalOps: Promise<void> = Promise.resolve();
  /** Serialised edits of the journal (downloads start and end concurrently). */
  private editJournal(edit: (paths: string[]) => string[]): Promise<void> {
    const op = this.journalOps.then(async () => this.writeJournal(edit(await this.journal())));
    this.journalOps = settled(op); // the caller gets the failure
    return op;
  }

  /** Through the account's proxy when it has one. */
  private async agent(): Promise<Agent | undefined> {
    const url = await this.deps.proxy?.();
    return url ? proxyAgent(parseProxy(url)) : undefined;
  }

  private info(message: string): void {
    this.deps.emit({ event: 'info', message });
  }

  /** Sees every event the session emits; notes aesgcm:// links of incoming messages. */
  observe(e: XchatEvent): void {
    if (e.event !== 'message') return;
    const urls = findAesgcmUrls(e.body);
    if (urls.length === 0) return;
    const chat = e.carbon === 'sent' ? bare(e.to) : bare(e.from);
    const list = this.links.get(chat) ?? [];
    for (const url of urls) {
      if (list.some((l) => l.url === url)) continue;
      list.push({ url, from: e.from, stamp: e.stamp, name: fileNameOf(parseAesgcmUrl(url).url) });
    }
    if (list.length > MAX_LINKS_PER_CHAT) list.splice(0, list.length - MAX_LINKS_PER_CHAT);
    this.links.set(chat, list);
  }

  list(jid: string): LinkEntry[] {
    return [...(this.links.get(bare(jid)) ?? [])];
  }

  describeList(jid: string): string {
    const list = this.list(jid);
    if (list.length === 0) return `no encrypted file links in the chat with ${bare(jid)}`;
    return [
      `encrypted file links from ${bare(jid)} (/url save N [PATH] downloads one):`,
      ...list.map((l, i) => `  ${i + 1}. ${l.name} from ${l.from} at ${l.stamp}${l.saved ? ` (saved: ${l.saved})` : ''}`),
    ].join('\n');
  }

  private pick(jid: string, n: number | undefined): LinkEntry {
    const list = this.links.get(bare(jid)) ?? [];
    if (list.length === 0) throw new Error(`no encrypted file links in the chat with ${bare(jid)}`);
    const i = n === undefined ? list.length : n;
    if (!Number.isInteger(i) || i < 1 || i > list.length) {
      throw new Error(`no link ${n} in the chat with ${bare(jid)}: /url list shows 1 to ${list.length}`);
    }
    return list[i - 1];
  }

  // ---- sending ----------------------------------------------------------------------------

  async sendFile(jid: string, file: string): Promise<void> {
    const to = bare(jid);
    const filePath = path.resolve(expandHome(file));
    let st;
    try {
      st = await stat(filePath);
    } catch (e) {
      throw new Error(`cannot send ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    if (!st.isFile()) throw new Error(`cannot send ${file}: not a regular file`);
    const up = this.deps.upload();
    if (!up) throw new Error('not connected: use /connect JID first');
    const mode = await this.deps.chatEncryption(to);
    const svc = await up.discover();
    if (!svc) throw new Error('this server offers no HTTP file upload service (XEP-0363): files cannot be sent');
    const plainSize = st.size;
    const size = mode === 'omemo' ? encryptedSize(plainSize) : plainSize;
    if (svc.maxFileSize !== undefined && size > svc.maxFileSize) {
      throw new Error(
        `${path.basename(filePath)} is too large: ${human(size)}${mode === 'omemo' ? ' encrypted' : ''} (${size} bytes); ${svc.jid} accepts at most ${human(svc.maxFileSize)} (${svc.maxFileSize} bytes)`,
      );
    }
    const name = path.basename(filePath);
    // In an OMEMO chat the server only ever sees ciphertext: its content type says nothing more.
    const slot = await up.requestSlot(svc.jid, name, size, 'application/octet-stream');
    const id = randomUUID();
    const secret = mode === 'omemo' ? newMediaSecret() : undefined;
    const progress = progressCounter(plainSize, (done) =>
      this.deps.emit({ event: 'progress', id, direction: 'upload', file: name, bytes: done, total: plainSize }),
    );
    const stages: (Readable | Transform)[] = [createReadStream(filePath, { highWaterMark: 1 << 18 }), progress];
    if (secret) stages.push(createMediaEncryptStream(secret));
    await httpPut(slot, size, stages, await this.agent());
    if (secret) {
      await this.deps.sendEncrypted(to, buildAesgcmUrl(slot.getUrl, secret));
    } else {
      await up.sendOob(to, slot.getUrl, id);
      this.deps.emit({ event: 'sent', to, id, body: slot.getUrl, encryption: 'none' });
    }
    this.deps.emit({ event: 'file', action: 'uploaded', jid: to, path: filePath, url: slot.getUrl, size: plainSize, encryption: mode });
  }

  // ---- receiving --------------------------------------------------------------------------

  private downloadDir(): string {
    const env = this.deps.env ?? process.env;
    return env.XDG_DOWNLOAD_DIR || path.join(homedir(), 'Downloads');
  }

  /** Where to save: PATH as given, PATH/NAME for a directory, else a fresh name in the download dir. */
  private async destination(name: string, given?: string): Promise<string> {
    if (given) {
      const p = path.resolve(expandHome(given));
      const st = await statIfExists(p);
      if (st?.isDirectory()) return this.freeName(p, name);
      if (st) throw new Error(`${p} already exists: give another PATH (files are never overwritten)`);
      return p;
    }
    const dir = this.downloadDir();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return this.freeName(dir, name);
  }

  private async freeName(dir: string, name: string): Promise<string> {
    const ext = path.extname(name);
    const stem = name.slice(0, name.length - ext.length);
    for (let i = 0; i < 1000; i++) {
      const p = path.join(dir, i === 0 ? name : `${stem} (${i})${ext}`);
      if (!(await exists(p))) return p;
    }
    throw new Error(`no free file name for ${name} in ${dir}`);
  }

  /** Downloads link N (default: the newest) of the chat, decrypting and verifying as it streams. */
  async save(jid: string, n?: number, given?: string): Promise<string> {
    const entry = this.pick(jid, n);
    if (this.running.has(entry)) throw new Error(`${entry.name} is being downloaded already (/url cancel to stop it)`);
    const link = parseAesgcmUrl(entry.url);
    const dest = await this.destination(entry.name, given);
    const part = `${dest}${PARTIAL_SUFFIX}`;
    const id = randomUUID();
    const ctl = new AbortController();
    this.running.set(entry, ctl);
    try {
      return await this.download(jid, entry, link, dest, part, id, ctl.signal);
    } finally {
      this.running.delete(entry);
    }
  }

  private async download(jid: string, entry: LinkEntry, link: ReturnType<typeof parseAesgcmUrl>, dest: string, part: string, id: string, signal: AbortSignal): Promise<string> {
    const limit = (await this.deps.maxDownloadBytes?.()) ?? DEFAULT_MAX_DOWNLOAD_BYTES;
    const res = await httpGet(link.url, signal, await this.agent()).catch((e: Error) => {
      throw signal.aborted ? new DownloadCancelled(entry.name) : e;
    });
    const len = Number(res.headers['content-length']);
    const announced = Number.isFinite(len) && len >= 0 ? len : undefined;
    const total = announced !== undefined && announced >= MEDIA_TAG_BYTES ? announced - MEDIA_TAG_BYTES : 0;
    await this.editJournal((ps) => [...ps, part]);
    try {
      if (announced !== undefined && announced > limit) {
        throw new Error(`${entry.name} is ${human(announced)}, over the download limit of ${human(limit)} (/account set JID max_download SIZE)`);
      }
      // Opened before the first byte is counted, so the partial file exists whenever progress is shown.
      const partFile = await openFile(part, 'wx', 0o600);
      await pipeline(
        res,
        // Never more than announced, never more than the limit: a server that never stops sending fills no disk.
        byteCap(Math.min(announced ?? limit, limit), (cap) =>
          announced !== undefined && cap === announced
            ? `the server sent more than the ${human(announced)} it announced`
            : `over the download limit of ${human(limit)} (/account set JID max_download SIZE)`,
        ),
        createMediaDecryptStream(link),
        progressCounter(total, (done) =>
          this.deps.emit({ event: 'progress', id, direction: 'download', file: entry.name, bytes: done, total }),
        ),
        // Unverified plaintext lives only under the partial name until the tag has checked out.
        partFile.createWriteStream(),
        { signal },
      );
    } catch (e) {
      res.destroy();
      await unlink(part).catch(logged('files: remove a failed partial download'));
      await this.editJournal((ps) => ps.filter((p) => p !== part));
      if (signal.aborted) throw new DownloadCancelled(entry.name);
      if (isOmemoError(e, 'bad-payload')) {
        throw new Error(`${entry.name} failed verification (tampered with or corrupted): nothing was saved`);
      }
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${part} exists (another download?): remove it and try again`);
      throw new Error(`download of ${entry.name} failed: ${(e as Error).message}`);
    }
    try {
      await hardLink(part, dest); // fails instead of overwriting a file created meanwhile
    } finally {
      await unlink(part).catch(logged('files: remove a partial download after saving'));
      await this.editJournal((ps) => ps.filter((p) => p !== part));
    }
    entry.saved = dest;
    const size = (await stat(dest)).size;
    this.deps.emit({ event: 'file', action: 'saved', jid: bare(jid), path: dest, url: link.url, size, encryption: 'omemo' });
    return dest;
  }

  /** Hands the saved file of link N to the system opener. */
  async open(jid: string, n?: number): Promise<void> {
    const entry = this.pick(jid, n);
    if (!entry.saved) throw new Error(`${entry.name} is not saved yet: /url save${n === undefined ? '' : ` ${n}`} first`);
    const opener = this.deps.opener ?? 'xdg-open';
    await new Promise<void>((resolve, reject) => {
      const child = spawn(opener, [entry.saved!], { stdio: 'ignore', detached: true });
      child.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new Error(
            e.code === 'ENOENT'
              ? `cannot open ${entry.saved}: ${opener} is not installed (install xdg-utils, or open the file yourself)`
              : `cannot open ${entry.saved}: ${e.message}`,
          ),
        ),
      );
      child.once('spawn', () => {
        child.unref();
        resolve();
      });
    });
    this.info(`opened ${entry.saved} with ${opener}`);
  }
}

