"""One side of a fault test, run in a network namespace: ``python peer.py CONFIG_JSON``.

CONFIG_JSON is a dict: ``impl`` ("zmq" for pyzmq or "purezmq"), ``role`` (below), ``type``
(the socket type's name), ``endpoint``, ``bind`` (bind rather than connect), ``opts`` (socket
options by name, set before bind/connect) and the role's own keys.

The test drives a peer with one command per line on stdin and reads markers, one line each, on
stdout (written whole with os.write, so forked children can share the pipe). Every peer prints
``PID pid`` first (``ip netns exec`` runs it as a child: the test needs its own pid), ``READY``
once its socket is bound or connecting, and ``OPTERR name error`` then exits 3 if an option is
refused. stdin closing (the test went away) ends the peer at once; so does any error, with a
traceback on stderr. Nothing here waits without a bound.

Roles:

``send``      PUSH, DEALER or PUB. Sends messages ``b"life:seq:padding"`` without blocking
              (NOBLOCK; at the high-water mark it retries on the next turn). ``count`` messages
              at ``rate`` per second after ``GO`` (mode "stream"), or ``BATCH k`` more at once per
              command (mode "ondemand"). A PUB sends ``b"W"`` probes every 20 ms until GO, so
              the test can wait for the subscription (``WARM`` from the SUB). A DEALER reads the
              ROUTER's echoes and checks their order. Markers: ``SENT n``, ``ECHO n`` (progress,
              at most every 0.1 s), ``DONE n`` once all ``count`` are sent.
``recv``      PULL, ROUTER or SUB. Checks that each life's sequence numbers arrive in order with
              nothing missing in between (a gap, a duplicate or a reordering is an error). A
              ROUTER with ``echo`` sends each message back to its sender. Markers: ``RECV n``
              (progress), ``WARM`` (a SUB's first probe), ``AT life k`` when a life reaches one of
              the counts in ``marks``, ``ALL n`` when ``count`` messages have arrived.
``lpclient``  The zguide's Lazy Pirate client: ``count`` requests, one at a time, ``gap``
              seconds apart; a request with no reply within ``timeout_ms`` is retried on a new
              REQ socket (close with linger 0, open, connect, send again). Markers: ``REPLY i
              retries`` per answered request, ``DONE n retries``.
``lpserver``  REP: answers ``b"req:i"`` with ``b"rep:i"``. Marker: ``SERVED n`` (progress).
``feed``      A bound PUSH that sends ``b"g:seq:padding"`` at ``rate`` per second until the
              command ``END``, then ``b"END"``. Markers: ``FED n`` (progress), ``ENDED n``.
``zygote``    The peer that is killed and restarted: imports the library once, then forks one
              child per ``SPAWN life [final]`` (marker ``CHILD life pid``); the test SIGKILLs the
              child. A child runs ``type`` (PUSH or DEALER: sends its life's sequence, like
              ``send``; PULL: receives from a ``feed``) and records its counts in shared memory
              (``STATS`` prints them all). A ``final`` child sends ``final_count`` messages, or
              receives until ``END``, then closes its socket normally (linger -1) and exits.
              Children print ``AT life k`` for the counts in ``marks`` they receive.

Every role ends on ``EXIT`` (closing with the ``linger`` given in the config, default 0), and
all but ``lpclient`` (whose markers say it all) answer ``STATS`` with ``STATS {json}``.
"""

from __future__ import annotations

import importlib
import json
import mmap
import os
import select
import signal
import struct
import sys
import time
import traceback

cfg = json.loads(sys.argv[1])
zmq = importlib.import_module(cfg["impl"])
if zmq.__name__ != cfg["impl"]:  # (e.g. purezmq installed as zmq: not the reference then)
    raise SystemExit(f"peer: import {cfg['impl']} gave {zmq.__name__}")

#: How long one blocking operation in this script may take.
OP_TIMEOUT_MS = 5000
PROGRESS_EVERY = 0.1


def say(*words: object) -> None:
    os.write(1, (" ".join(str(word) for word in words) + "\n").encode())


class Commands:
    """Lines from stdin, read without blocking."""

    def __init__(self) -> None:
        self.buf = b""

    def poll(self, timeout: float = 0.0) -> list[str]:
        lines: list[str] = []
        if select.select([0], [], [], max(0.0, timeout))[0]:
            chunk = os.read(0, 65536)
            if not chunk:
                os._exit(0)  # the test is gone: nothing to wait for
            self.buf += chunk
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            lines.append(line.decode().strip())
        return lines


