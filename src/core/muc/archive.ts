// A room's own archive (XEP-0313 to the room): read since the last room archive id we stored (the
// last page on a first visit), each message handled like a live one, marked archived.
import type { ArchivedRoomMessage } from '../../xmpp/mam.js';
import type { MucPort, RoomHistory } from './ports.js';
import type { Room } from './rooms.js';

/** Room archive pages read per query on catch-up; the first visit reads one page this big. */
const ROOM_CATCH_UP_PAGE = 100;
const ROOM_FIRST_PAGE = 20;

/**
 * Runs on the session queue, so live messages of the room wait behind it and keep their order.
 * `current()` is false once the room was left or the connection replaced: reading stops.
 */
export async function catchUpRoom(
  r: Room,
  p: MucPort,
  hist: RoomHistory,
  current: () => boolean,
  receive: (m: ArchivedRoomMessage) => Promise<void>,
): Promise<void> {
  const sync = hist.roomSync(r.room);
  if (!sync || !p.mamQuery) return;
  const handle = async (msgs: ArchivedRoomMessage[]) => {
    for (const m of msgs) if (current()) await receive(m);
  };
  if (!sync.initialized) {
    const page = await p.mamQuery(r.room, { before: '', max: ROOM_FIRST_PAGE });
    await handle(page.messages);
    hist.setRoomSync(r.room, page.last);
  } else {
    let after = sync.lastArchiveId;
    for (;;) {
      const page = await p.mamQuery(r.room, { ...(after ? { after } : {}), max: ROOM_CATCH_UP_PAGE });
      await handle(page.messages);
      if (!current()) return;
      // A server that stops moving forward must not loop us.
      if (!page.last || page.last === after) break;
      after = page.last;
      hist.setRoomSync(r.room, after);
      if (page.complete || page.count === 0) break;
    }
  }
  if (current()) r.archiveSynced = true;
}
