"""Helpers shared by the security tests: keys, socket security options, ZAP handlers, pyzmq
monitors and checks on the 'purezmq' log.

The library under test is ``zmq_impl`` (purezmq, or pyzmq with PUREZMQ_TEST_IMPL=zmq to check
that an expectation is libzmq's); the peer is always pyzmq. Every wait is bounded.
"""

from __future__ import annotations

import errno
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import zmq as pyzmq
from zmq.utils.monitor import recv_monitor_message

#: The PLAIN account every "good" client uses.
USER = "admin"
PASSWORD = "s3cret-pw"
PASSWORDS = {USER: PASSWORD}

#: Handshake outcomes a libzmq monitor reports.
HANDSHAKE_FAILURES = frozenset(
    {
        pyzmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
        pyzmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
        pyzmq.EVENT_HANDSHAKE_FAILED_AUTH,
    }
)
HANDSHAKE_EVENTS = HANDSHAKE_FAILURES | {pyzmq.EVENT_HANDSHAKE_SUCCEEDED}

#: Words a log record must contain (one of) to count as reporting a refused/failed handshake.
REFUSAL_WORDS = re.compile(r"refus|denied|authenticat|invalid|unknown|wrong|fail|error|drop", re.I)


def is_pyzmq(lib: ModuleType) -> bool:
    return lib is pyzmq


@dataclass
class Keys:
    """CURVE key pairs (Z85 bytes) of a server and a client."""

    server_public: bytes
    server_secret: bytes
    client_public: bytes
    client_secret: bytes

    @classmethod
    def new(cls) -> Keys:
        server_public, server_secret = pyzmq.curve_keypair()
        client_public, client_secret = pyzmq.curve_keypair()
        return cls(server_public, server_secret, client_public, client_secret)


def secure_server(sock: Any, mechanism: str, keys: Keys | None = None) -> Any:
    if mechanism == "PLAIN":
        sock.plain_server = True
    elif mechanism == "CURVE":
        assert keys is not None
        sock.curve_secretkey = keys.server_secret
        sock.curve_publickey = keys.server_public
        sock.curve_server = True
    elif mechanism != "NULL":
        raise ValueError(mechanism)
    return sock


def secure_client(
    sock: Any,
    mechanism: str,
    keys: Keys | None = None,
    *,
    username: str = USER,
    password: str = PASSWORD,
    server_key: bytes | None = None,
) -> Any:
    if mechanism == "PLAIN":
        sock.plain_username = username.encode()
        sock.plain_password = password.encode()
    elif mechanism == "CURVE":
        assert keys is not None
        sock.curve_secretkey = keys.client_secret
        sock.curve_publickey = keys.client_public
        sock.curve_serverkey = server_key if server_key is not None else keys.server_public
    elif mechanism != "NULL":
        raise ValueError(mechanism)
    return sock


def auth_module(lib: ModuleType) -> ModuleType:
    """``zmq.auth`` or ``purezmq.auth``."""
    if is_pyzmq(lib):
        import zmq.auth

        return zmq.auth
    import importlib

    return importlib.import_module(f"{lib.__name__}.auth")


def thread_authenticator_class(lib: ModuleType) -> type:
    """pyzmq's zmq.auth.thread.ThreadAuthenticator, or purezmq.auth.ThreadAuthenticator."""
    if is_pyzmq(lib):
        from zmq.auth.thread import ThreadAuthenticator

        return ThreadAuthenticator
    return auth_module(lib).ThreadAuthenticator


def configure_auth(auth: Any, lib: ModuleType, mechanism: str, curve_location: Any = None) -> None:
    if mechanism == "PLAIN":
        auth.configure_plain(domain="*", passwords=dict(PASSWORDS))
    elif mechanism == "CURVE":
        location = (
            curve_location if curve_location is not None else auth_module(lib).CURVE_ALLOW_ANY
        )
        auth.configure_curve(domain="*", location=location)


class Authenticators:
    """Starts ZAP handlers in a context and stops them all at teardown (before the contexts go)."""

    def __init__(self) -> None:
        self._started: list[Any] = []

    def start(
        self, lib: ModuleType, context: Any, mechanism: str = "NULL", curve_location: Any = None
    ) -> Any:
        auth = thread_authenticator_class(lib)(context)
        auth.start()
        self._started.append(auth)
        configure_auth(auth, lib, mechanism, curve_location)
        return auth

    def adopt(self, auth: Any) -> None:
        """Stop this (already started) authenticator at teardown too."""
        self._started.append(auth)

    def stop_all(self) -> None:
        while self._started:
            self._started.pop().stop()