def make_socket(ctx, kind: str | None = None):
    sock = ctx.socket(getattr(zmq, kind or cfg["type"]))
    for name, value in cfg.get("opts", {}).items():
        try:
            sock.setsockopt(getattr(zmq, name), value)
        except Exception as exc:  # (reported to the test, which decides)
            say("OPTERR", name, repr(exc).replace("\n", " "))
            os._exit(3)
    sock.setsockopt(zmq.LINGER, cfg.get("linger", 0))
    sock.setsockopt(zmq.SNDTIMEO, OP_TIMEOUT_MS)
    sock.setsockopt(zmq.RCVTIMEO, OP_TIMEOUT_MS)
    if sock.type == zmq.SUB:
        sock.setsockopt(zmq.SUBSCRIBE, b"")
    return sock


def attach(sock) -> None:
    if cfg.get("bind"):
        sock.bind(cfg["endpoint"])
    else:
        sock.connect(cfg["endpoint"])


def body(life: int, seq: int) -> bytes:
    head = b"%d:%d:" % (life, seq)
    return head + b"x" * max(0, cfg.get("size", 64) - len(head))


def parse(message: bytes) -> tuple[int, int]:
    life, seq, _ = message.split(b":", 2)
    return int(life), int(seq)


class Progress:
    """A marker line, printed at most every PROGRESS_EVERY seconds and only when it changed."""

    def __init__(self, word: str) -> None:
        self.word, self.shown, self.at = word, None, 0.0

    def show(self, value: int, force: bool = False) -> None:
        now = time.monotonic()
        if value != self.shown and (force or now - self.at >= PROGRESS_EVERY):
            say(self.word, value)
            self.shown, self.at = value, now


class Order:
    """Per life: how many arrived and whether they came in order with nothing skipped."""

    def __init__(self) -> None:
        self.lives: dict[int, dict] = {}

    def add(self, life: int, seq: int) -> int:
        state = self.lives.setdefault(life, {"count": 0, "next": 0, "errors": [], "first": seq})
        if seq != state["next"] and len(state["errors"]) < 20:
            state["errors"].append([state["next"], seq])
        state["next"] = seq + 1
        state["last"] = seq
        state["count"] += 1
        return state["count"]


def poller_for(sock):
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    poller.register(0, zmq.POLLIN)
    return poller


def role_send(ctx, commands: Commands) -> None:
    sock = make_socket(ctx)
    attach(sock)
    kind = cfg["type"]
    say("READY")
    count, rate = cfg.get("count", 0), cfg.get("rate", 0)
    ondemand = cfg.get("mode") == "ondemand"
    target = 0 if ondemand else None
    seq = again = 0
    echoes = Order()
    sent_p, echo_p = Progress("SENT"), Progress("ECHO")
    started = next_at = None
    probe_at = 0.0
    poller = poller_for(sock) if kind == "DEALER" else None
    while True:
        for line in commands.poll():
            word, *args = line.split() or [""]
            if word == "GO":
                started = next_at = time.monotonic()
                target = count
            elif word == "BATCH":
                target = (target or 0) + int(args[0])
            elif word == "STATS":
                say("STATS", json.dumps({"sent": seq, "again": again, "echo": echoes.lives}))
            elif word == "EXIT":
                sock.close(cfg.get("linger", 0))
                return
        now = time.monotonic()
        if kind == "PUB" and target is None and now >= probe_at:
            sock.send(b"W", zmq.NOBLOCK)
            probe_at = now + 0.02
        while target is not None and seq < target:
            if not ondemand and rate and now < next_at:
                break
            try:
                sock.send(body(0, seq), zmq.NOBLOCK)
            except zmq.Again:
                again += 1
                break
            seq += 1
            if not ondemand and rate:
                next_at = started + seq / rate
            if seq == count and not ondemand:
                say("DONE", seq)
        sent_p.show(seq)
        if poller is not None:
            while True:
                try:
                    message = sock.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                echoes.add(*parse(message))
            echo_p.show(echoes.lives.get(0, {}).get("count", 0))
        # Sleep until the next send is due, a command or (DEALER) an echo arrives.
        wait = 0.02
        if target is not None and seq < target and not ondemand and rate:
            wait = min(wait, max(0.0, next_at - time.monotonic()))
        elif target is not None and seq < target:
            wait = 0.001  # at the high-water mark: try again soon
        if poller is not None:
            poller.poll(wait * 1000)
        else:
            select.select([0], [], [], wait)  # (a command wakes it; read at the top)


