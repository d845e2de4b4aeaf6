#!/usr/bin/python3
"""Drives one program on a pseudo-terminal for bench/tui.ts and times what comes back.

No terminal emulator and no polling sits between the program and the clock: a reader thread
timestamps every chunk the moment it arrives on the pty master, so a keystroke's latency is
"key written to the master" -> "bytes containing its echo read from the master".

Protocol: one JSON command per line on stdin, one JSON answer per line on stdout.
  {"op": "spawn", "argv": [...], "env": {...}, "cwd": "...", "cols": 120, "rows": 40}
      -> {"pid": N, "t": spawn time (s, perf_counter)}
  {"op": "write", "data": "..."}                               -> {}
  {"op": "wait", "text": "...", "since": "spawn"|"mark", "timeout_ms": N}
      -> {"ms": ms from that point to the chunk completing the first match after it}
  {"op": "mark"}                                               -> {} (starts a new search window)
  {"op": "quiet", "ms": N, "timeout_ms": N}                    -> {} (no output for N ms)
  {"op": "type", "chars": "abc", "echo": "line"|"char", "prefix": "> ",
   "clear": "\\u0015", "clear_every": 60, "settle_ms": 10, "gap_ms": 30, "timeout_ms": N}
      -> {"times": [ms, ...]}
      echo "line": the echo of key i is prefix + every char typed since the last clear (the
      input row as the program repaints it); "char": just the char (a kernel echo, as for cat).
  {"op": "kill"}                                               -> {} (SIGKILL, reaped)
"""
import json
import os
import pty
import signal
import struct
import sys
import termios
import fcntl
import threading
import time

now = time.perf_counter


class Pty:
    def __init__(self):
        self.buf = bytearray()
        # (end offset in buf, arrival time) of every chunk read
        self.chunks = []
        self.cond = threading.Condition()
        self.fd = -1
        self.pid = -1
        self.spawned_at = 0.0
        self.mark = 0
        self.mark_t = 0.0
        self.eof = False

    def spawn(self, argv, env, cwd, cols, rows):
        pid, fd = pty.fork()
        if pid == 0:
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
                if cwd:
                    os.chdir(cwd)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.spawned_at = now()
        self.fd, self.pid = fd, pid
        self.mark, self.mark_t = 0, self.spawned_at
        threading.Thread(target=self._read, daemon=True).start()
        return self.spawned_at

    def _read(self):
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except OSError:
                data = b''
            t = now()
            with self.cond:
                if not data:
                    self.eof = True
                else:
                    self.buf += data
                    self.chunks.append((len(self.buf), t))
                self.cond.notify_all()
            if not data:
                return

    def _arrival(self, end):
        """Arrival time of the chunk holding byte offset end - 1."""
        for off, t in reversed(self.chunks):
            if off < end:
                break
            found = t
        return found

    def wait_text(self, needle, start, timeout):
        deadline = now() + timeout
        with self.cond:
            while True:
                i = self.buf.find(needle, start)
                if i >= 0:
                    return self._arrival(i + len(needle))
                if self.eof:
                    raise RuntimeError('program exited; last output: %r' % bytes(self.buf[-2000:]))
                left = deadline - now()
                if left <= 0:
                    raise RuntimeError('timed out waiting for %r; last output: %r' % (needle, bytes(self.buf[-2000:])))
                self.cond.wait(left)

    def quiet(self, ms, timeout):
        deadline = now() + timeout
        with self.cond:
            while True:
                last = self.chunks[-1][1] if self.chunks else self.spawned_at
                idle = now() - last
                if idle >= ms / 1000:
                    return
                if now() > deadline:
                    raise RuntimeError('output never went quiet for %d ms' % ms)
                self.cond.wait(ms / 1000 - idle)

    def write(self, data):
        os.write(self.fd, data)


def main():
    p = Pty()
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd['op']
        try:
            if op == 'spawn':
                env = cmd.get('env') or dict(os.environ)
                t = p.spawn(cmd['argv'], env, cmd.get('cwd'), cmd.get('cols', 80), cmd.get('rows', 24))
                out = {'pid': p.pid, 't': t}
            elif op == 'write':
                p.write(cmd['data'].encode())
                out = {}
            elif op == 'mark':
                with p.cond:
                    p.mark, p.mark_t = len(p.buf), now()
                out = {}
            elif op == 'wait':
                since_spawn = cmd.get('since') == 'spawn'
                start, t0 = (0, p.spawned_at) if since_spawn else (p.mark, p.mark_t)
                t = p.wait_text(cmd['text'].encode(), start, cmd.get('timeout_ms', 30000) / 1000)
                out = {'ms': (t - t0) * 1000}
            elif op == 'quiet':
                p.quiet(cmd['ms'], cmd.get('timeout_ms', 30000) / 1000)
                out = {}
            elif op == 'type':
                prefix = cmd.get('prefix', '').encode()
                clear = cmd.get('clear', '').encode()
                every = cmd.get('clear_every', 0)
                settle = cmd.get('settle_ms', 10)
                gap = cmd.get('gap_ms', 30) / 1000
                timeout = cmd.get('timeout_ms', 5000) / 1000
                times = []
                typed = b''
                last_key = 0.0
                for ch in cmd['chars'].encode():
                    if every and len(typed) >= every:
                        p.write(clear)
                        p.quiet(settle * 3, timeout)
                        typed = b''
                    typed += bytes([ch])
                    needle = prefix + typed if cmd.get('echo') == 'line' else bytes([ch])
                    wait = last_key + gap - now()
                    if wait > 0:
                        time.sleep(wait)
                    with p.cond:
                        start = len(p.buf)
                    t0 = now()
                    os.write(p.fd, bytes([ch]))
                    last_key = t0
                    t1 = p.wait_text(needle, start, timeout)
                    times.append((t1 - t0) * 1000)
                    # Let the rest of the frame out before the next key: each key starts idle.
                    p.quiet(settle, timeout)
                out = {'times': times}
            elif op == 'kill':
                if p.pid > 0:
                    try:
                        os.kill(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    os.waitpid(p.pid, 0)
                    p.pid = -1
                out = {}
            else:
                raise RuntimeError('unknown op ' + op)
        except Exception as e:  # reported to the caller, which decides what failed
            out = {'error': str(e)}
        sys.stdout.write(json.dumps(out) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
