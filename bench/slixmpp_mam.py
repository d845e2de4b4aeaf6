#!/usr/bin/python3
"""A bare slixmpp client paging an account's whole archive (XEP-0313 with RSM), for `npm run bench`
(issue 9, item 8): the baseline xchat's catch-up is compared with. It logs in, sends no presence (so
the server delivers no offline messages to it), asks for the archive in pages of MAX results, and
only counts them: no decryption, nothing stored. Prints, as JSON on stdout, the seconds from
process start to the last page (and to being logged in) and the number of results.
Usage: /usr/bin/python3 bench/slixmpp_mam.py JID PASSWORD HOST PORT CAFILE MAX
"""
import json
import ssl
import sys
import time

T0 = time.monotonic()

import slixmpp  # noqa: E402  (imported after T0: the import is part of starting the client)


class Pager(slixmpp.ClientXMPP):
    def __init__(self, jid, password, cafile, page):
        super().__init__(jid, password)
        self.ssl_context = ssl.create_default_context(cafile=cafile)
        self.register_plugin('xep_0059')
        self.register_plugin('xep_0313')
        self.add_event_handler('session_start', self.start)
        self.page = page
        self.results = 0
        self.pages = 0
        self.elapsed = None
        self.login = None
        self.error = None

    async def start(self, _event):
        self.login = time.monotonic() - T0
        try:
            pages = self.plugin['xep_0313'].retrieve(iterator=True, rsm={'max': self.page})
            async for page in pages:
                self.pages += 1
                self.results += len(page['mam']['results'])
            self.elapsed = time.monotonic() - T0
        except Exception as e:  # reported on stdout: the benchmark says why it has no number
            self.error = repr(e)
        self.disconnect()


def main():
    jid, password, host, port, cafile, page = sys.argv[1:7]
    bot = Pager(jid, password, cafile, int(page))
    bot.connect((host, int(port)))
    bot.loop.run_until_complete(bot.disconnected)
    print(json.dumps({'seconds': bot.elapsed, 'login_seconds': bot.login, 'results': bot.results, 'pages': bot.pages, 'error': bot.error}))


if __name__ == '__main__':
    main()
