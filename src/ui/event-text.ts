// The readable text of every event, for both front ends: `xchat run|send|listen` print it (or, with
// --json, the event as is) and the TUI shows it for events that are not chat lines. The switch is
// exhaustive: a new event kind does not compile until it has a text here.
import { displayFingerprint } from '../lib/fingerprint.js';
import type { XchatEvent } from '../core/api.js';
import { searchText } from './search-text.js';

function hhmmss(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The readable form of an event (may span lines, e.g. help text). */
export function formatEvent(e: XchatEvent, now: Date = new Date()): string {
  switch (e.event) {
    case 'message': {
      const t = new Date(e.stamp);
      const when = hhmmss(Number.isNaN(t.getTime()) ? now : t);
      const mode = e.encryption === 'omemo' ? ['omemo', e.trust].filter(Boolean).join(', ') : 'plaintext';
      const who = e.carbon === 'sent' ? `me → ${e.to}` : e.from;
      return `[${when}] ${who} (${mode}): ${e.body}`;
    }
    case 'sent': {
      const mode = e.encryption === 'omemo' ? `omemo${e.devices !== undefined ? `, ${e.devices} device${e.devices === 1 ? '' : 's'}` : ''}` : 'plaintext';
      return `[${hhmmss(now)}] me → ${e.to} (${mode}): ${e.body}`;
    }
    case 'pending':
      return `[${hhmmss(now)}] me → ${e.to} (pending: sent once online): ${e.body}`;
    case 'error':
      return `error: ${e.message}${e.from ? ` (from ${e.from})` : ''}${e.reason ? `: ${e.reason}` : ''}`;
    case 'warning':
      return `warning: ${e.message}${e.devices?.length ? ` (devices ${e.devices.join(', ')})` : ''}`;
    case 'info':
      return e.message;
    case 'status':
      return statusText(e);
    case 'subscription': {
      const what = {
        subscribe: `wants to see your presence (answer with /sub allow ${e.from} or /sub deny ${e.from})`,
        subscribed: 'accepted your subscription request',
        unsubscribe: 'unsubscribed from your presence',
        unsubscribed: 'cancelled your subscription',
      }[e.type];
      return `* ${e.from} ${what}`;
    }
    case 'device':
      return e.change === 'new'
        ? `* new OMEMO device ${e.device} for ${e.jid}${e.fingerprint ? `: ${displayFingerprint(e.fingerprint)}` : ''}${e.trust ? ` (${e.trust})` : ''}`
        : `* OMEMO device ${e.device} of ${e.jid} removed`;
    case 'trust':
      return `* ${e.jid} ${displayFingerprint(e.fingerprint)}: ${e.state}`;
    case 'presence':
      return `* ${e.jid} is ${e.show}${e.status ? ` (${e.status})` : ''}`;
    case 'chat':
      return `* chat with ${e.jid} (${e.pending ? 'encryption decided once online' : e.encryption === 'omemo' ? 'OMEMO' : 'plaintext'})`;
    case 'search':
      return searchText(e);
    case 'progress':
      return `* ${e.direction} ${e.file}: ${e.total > 0 ? Math.floor((e.bytes * 100) / e.total) : 100}% (${e.bytes} of ${e.total} bytes)`;
    case 'file':
      return e.action === 'uploaded'
        ? `* sent ${e.path} to ${e.jid} (${e.size} bytes, ${e.encryption === 'omemo' ? 'encrypted' : 'NOT encrypted'})`
        : `* saved ${e.path} (${e.size} bytes, verified)`;
    case 'room':
      return roomText(e);
    case 'occupant':
      return occupantText(e);
    case 'subject':
      return `* ${e.room}: subject ${e.nick ? `set by ${e.nick}` : 'is'}: ${e.subject}`;
    case 'invite':
      return `* ${e.from} invites you to ${e.room}${e.reason ? ` (${e.reason})` : ''}: /join ${e.room}${e.password ? ` password ${e.password}` : ''}`;
    case 'receipt':
      return `* ${e.from} received message ${e.id}`;
    case 'chatstate':
      return `* ${e.from} is ${e.state === 'composing' ? 'typing' : e.state}`;
    case 'correction':
      return `* ${e.from} corrected message ${e.id}: ${e.body}`;
    case 'retraction':
      return `* ${e.from} retracted message ${e.id}`;
    default:
      return unreachable(e);
  }
}

type EventOf<K extends XchatEvent['event']> = Extract<XchatEvent, { event: K }>;

function statusText(e: EventOf<'status'>): string {
  switch (e.status) {
    case 'online':
      return `* online${e.jid ? ` as ${e.jid}` : ''}${e.via ? ` through the proxy ${e.via}` : ''}${e.resumed ? ' (session resumed: nothing was missed)' : ''}`;
    case 'connecting':
      return `* connecting${e.jid ? ` ${e.jid}` : ''}…`;
    case 'reconnecting':
      return e.reason
        ? `* reconnecting${e.jid ? ` ${e.jid}` : ''} failed (${e.reason}); trying again in ${e.retry_in ?? '?'} s (/connect: now, /disconnect: stop)`
        : `* connection lost; reconnecting${e.jid ? ` ${e.jid}` : ''} in ${e.retry_in ?? '?'} s (/connect: now, /disconnect: stop)`;
    case 'offline':
      return '* offline';
    default:
      return unreachable(e.status);
  }
}

function roomText(e: EventOf<'room'>): string {
  switch (e.status) {
    case 'joined':
      return `* joined ${e.room} as ${e.nick ?? '?'}${e.created ? ' (new room)' : ''}${e.encryption === 'omemo' ? ', OMEMO' : ''}`;
    case 'left':
      return `* left ${e.room}`;
    case 'kicked':
    case 'banned':
    case 'removed':
      return `* you were ${e.status === 'removed' ? 'removed from' : `${e.status} from`} ${e.room}${e.message ? `: ${e.message}` : ''}`;
    case 'error':
      return `* ${e.room}: ${e.message ?? 'error'}`;
    default:
      return unreachable(e.status);
  }
}

function occupantText(e: EventOf<'occupant'>): string {
  const who = `${e.nick}${e.jid ? ` (${e.jid})` : ''}`;
  switch (e.change) {
    case 'joined':
      return `* ${who} joined ${e.room}${e.role && e.role !== 'participant' ? ` as ${e.role}` : ''}`;
    case 'left':
      return `* ${who} left ${e.room}`;
    case 'nick':
      return `* ${e.nick} is now ${e.new_nick ?? '?'} in ${e.room}`;
    case 'changed':
      return `* ${who} in ${e.room} is now ${[e.affiliation, e.role].filter(Boolean).join(', ')}`;
    default:
      return unreachable(e.change);
  }
}

/** The compiler proves this is never called; at run time a kind from a newer core still shows. */
function unreachable(x: never): string {
  const kind: unknown = (x as { event?: unknown } | undefined)?.event ?? x;
  return `* ${typeof kind === 'string' ? kind : 'event'}`;
}

export interface Printer {
  (e: XchatEvent): void;
}

/**
 * JSON: every event on stdout. Readable: errors and warnings on stderr, the rest on stdout.
 */
export function createPrinter(opts: { json: boolean; out?: NodeJS.WritableStream; err?: NodeJS.WritableStream; filter?: (e: XchatEvent) => boolean }): Printer {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  return (e) => {
    if (opts.filter && !opts.filter(e)) return;
    if (opts.json) {
      out.write(`${JSON.stringify(e)}\n`);
      return;
    }
    const text = formatEvent(e);
    (e.event === 'error' || e.event === 'warning' ? err : out).write(`${text}\n`);
  };
}