# -- message checks ------------------------------------------------------------------------------


def user_id(frame: Any) -> str | None:
    """The frame's User-Id property, or None when the library says it has none (EINVAL)."""
    try:
        return frame.get("User-Id")
    except Exception as exc:  # pyzmq's or purezmq's ZMQError
        if getattr(exc, "errno", None) != errno.EINVAL:
            raise
        return None


def recv_frames_nocopy(sock: Any, timeout_ms: int = 5000) -> list[Any]:
    if not sock.poll(timeout_ms):
        raise AssertionError(f"no message within {timeout_ms} ms on {sock!r}")
    return list(sock.recv_multipart(copy=False))


def assert_nothing(sock: Any, window_ms: int = 300) -> None:
    """``sock`` receives nothing within ``window_ms`` (its recv would time out)."""
    if sock.poll(window_ms):
        got = [bytes(f) for f in sock.recv_multipart()]
        raise AssertionError(f"unexpected message crossed: {got!r}")


# -- pyzmq monitors ------------------------------------------------------------------------------


@dataclass
class Monitor:
    """Collects a pyzmq socket's monitor events; create it before bind/connect."""

    sock: Any
    events: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._mon = self.sock.get_monitor_socket()

    def pump(self, timeout_ms: int = 0) -> None:
        while self._mon.poll(timeout_ms):
            event = recv_monitor_message(self._mon)
            self.events.append((event["event"], event["value"]))
            timeout_ms = 0

    def wait_for(
        self, predicate: Callable[[list[tuple[int, int]]], bool], timeout_s: float = 5.0
    ) -> list[tuple[int, int]]:
        deadline = time.monotonic() + timeout_s
        while not predicate(self.events):
            if time.monotonic() > deadline:
                names = [_event_name(e) for e, _ in self.events]
                raise AssertionError(f"monitor condition not met within {timeout_s}s: {names}")
            self.pump(20)
        return self.events

    def count(self, kinds: Iterable[int]) -> int:
        wanted = set(kinds)
        return sum(1 for e, _ in self.events if e in wanted)

    def close(self) -> None:
        try:
            self.sock.disable_monitor()
        finally:
            self._mon.close(linger=0)


def _event_name(event: int) -> str:
    for name in dir(pyzmq):
        if name.startswith("EVENT_") and name != "EVENT_ALL" and getattr(pyzmq, name) == event:
            return name
    return str(event)


def event_names(events: Iterable[tuple[int, int]]) -> list[str]:
    return [_event_name(e) for e, _ in events]


# -- the 'purezmq' log ---------------------------------------------------------------------------


def purezmq_warnings(caplog: Any) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if (r.name == "purezmq" or r.name.startswith("purezmq.")) and r.levelno >= logging.WARNING
    ]


def wait_for_refusal_log(caplog: Any, fragment: str, timeout_s: float = 5.0) -> logging.LogRecord:
    """A WARNING+ record on the 'purezmq' logger naming ``fragment`` (the connection's endpoint or
    port) and saying the handshake was refused or failed."""
    deadline = time.monotonic() + timeout_s
    while True:
        for record in purezmq_warnings(caplog):
            message = record.getMessage()
            if fragment in message and REFUSAL_WORDS.search(message):
                return record
        if time.monotonic() > deadline:
            seen = [r.getMessage() for r in purezmq_warnings(caplog)]
            raise AssertionError(
                f"no WARNING on the 'purezmq' logger reports the refused handshake "
                f"({fragment!r}); records: {seen}"
            )
        time.sleep(0.02)


def assert_no_errors_logged(caplog: Any) -> None:
    """Refusals are reported, but never as errors or tracebacks (the library keeps running)."""
    bad = [
        r.getMessage()
        for r in caplog.records
        if (r.name == "purezmq" or r.name.startswith("purezmq."))
        and (r.levelno >= logging.ERROR or r.exc_info)
    ]
    assert not bad, f"purezmq logged errors: {bad}"