def role_recv(ctx, commands: Commands) -> None:
    sock = make_socket(ctx)
    attach(sock)
    say("READY")
    kind, count = cfg["type"], cfg.get("count", 0)
    marks, echo = set(cfg.get("marks", [])), cfg.get("echo", False)
    order = Order()
    total = 0
    warm = False
    routing_ids: dict[int, list[str]] = {}
    recv_p = Progress("RECV")
    poller = poller_for(sock)
    while True:
        for line in commands.poll():
            if line == "STATS":
                stats = {"total": total, "lives": order.lives, "routing_ids": routing_ids}
                say("STATS", json.dumps(stats))
            elif line == "EXIT":
                sock.close(cfg.get("linger", 0))
                return
        for _ in range(1000):
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            message = frames[-1]
            if message == b"W":
                if not warm:
                    warm = True
                    say("WARM")
                continue
            life, seq = parse(message)
            n = order.add(life, seq)
            total += 1
            if kind == "ROUTER":
                ids = routing_ids.setdefault(life, [])
                if frames[0].hex() not in ids:
                    ids.append(frames[0].hex())
                if echo:
                    try:
                        sock.send_multipart(frames, zmq.NOBLOCK)
                    except zmq.ZMQError:
                        pass  # (peer gone, or at its high-water mark: ROUTER drops)
            if n in marks:
                say("AT", life, n)
            if total == count:
                recv_p.show(total, force=True)
                say("ALL", total)
        recv_p.show(total)
        poller.poll(50)


def role_lpclient(ctx, commands: Commands) -> None:
    count, gap, timeout_ms = cfg["count"], cfg.get("gap", 0.1), cfg.get("timeout_ms", 1000)
    retries_total = 0
    say("READY")
    sock = None
    for i in range(count):
        request = b"req:%d" % i
        retries = 0
        while True:
            if sock is None:
                sock = make_socket(ctx, "REQ")
                attach(sock)
            sock.send(request)
            if sock.poll(timeout_ms, zmq.POLLIN):
                reply = sock.recv()
                if reply != b"rep:%d" % i:
                    raise SystemExit(f"lpclient: reply {reply!r} to {request!r}")
                break
            # No reply in time: abandon this socket (its request may still be answered, to
            # nobody) and ask again on a new one, as the zguide's Lazy Pirate does.
            sock.close(0)
            sock = None
            retries += 1
            for line in commands.poll():
                if line == "EXIT":
                    return
        retries_total += retries
        say("REPLY", i, retries)
        for line in commands.poll(gap):
            if line == "EXIT":
                sock.close(0)
                return
    say("DONE", count, retries_total)
    while True:
        for line in commands.poll(1.0):
            if line == "EXIT":
                sock.close(0)
                return


def role_lpserver(ctx, commands: Commands) -> None:
    sock = make_socket(ctx, "REP")
    attach(sock)
    say("READY")
    served = 0
    served_p = Progress("SERVED")
    poller = poller_for(sock)
    while True:
        for line in commands.poll():
            if line == "EXIT":
                sock.close(0)
                return
            if line == "STATS":
                say("STATS", json.dumps({"served": served}))
        if dict(poller.poll(100)).get(sock):
            request = sock.recv()
            sock.send(b"rep:" + request.split(b":", 1)[1])
            served += 1
        served_p.show(served)


def role_feed(ctx, commands: Commands) -> None:
    sock = make_socket(ctx, "PUSH")
    attach(sock)
    say("READY")
    rate = cfg.get("rate", 1000)
    seq = again = 0
    fed_p = Progress("FED")
    started = time.monotonic()
    while True:
        for line in commands.poll():
            if line == "STATS":
                say("STATS", json.dumps({"sent": seq, "again": again}))
            elif line == "END":
                sock.send(b"END")  # (SNDTIMEO bounds it)
                say("ENDED", seq)
            elif line == "EXIT":
                sock.close(cfg.get("linger", 0))
                return
        now = time.monotonic()
        while seq < (now - started) * rate:
            try:
                sock.send(b"g:" + body(0, seq)[2:], zmq.NOBLOCK)
            except zmq.Again:
                # No peer connected (a PUSH then blocks): try again soon, and do not build up
                # a burst to send once one is there.
                again += 1
                started = now - seq / rate
                break
            seq += 1
        fed_p.show(seq)
        select.select([0], [], [], 0.002)


