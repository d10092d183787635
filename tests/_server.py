"""Run a real uvicorn server on 127.0.0.1 for the duration of a test.

The socket is bound here (port 0, so the kernel picks a free port) and handed to uvicorn, so
there is no race between choosing a port and listening on it. The server runs in a thread of
the test process (coverage follows it) and is always stopped on exit.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from starlette.types import ASGIApp


class RunningServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.http_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"


@contextlib.contextmanager
def run_uvicorn(app: ASGIApp | str, **config: Any) -> Iterator[RunningServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "auto", "ws": "websockets-sansio"}
    options.update(config)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield RunningServer(port)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
