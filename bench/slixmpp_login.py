#!/usr/bin/python3
"""A bare slixmpp client's login, for `npm run bench` (issue 9): prints the seconds from process
start to session_start (online, roster and initial presence sent), as JSON on stdout.
Usage: /usr/bin/python3 bench/slixmpp_login.py JID PASSWORD HOST PORT CAFILE
"""
import json
import ssl
import sys
import time

T0 = time.monotonic()

import slixmpp  # noqa: E402  (imported after T0: the import is part of starting the client)


class Bot(slixmpp.ClientXMPP):
    def __init__(self, jid, password, cafile):
        super().__init__(jid, password)
        self.ssl_context = ssl.create_default_context(cafile=cafile)
        self.add_event_handler('session_start', self.start)
        self.elapsed = None

    async def start(self, _event):
        self.send_presence()
        await self.get_roster()
        self.elapsed = time.monotonic() - T0
        self.disconnect()


def main():
    jid, password, host, port, cafile = sys.argv[1:6]
    bot = Bot(jid, password, cafile)
    bot.connect((host, int(port)))
    bot.loop.run_until_complete(bot.disconnected)
    print(json.dumps({'seconds': bot.elapsed}))


if __name__ == '__main__':
    main()
