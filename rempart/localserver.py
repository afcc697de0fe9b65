"""One lifecycle for the local servers that speak an outside service's protocol.

The CyberTipline Reporting API, the NCMEC / ThreatExchange / StopNCII exchanges and a partner's
feed are reached over HTTP; tests, the demo and the benches run them on 127.0.0.1 with the
standard library's threading server. Each protocol server owns its handler and its state; this
class owns the socket, the serving thread and a clean stop (no request thread keeps a test or a
demo process alive after ``stop``).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalServer:
    path = ""  # the service's URL path below the server's root, e.g. "/ispws"

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0,
                 *, poll_seconds: float = 0.5) -> None:
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._poll_seconds = poll_seconds  # how soon stop() is noticed
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def start(self) -> Self:
        if self._thread is not None:  # already serving (started, then used in a with block)
            return self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(self._poll_seconds,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def serve_until_interrupted(self) -> None:
        """Serve in the foreground until Ctrl-C (a server started from the command line)."""
        try:
            self._server.serve_forever(self._poll_seconds)
        except KeyboardInterrupt:
            pass
        finally:
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
