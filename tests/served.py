"""The rempart app under uvicorn on 127.0.0.1 in a background thread: a real server for the
browser tests and the concurrency tests."""

from __future__ import annotations

import socket
import threading
import time

from rempart.api.app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """``with Served(runtime) as served``: ``served.root`` is the server's base URL and
    ``served.base`` the console's. The outbox worker runs unless ``outbox_worker`` is False."""

    def __init__(self, runtime, *, outbox_worker: bool = True) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(
            create_app(runtime, outbox_worker=outbox_worker), host="127.0.0.1", port=self.port,
            log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.root = f"http://127.0.0.1:{self.port}"
        self.base = self.root + "/console"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)
