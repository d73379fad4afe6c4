"""ThreadAuthenticator: a ZAP handler on a background thread of its own."""

from __future__ import annotations

import threading
from typing import Any

from .base import Authenticator


class ThreadAuthenticator(Authenticator):
    """Runs the authenticator's ZAP socket in a daemon thread; configure it from any thread."""

    def __init__(self, context: Any = None, encoding: str = "utf-8", log: Any = None) -> None:
        super().__init__(context, encoding, log)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        super().start()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="purezmq-auth", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sock = self.zap_socket
        while not self._stopping.is_set():
            try:
                if not sock.poll(100):
                    continue
                message = sock.recv_multipart()
            except Exception:
                if self._stopping.is_set():
                    return
                raise
            self.handle_zap_message(message)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        super().stop()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> ThreadAuthenticator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