# -- the zygote and its children -----------------------------------------------------------------

#: Per life, in shared memory: sent, received, first seq received, last seq received, errors.
SLOT = struct.Struct("5q")
MAX_LIVES = 1024


def run_child(life: int, final: bool, shm: mmap.mmap) -> None:
    """One life of the killed peer. Never returns."""
    kind = cfg["type"]
    marks = set(cfg.get("marks", []))
    offset = life * SLOT.size

    def record(sent: int, got: int, first: int, last: int, errors: int) -> None:
        shm[offset : offset + SLOT.size] = SLOT.pack(sent, got, first, last, errors)

    ctx = zmq.Context()
    sock = make_socket(ctx)
    sock.setsockopt(zmq.LINGER, -1 if final else 0)
    attach(sock)
    rate = cfg.get("rate", 1000)
    limit = cfg.get("final_count", 100) if final else None
    sent = got = errors = 0
    first = last = -1
    started = time.monotonic()
    deadline = started + cfg.get("life_timeout", 30)
    while time.monotonic() < deadline:
        if kind in ("PUSH", "DEALER"):
            now = time.monotonic()
            while (limit is None or sent < limit) and sent < (now - started) * rate:
                try:
                    sock.send(body(life, sent), zmq.NOBLOCK)
                except zmq.Again:
                    break
                sent += 1
                record(sent, got, first, last, errors)
        if kind in ("DEALER", "PULL"):
            while True:
                try:
                    message = sock.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if message == b"END":
                    sock.close()
                    ctx.term()
                    os._exit(0)
                seq = int(message.split(b":", 2)[1])
                if last >= 0 and seq != last + 1:
                    errors += 1
                if first < 0:
                    first = seq
                last = seq
                got += 1
                record(sent, got, first, last, errors)
                if kind == "PULL" and got in marks:
                    say("AT", life, got)
        if kind == "PUSH" and limit is not None and sent >= limit:
            sock.close()  # linger -1: everything sent is delivered before term() returns
            ctx.term()
            os._exit(0)
        if kind == "DEALER" and limit is not None and got >= limit:
            sock.close()
            ctx.term()
            os._exit(0)
        time.sleep(0.001)
    os._exit(4)


def role_zygote(commands: Commands) -> None:
    shm = mmap.mmap(-1, SLOT.size * MAX_LIVES)
    children: dict[int, int] = {}
    say("READY")
    while True:
        for line in commands.poll(0.05):
            word, *args = line.split() or [""]
            if word == "SPAWN":
                life = int(args[0])
                pid = os.fork()
                if pid == 0:
                    try:
                        os.close(0)
                        os.open(os.devnull, os.O_RDONLY)
                        run_child(life, args[1:] == ["final"], shm)
                    except BaseException:
                        traceback.print_exc()
                    os._exit(5)
                children[pid] = life
                say("CHILD", life, pid)
            elif word == "STATS":
                lives = {}
                for life in sorted(set(children.values()) | set(reaped_lives)):
                    sent, got, first, last, errors = SLOT.unpack_from(shm, life * SLOT.size)
                    lives[life] = {
                        "sent": sent,
                        "got": got,
                        "first": first,
                        "last": last,
                        "errors": errors,
                        "status": reaped_lives.get(life),
                    }
                say("STATS", json.dumps(lives))
            elif word == "EXIT":
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
                return
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            life = children.pop(pid)
            reaped_lives[life] = os.waitstatus_to_exitcode(status)
            say("REAPED", life, reaped_lives[life])


reaped_lives: dict[int, int] = {}


def main() -> None:
    say("PID", os.getpid())  # (`ip netns exec` forks: the test needs this process's own pid)
    commands = Commands()
    role = cfg["role"]
    if role == "zygote":
        role_zygote(commands)
        return
    ctx = zmq.Context()
    try:
        {
            "send": role_send,
            "recv": role_recv,
            "lpclient": role_lpclient,
            "lpserver": role_lpserver,
            "feed": role_feed,
        }[role](ctx, commands)
    finally:
        ctx.destroy(0)
    say("BYE")


if __name__ == "__main__":
    main()
