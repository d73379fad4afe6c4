"""A stream transport over a non-blocking socket, driven by a selector loop (the I/O thread).

It offers the methods of ``asyncio.Transport`` that the ZMTP engine uses and calls the engine as
an ``asyncio.Protocol``, so the engine runs the same here and on an asyncio loop. It knows the loop
only by the few calls in ``SelectorLoop``; it must not reach into engines or sockets.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("purezmq")

READ_SIZE = 256 * 1024
#: How long a graceful close waits for the peer to close its side after ours.
CLOSE_WAIT = 10.0
#: Above this many buffered bytes the engine is asked to pause writing.
WRITE_HIGH_WATER = 256 * 1024
_IOV_MAX = 512

_thread_buffers = threading.local()

#: Kinds of unexpected failure already logged with a traceback, and how often each occurred.
_faults_seen: dict[tuple[str, str, str, int], int] = {}
_FAULT_KINDS_MAX = 1000


def report_fault(where: str, exc: BaseException) -> None:
    """Log an unexpected exception (a bug, or memory running out) once per kind -- where it
    was caught, its type, and the line that raised it -- with its traceback; later ones of the
    same kind at debug level only: a fault that repeats for every connection or every loop turn
    must not flood the log (nor, out of memory, fail again while formatting tracebacks)."""
    try:
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        origin = ("", 0) if tb is None else (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        key = (where, type(exc).__name__, *origin)
        count = _faults_seen.get(key, 0)
        if count or len(_faults_seen) >= _FAULT_KINDS_MAX:
            _faults_seen[key] = count + 1
            log.debug("purezmq: %s failed again: %r", where, exc)
            return
        _faults_seen[key] = 1
        log.error(
            "purezmq: %s failed (further failures of this kind are logged at debug level)",
            where,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
    except Exception:  # (Out of memory even for this: nothing more to do.)
        pass


class SelectorLoop(Protocol):
    """What the transport needs of its loop (the I/O thread, or a socket's locked view of it)."""

    def add_reader(self, fd: Any, callback: Callable[[], None]) -> None: ...

    def remove_reader(self, fd: Any) -> None: ...

    def add_writer(self, fd: Any, callback: Callable[[], None]) -> None: ...

    def remove_writer(self, fd: Any) -> None: ...

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Any: ...

    def wrap(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """``callback`` as the loop will call it (registered again and again: made once)."""


class StreamProtocol(Protocol):
    #: A hint: body_buffer() is worth asking (a large frame is being received).
    large_pending: bool

    def connection_made(self, transport: Any) -> None: ...

    def data_received(self, data: bytes) -> None: ...

    def body_buffer(self) -> memoryview | None: ...

    def body_received(self, count: int) -> None: ...

    def eof_received(self) -> bool | None: ...

    def connection_lost(self, exc: Exception | None) -> None: ...

    def pause_writing(self) -> None: ...

    def resume_writing(self) -> None: ...


class SelectorTransport:
    def __init__(self, loop: SelectorLoop, sock: socket.socket, protocol: StreamProtocol) -> None:
        self._loop = loop
        self._sock = sock
        self._protocol = protocol
        self._buffer: deque[memoryview | bytes] = deque()
        self._buffered = 0
        self._reading = False
        self._writing_paused = False
        self._closing = False
        self._closed = False
        self._close_timer: Any = None
        self._borrower: Callable[[], None] | None = None
        # Registered anew at each resume and give-back: wrap it for the loop once.
        self._reader = loop.wrap(self._on_readable)
        self._extra = {"socket": sock, "peername": _peername(sock)}
        protocol.connection_made(self)
        if not self._closing:
            self.resume_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._extra.get(name, default)

    def is_closing(self) -> bool:
        return self._closing

    def can_write_eof(self) -> bool:
        # close() already shuts the write side and waits for the peer (see _half_close).
        return False

    def get_write_buffer_size(self) -> int:
        return self._buffered

    # -- reading -----------------------------------------------------------------------------

    def pause_reading(self) -> None:
        if self._reading and not self._closed:
            self._reading = False
            if self._borrower is None:
                self._loop.remove_reader(self._sock)

    def resume_reading(self) -> None:
        if not self._reading and not self._closing:
            self._reading = True
            if self._borrower is None:
                self._loop.add_reader(self._sock, self._reader)

    # -- reading from the socket's own thread ------------------------------------------------
    # A socket about to sleep in recv borrows its connection: the I/O thread stops watching it,
    # the socket's thread waits on it and reads itself, then gives it back. A reply then costs
    # no thread hand-off. All three are called holding the socket's I/O lock.

    def borrow(self, wake: Callable[[], None]) -> bool:
        """Take reading over from the I/O thread; ``wake`` is called if the connection ends
        meanwhile (the borrower may be waiting on its file descriptor)."""
        if self._borrower is not None or not self._reading or self._closing:
            return False
        self._borrower = wake
        self._loop.remove_reader(self._sock)
        return True

    def borrowed_by(self, wake: Callable[[], None]) -> bool:
        return self._borrower is wake

    def readable_by(self, wake: Callable[[], None]) -> bool:
        """Borrowed by ``wake`` and worth waiting on (reading, not closing)."""
        return self._borrower is wake and self._reading and not self._closing

    def read_now(self) -> None:
        if self._borrower is not None and self._reading and not self._closing:
            self._on_readable()

    def give_back(self) -> None:
        if self._borrower is None:
            return
        self._borrower = None
        if self._reading and not self._closing:
            self._loop.add_reader(self._sock, self._reader)

    def fileno(self) -> int:
        return self._sock.fileno()

    def _on_readable(self) -> None:
        # (Called by the I/O thread, or by the socket's own thread reading a borrowed
        # connection: whatever goes wrong here ends this connection and goes no further.)
        try:
            # Inside a large frame the protocol offers the frame's own buffer: no copy.
            protocol = self._protocol
            direct = protocol.body_buffer() if protocol.large_pending else None
            if direct is not None:
                view = direct
            else:
                try:
                    view = _thread_buffers.view
                except AttributeError:
                    # One buffer per reading thread (the I/O thread, a socket's own thread),
                    # reused: a fresh 256 KiB bytes object per read costs mmap/munmap calls,
                    # one per connection would cost 256 KiB each.
                    view = _thread_buffers.view = memoryview(bytearray(READ_SIZE))
            try:
                count = self._sock.recv_into(view)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._force_close(exc)
                return
            if not count:
                protocol.eof_received()
                self._force_close(None)
            elif direct is not None:
                protocol.body_received(count)
            else:
                protocol.data_received(view[:count].tobytes())
        except Exception as exc:
            self._fault("reading a connection", exc)

    def _fault(self, where: str, exc: Exception) -> None:
        """Something failed that should not have (a bug, or memory running out): log it once
        per kind and drop this connection, the one it concerned; nothing else."""
        report_fault(where, exc)
        try:
            self._force_close(exc)
        except Exception as again:
            report_fault("closing a connection", again)

    # -- writing -----------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self.writelines([data])

    def writelines(self, chunks: list[bytes]) -> None:
        if self._closed or not chunks:
            return
        if not self._buffer:
            # Try to write at once: the usual case, and the one that costs least latency.
            try:
                if len(chunks) == 1:
                    sent = self._sock.send(chunks[0])
                    if sent == len(chunks[0]):
                        return  # All written (the usual case): nothing to account for.
                else:
                    sent = self._sock.sendmsg(chunks[:_IOV_MAX])
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._force_close(exc)
                return
            total = 0
            for chunk in chunks:
                size = len(chunk)
                if sent >= size:
                    sent -= size
                    continue
                view = memoryview(chunk)[sent:] if sent else chunk
                sent = 0
                self._buffer.append(view)
                total += len(view)
            if not total:
                return
            self._buffered += total
            self._loop.add_writer(self._sock, self._on_writable)
        else:
            for chunk in chunks:
                self._buffer.append(chunk)
                self._buffered += len(chunk)
        self._maybe_pause_protocol()

    def _maybe_pause_protocol(self) -> None:
        if not self._writing_paused and self._buffered > WRITE_HIGH_WATER:
            self._writing_paused = True
            self._protocol.pause_writing()

    def _on_writable(self) -> None:
        try:
            self._write_buffered()
        except Exception as exc:
            self._fault("writing a connection", exc)

    def _write_buffered(self) -> None:
        buffer = self._buffer
        while buffer:
            chunks = list(buffer)[:_IOV_MAX]
            try:
                sent = self._sock.sendmsg(chunks)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._force_close(exc)
                return
            self._buffered -= sent
            while sent:
                head = buffer[0]
                if sent >= len(head):
                    sent -= len(head)
                    buffer.popleft()
                else:
                    buffer[0] = memoryview(head)[sent:]
                    sent = 0
            if self._buffered > 0 and chunks and len(chunks) < _IOV_MAX:
                break
        if not buffer:
            self._loop.remove_writer(self._sock)
            if self._closing:
                self._half_close()
                return
        if self._writing_paused and self._buffered <= WRITE_HIGH_WATER // 4:
            self._writing_paused = False
            self._protocol.resume_writing()

    # -- closing -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close after the buffered data is written."""
        if self._closing:
            return
        self._closing = True
        self.pause_reading()
        self._reading = False
        if not self._buffer:
            self._half_close()

    def _half_close(self) -> None:
        """Shut our side and wait for the peer's end-of-stream before closing the socket.

        Closing at once can cost the peer the data still queued for it: libzmq over ipc drops
        what it has not read when it sees the connection hang up while its pipe is full."""
        if self._closed:
            return
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._force_close(None)
            return
        self._loop.add_reader(self._sock, self._read_until_eof)
        self._close_timer = self._loop.call_later(CLOSE_WAIT, self._force_close, None)

    def _read_until_eof(self) -> None:
        try:
            data = self._sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._force_close(None)

    def abort(self) -> None:
        self._force_close(None)

    def _force_close(self, exc: Exception | None) -> None:
        if self._closed:
            return
        self._closed = True
        self._closing = True
        if self._close_timer is not None:
            self._close_timer.cancel()
        self._buffer.clear()
        self._buffered = 0
        borrower, self._borrower = self._borrower, None
        if borrower is not None:
            borrower()
        self._loop.remove_reader(self._sock)
        self._loop.remove_writer(self._sock)
        try:
            self._sock.close()
        finally:
            self._protocol.connection_lost(exc)


def _peername(sock: socket.socket) -> Any:
    try:
        return sock.getpeername()
    except OSError:
        return None
