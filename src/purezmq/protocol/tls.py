"""TLS under a connection, over bytes (the standard library's ssl with memory BIOs): what
wss:// puts between tcp and ZWS. No socket is touched: ciphertext in, plaintext to the inner
connection; the inner connection's output sealed on the way out. Both engines drive it as
they drive a ZMTP connection."""

from __future__ import annotations

import ssl
from typing import Any

from .connection import ConnectionEvent, State
from .errors import ProtocolError


def _failure(text: str) -> ProtocolError:
    error = ProtocolError(text)
    error.events = []  # type: ignore[attr-defined]
    return error


class TlsConnection:
    """``inner`` (a connection-like object: receive_data/data_to_send...) inside TLS."""

    large_pending = False
    only_messages = False

    def __init__(
        self, inner: Any, context: ssl.SSLContext, server_side: bool, hostname: str | None
    ) -> None:
        self.inner = inner
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._tls = context.wrap_bio(
            self._in, self._out, server_side=server_side, server_hostname=hostname
        )
        self._handshaken = False
        if not server_side:
            self._step()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def state(self) -> State:
        return self.inner.state if self._handshaken else State.GREETING

    @state.setter
    def state(self, value: State) -> None:
        self.inner.state = value

    def _step(self) -> None:
        """Advance the TLS handshake as far as the bytes allow."""
        try:
            self._tls.do_handshake()
        except ssl.SSLWantReadError:
            return
        except ssl.SSLError as exc:
            self.inner.state = State.CLOSED
            raise _failure(f"TLS handshake failed: {exc.reason or exc}") from None
        self._handshaken = True

    def receive_data(self, data: bytes) -> list[ConnectionEvent]:
        self._in.write(data)
        if not self._handshaken:
            self._step()
            if not self._handshaken:
                return []
        chunks = []
        while True:
            try:
                chunk = self._tls.read(65536)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                break  # The peer's close_notify: the end of the stream follows.
            except ssl.SSLError as exc:
                self.inner.state = State.CLOSED
                raise _failure(f"TLS failed: {exc.reason or exc}") from None
            if not chunk:
                break
            chunks.append(chunk)
        return self.inner.receive_data(b"".join(chunks)) if chunks else []

    def data_to_send(self) -> list[bytes]:
        if self._handshaken:
            for chunk in self.inner.data_to_send():
                self._tls.write(chunk)
        sealed = self._out.read()
        return [sealed] if sealed else []

    def receive_buffer(self) -> None:
        return None

    def send_message(self, frames: list[bytes]) -> None:
        self.inner.send_message(frames)

    def send_messages(self, messages: list[Any]) -> None:
        self.inner.send_messages(messages)

    def send_subscription(self, topic: bytes, subscribe: bool) -> None:
        self.inner.send_subscription(topic, subscribe)

    def send_ping(self, ttl_deciseconds: int = 0, context: bytes = b"") -> None:
        self.inner.send_ping(ttl_deciseconds, context)

    def send_error(self, reason: str) -> None:
        self.inner.send_error(reason)

    def authentication_result(self, *args: Any, **kwargs: Any) -> list[ConnectionEvent]:
        return self.inner.authentication_result(*args, **kwargs)
