// Notifications for messages in windows other than the current one: the terminal bell and the
// terminal window title (OSC 0), which shows the number of unread messages.
import type { WindowManager } from './windows.js';

export function titleFor(unread: number): string {
  return unread > 0 ? `xchat (${unread} unread)` : 'xchat';
}

/** Writes BEL + OSC 0 on notifications and resets the title once everything is read. */
export function attachNotifier(windows: WindowManager, out: { write(s: string): unknown }): () => void {
  let shown = '';
  const setTitle = () => {
    const unread = windows.list().reduce((n, w) => n + w.unread, 0);
    const t = titleFor(windows.notify() ? unread : 0);
    if (t !== shown) {
      shown = t;
      out.write(`\u001b]0;${t}\u0007`);
    }
  };
  const offNotify = windows.onNotify(() => {
    out.write('\u0007');
    setTitle();
  });
  const offChange = windows.subscribe(setTitle);
  setTitle();
  return () => {
    offNotify();
    offChange();
  };
}
