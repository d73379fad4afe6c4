#!/usr/bin/env python
"""A mutation fuzzer for purezmq's sans-IO protocol layer (no hypothesis needed).

It records real conversations first: two ``Connection`` objects talking to each other in memory
(NULL, NULL with ZAP, PLAIN and CURVE; DEALER/ROUTER, SUB/PUB and REQ/REP), their handshakes and
then messages of every size class, subscriptions and pings. Then it runs N inputs, each one of:

- ``decoder``: a mutated traffic stream fed to a ``FrameDecoder`` (random MAXMSGSIZE), read the
  way the transport reads it (large bodies straight into ``body_buffer()``);
- ``replay``: a mutated recording of one side fed to a fresh ``Connection`` of the other side
  (server or client), in random chunks, AuthRequests answered;
- ``mitm``: a live conversation between two connections where one write, in one direction, is
  mutated on its way (this reaches every state of every mechanism, CURVE's traffic included).

Mutations: bit flips, interesting bytes, insertions, deletions, duplications, truncation,
splices of other recordings, frame sizes rewritten to interesting claims (up to 2**64-1),
frame flags rewritten, greeting variants (versions 1.0 to 4.x, bad signatures, other mechanisms).

What is checked: the only exception out of the protocol layer is ProtocolError (or a subclass);
a ProtocolError from ``receive_data``/``received_into`` carries an ``events`` list and leaves
the connection closed for good; events are of the documented types; after every read, the bytes
a connection (or decoder) holds stay within twice what it was fed plus one body chunk; every
``--sample``-th input runs under tracemalloc, its peak bounded by four times the input plus a
few MiB. The report gives the peak RSS of the whole run (getrusage) and the largest traced peak.

Anything else is reported with a reproducer written to ``--out-dir`` (JSON: the target, the
seed and index that regenerate the input, and the input's bytes); ``--replay FILE`` runs one.

    python scripts/fuzz_protocol.py                      # 1,000,000 inputs
    python scripts/fuzz_protocol.py -n 20000 --seed 7 --json report.json
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import random
import re
import resource
import struct
import sys
import time
import traceback
import tracemalloc
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

try:
    import purezmq  # noqa: F401
except ImportError:  # Run from a checkout that is not installed.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from purezmq.protocol import Connection, ProtocolError
from purezmq.protocol.connection import (
    HandshakeComplete,
    PeerError,
    PeerTtl,
    Pong,
    State,
    SubscriptionChange,
)
from purezmq.protocol.frames import LONG, FrameDecoder, encode_command, encode_messages
from purezmq.protocol.mechanisms import AuthRequest, NullMechanism, PlainClient, PlainServer

_sodium: Any
try:
    import nacl.bindings as _sodium

    from purezmq.protocol.mechanisms.curve import CurveClient, CurveServer
except ImportError:  # CURVE needs PyNaCl: fuzz the rest.
    _sodium = None

GREETING_SIZE = 64
#: A body chunk of a large frame (frames._FIRST_CHUNK): what a connection may hold beyond twice
#: what it was fed.
CHUNK = 256 * 1024
MEMORY_SLACK = CHUNK + 64 * 1024

MECHANISMS = ["NULL", "NULL-ZAP", "PLAIN", *(["CURVE"] if _sodium is not None else [])]
#: (client, server) socket types.
PAIRS = [("DEALER", "ROUTER"), ("SUB", "PUB"), ("REQ", "REP")]

INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x7F, 0x80, 0xFE, 0xFF]
INTERESTING_SIZES = [
    0,
    1,
    2,
    254,
    255,
    256,
    65_535,
    65_536,
    65_537,
    262_144,
    262_145,
    2**20,
    2**30,
    2**31 - 1,
    2**31,
    2**32,
    2**40,
    2**47 - 1,
    2**47,
    2**62,
    2**63 - 1,
    2**63,
    2**64 - 1,
]
GREETING_VARIANTS: list[tuple[int, bytes]] = [
    # (offset, bytes written there)
    (10, b"\x03\x00"),  # ZMTP 3.0
    (10, b"\x03\x01"),
    (10, b"\x03\xff"),
    (10, b"\x04\x02"),  # a later version: spoken as 3.1
    (10, b"\x02\x00"),  # ZMTP 2.0
    (10, b"\x01\x00"),
    (10, b"\x00\x00"),
    (0, b"\xfe"),  # not the signature
    (0, b"\x00"),
    (9, b"\x00"),  # ZMTP 1.0 (no final-short bit)
    (9, b"\x7e"),
    (12, b"NULL" + bytes(16)),
    (12, b"PLAIN" + bytes(15)),
    (12, b"CURVE" + bytes(15)),
    (12, bytes(20)),  # no mechanism
    (12, b"null" + bytes(16)),
    (12, b"X" * 20),
    (12, b"\x00NULL" + bytes(15)),
    (12, b"NU\x00LL" + bytes(15)),
    (12, b"N\x7fLL" + bytes(16)),
    (32, b"\x01"),  # as-server
    (32, b"\xff"),
    (33, b"\xff" * 31),  # filler
]


def _keys() -> dict[str, bytes]:
    """Fixed long-term CURVE keys (the transient ones are fresh per connection)."""
    if _sodium is None:
        return {}
    server_public, server_secret = _sodium.crypto_box_seed_keypair(b"S" * 32)
    client_public, client_secret = _sodium.crypto_box_seed_keypair(b"C" * 32)
    return {
        "server_public": server_public,
        "server_secret": server_secret,
        "client_public": client_public,
        "client_secret": client_secret,
    }


KEYS = _keys()


def factories(mechanism: str) -> tuple[Callable[..., Any], Callable[..., Any], bool]:
    """(client factory, server factory, whether the server asks the application)."""
    if mechanism == "NULL":
        return NullMechanism, NullMechanism, False
    if mechanism == "NULL-ZAP":
        return NullMechanism, partial(NullMechanism, zap=True), True
    if mechanism == "PLAIN":
        return partial(PlainClient, username=b"admin", password=b"secret"), PlainServer, True
    if mechanism == "CURVE":
        client = partial(
            CurveClient,
            public_key=KEYS["client_public"],
            secret_key=KEYS["client_secret"],
            server_key=KEYS["server_public"],
        )
        return client, partial(CurveServer, secret_key=KEYS["server_secret"]), True
    raise ValueError(mechanism)


def make_connection(mechanism: str, socket_type: str, server: bool, limit: int = -1) -> Connection:
    client, server_factory, _ = factories(mechanism)
    return Connection(
        socket_type,
        as_server=server,
        identity=b"id-" + socket_type.encode(),
        mechanism=server_factory if server else client,
        max_message_size=limit,
    )


# -- recordings ---------------------------------------------------------------------------------


@dataclass
class Recording:
    """One real conversation: what each side wrote, write by write."""

    name: str
    mechanism: str
    client_type: str
    server_type: str
    to_server: list[bytes] = field(default_factory=list)
    to_client: list[bytes] = field(default_factory=list)

    def stream(self, to_server: bool) -> bytes:
        return b"".join(self.to_server if to_server else self.to_client)

    def reads(self, to_server: bool, rng: random.Random | None = None) -> list[int]:
        """Read sizes that follow the recorded writes (a server that asks the application
        must not get the client's next command before it answered), each write cut at random
        with ``rng``."""
        sizes = []
        for write in self.to_server if to_server else self.to_client:
            sizes += split(rng, len(write)) if rng is not None else [len(write)]
        return sizes


SMALL: list[Any] = [
    b"hello",
    [b"a", b""],
    b"",
    b"x" * 255,
    b"y" * 256,
    [b"z" * 9000, b"w"],
    [b"", b"q"] * 3,
]
LARGE: list[Any] = [b"L" * 70_000, [b"h", bytes(range(256)) * 1100]]


def _script(large: bool) -> list[tuple[str, str, Any]]:
    """What each side does once the handshake is over: (side, action, argument)."""
    messages = SMALL + (LARGE if large else [])
    return [
        ("client", "messages", messages),
        ("client", "subscribe", b"topic"),
        ("client", "ping", b"ctx"),
        ("server", "messages", list(reversed(messages))),
        ("server", "ping", b""),
        ("client", "cancel", b"topic"),
        ("server", "message", [b"last", b"one"]),
    ]


Intercept = Callable[[bool, int, bytes], bytes]


def converse(
    client: Connection,
    server: Connection,
    script: list[tuple[str, str, Any]],
    intercept: Intercept | None = None,
    status: bytes = b"200",
    chunker: Callable[[bytes], list[int]] | None = None,
) -> tuple[list[bytes], list[bytes]]:
    """Run a conversation between two connections in memory; ``intercept(to_server, index,
    data)`` may change each write on its way. Returns the writes of each side (as sent, before
    interception). A ProtocolError on either side ends it (raised)."""
    to_server: list[bytes] = []
    to_client: list[bytes] = []
    steps = iter(script)
    done = False
    pending: dict[int, list[bytes]] = {id(client): [], id(server): []}
    for _ in range(200):
        moved = False
        for sender, receiver, record, towards_server in (
            (client, server, to_server, True),
            (server, client, to_client, False),
        ):
            out = b"".join(pending[id(sender)] + sender.data_to_send())
            pending[id(sender)] = []
            if not out:
                continue
            moved = True
            index = len(record)
            record.append(out)
            if intercept is not None:
                out = intercept(towards_server, index, out)
            sizes = chunker(out) if chunker is not None else [len(out)]
            drive(receiver, out, sizes, status, pending[id(receiver)])
        if not moved:
            if done or client.state is not State.TRAFFIC or server.state is not State.TRAFFIC:
                break
            step = next(steps, None)
            if step is None:
                done = True
                continue
            side, action, argument = step
            conn = client if side == "client" else server
            if action == "messages":
                conn.send_messages(argument)
            elif action == "message":
                conn.send_message(argument)
            elif action in ("subscribe", "cancel"):
                conn.send_subscription(argument, action == "subscribe")
            elif action == "ping":
                conn.send_ping(10, argument)
    return to_server, to_client


def record_all() -> list[Recording]:
    """Every recording: each mechanism and socket pair, small messages and large ones."""
    recordings = []
    for mechanism, (client_type, server_type), large in itertools.product(
        MECHANISMS, PAIRS, (False, True)
    ):
        if large and (client_type, server_type) != PAIRS[0]:
            continue
        client = make_connection(mechanism, client_type, server=False)
        server = make_connection(mechanism, server_type, server=True)
        to_server, to_client = converse(client, server, _script(large))
        assert client.state is State.TRAFFIC and server.state is State.TRAFFIC, mechanism
        name = f"{mechanism}-{client_type}-{server_type}" + ("-large" if large else "")
        recordings.append(
            Recording(name, mechanism, client_type, server_type, to_server, to_client)
        )
    return recordings


def traffic_streams() -> list[bytes]:
    """Traffic-phase streams for the decoder alone: messages, commands, large frames."""
    streams = []
    batches: list[list[Any]] = [SMALL, SMALL + LARGE, [b"m"] * 50, [[b"e", b"n", b"v"]] * 20]
    for messages in batches:
        chunks: list[bytes] = []
        encode_messages(messages, chunks)
        streams.append(b"".join(chunks))
    commands = encode_command(b"SUBSCRIBE", b"t") + encode_command(b"PING", b"\x00\x0actx")
    streams.append(commands + streams[0] + encode_command(b"PONG", b"x" * 300))
    return streams


# -- mutation -----------------------------------------------------------------------------------


def frame_spans(data: bytes, start: int) -> list[tuple[int, int, int]]:
    """(offset, header length, claimed size) of the frames in ``data`` from ``start``."""
    spans: list[tuple[int, int, int]] = []
    pos = start
    while pos + 2 <= len(data) and len(spans) < 4096:
        if data[pos] & LONG:
            if pos + 9 > len(data):
                break
            (size,) = struct.unpack_from(">Q", data, pos + 1)
            spans.append((pos, 9, size))
            pos += 9 + size
        else:
            size = data[pos + 1]
            spans.append((pos, 2, size))
            pos += 2 + size
    return spans


def _frame_start(data: bytes) -> int:
    return GREETING_SIZE if data[:1] == b"\xff" and len(data) >= GREETING_SIZE else 0


OPS = [
    "flip",
    "set",
    "insert",
    "delete",
    "dup",
    "truncate",
    "splice",
    "size",
    "flags",
    "greeting",
    "append",
]


def apply_op(data: bytes, op: str, a: int, b: int, corpus: list[bytes]) -> bytes:
    """One mutation, fully determined by ``op``, ``a`` and ``b`` (any non-negative ints)."""
    n = len(data)
    if op == "flip" and n:
        pos = a % n
        return data[:pos] + bytes((data[pos] ^ (1 << (b % 8)),)) + data[pos + 1 :]
    if op == "set" and n:
        pos = a % n
        value = INTERESTING_BYTES[b % len(INTERESTING_BYTES)] if b & 1 else (b >> 1) % 256
        return data[:pos] + bytes((value,)) + data[pos + 1 :]
    if op == "insert":
        pos = a % (n + 1)
        return data[:pos] + random.Random(b).randbytes(1 + b % 24) + data[pos:]
    if op == "delete" and n:
        pos = a % n
        return data[:pos] + data[pos + 1 + b % 64 :]
    if op == "dup" and n:
        pos = a % n
        piece = data[pos : pos + 1 + b % 300]
        return data[:pos] + piece + data[pos:]
    if op == "truncate":
        return data[: a % (n + 1)]
    if op == "splice" and corpus:
        other = corpus[b % len(corpus)]
        return data[: a % (n + 1)] + other[(b >> 8) % (len(other) + 1) :]
    if op in ("size", "flags"):
        spans = frame_spans(data, _frame_start(data))
        if not spans:
            return data
        pos, header, size = spans[a % len(spans)]
        flags = data[pos]
        if op == "flags":
            flags = INTERESTING_BYTES[b % len(INTERESTING_BYTES)] if b & 1 else (b >> 1) % 256
            if header == 9:
                flags |= LONG
            elif flags & LONG:
                flags &= ~LONG
            return data[:pos] + bytes((flags,)) + data[pos + 1 :]
        size = INTERESTING_SIZES[b % len(INTERESTING_SIZES)]
        if size < 256 and not b & 1:
            new = bytes((flags & ~LONG, size))
        else:
            new = bytes((flags | LONG,)) + struct.pack(">Q", size)
        return data[:pos] + new + data[pos + header :]
    if op == "greeting":
        offset, patch = GREETING_VARIANTS[b % len(GREETING_VARIANTS)]
        if n < offset:
            return data
        return data[:offset] + patch + data[offset + len(patch) :]
    if op == "append":
        # A header claiming an interesting size, and a few bytes of its body.
        size = INTERESTING_SIZES[b % len(INTERESTING_SIZES)]
        flags = (a % 8) | LONG
        return data + bytes((flags,)) + struct.pack(">Q", size) + b"B" * (a % 100)
    return data


Mutation = list[tuple[str, int, int]]


def random_mutation(rng: random.Random) -> Mutation:
    count = rng.choice((1, 1, 1, 2, 2, 3, 4, 6))
    return [(rng.choice(OPS), rng.getrandbits(32), rng.getrandbits(32)) for _ in range(count)]


def mutate(data: bytes, mutation: Mutation, corpus: list[bytes]) -> bytes:
    for op, a, b in mutation:
        data = apply_op(data, op, a, b, corpus)
    return data


def random_sizes(rng: random.Random, length: int) -> list[int]:
    """Read sizes that cut ``length`` bytes (the last may run past the end)."""
    mode = rng.random()
    if mode < 0.35 or not length:
        return [max(length, 1)]
    if mode < 0.45 and length <= 600:
        return [1] * length
    if mode < 0.55:
        # (At most a few hundred reads: the cost of an input is in its reads.)
        step = max(rng.choice((2, 3, 7, 9, 10, 64, 65, 4096)), length // 256)
        return [step] * (length // step + 1)
    cuts = sorted(rng.randrange(length + 1) for _ in range(rng.randint(1, 12)))
    bounds = [0, *cuts, length]
    sizes = [b - a for a, b in itertools.pairwise(bounds) if b > a]
    return sizes or [length]


def split(rng: random.Random, length: int) -> list[int]:
    """``random_sizes`` cut to add up to ``length`` exactly."""
    sizes = []
    left = length
    for size in random_sizes(rng, length):
        if left <= 0:
            break
        sizes.append(min(size, left))
        left -= size
    return sizes


# -- driving and checking -----------------------------------------------------------------------


class Violation(Exception):
    """The protocol layer broke one of its promises (not a peer's fault)."""


_EVENT_TYPES = (HandshakeComplete, SubscriptionChange, PeerError, Pong, PeerTtl, AuthRequest)


def _check_events(events: Any) -> None:
    if type(events) is not list:
        raise Violation(f"events are a {type(events).__name__}, not a list")
    for event in events:
        if type(event) is bytes or isinstance(event, _EVENT_TYPES):
            continue
        if type(event) is list and len(event) > 1 and all(type(f) is bytes for f in event):
            continue
        raise Violation(f"unexpected event {event!r:.80}")


def decoder_held(decoder: FrameDecoder) -> int:
    """The bytes a decoder holds: its stream buffer and a large frame's body buffers."""
    large = getattr(decoder, "_large", None)  # (How a decoder before issue 17 kept a body.)
    chunks = getattr(decoder, "_chunks", ())
    return decoder.buffered + sum(map(len, chunks)) + (len(large) if large is not None else 0)


def held_bytes(conn: Connection) -> int:
    """What a connection holds of the bytes fed to it (not yet decoded, or a large body)."""
    return (
        decoder_held(conn._decoder)
        + len(conn._greeting_buffer)
        + sum(len(frame) for frame in conn._frames)
        + sum(len(frame) for frame in conn._wrapped)
    )


def _failed(conn: Connection, exc: ProtocolError) -> None:
    """The promises of a ProtocolError: events attached, the connection closed for good."""
    events = getattr(exc, "events", None)
    if events is None:
        raise Violation(f"ProtocolError without events: {exc}") from exc
    _check_events(events)
    if conn.state is not State.CLOSED:
        raise Violation(f"connection still {conn.state} after: {exc}") from exc
    try:
        conn.receive_data(b"\x00\x00")
    except ProtocolError:
        pass
    else:
        raise Violation("a failed connection accepted more bytes") from exc


#: The bytes fed to each connection so far.
_FED: weakref.WeakKeyDictionary[Connection, int] = weakref.WeakKeyDictionary()


def drive(
    conn: Connection,
    data: bytes,
    sizes: list[int],
    status: bytes = b"200",
    output: list[bytes] | None = None,
) -> int:
    """Feed ``data`` to ``conn`` in reads of ``sizes``, as the engine does: a large body into
    ``receive_buffer()``, AuthRequests answered with ``status``, what it writes collected into
    ``output`` (or dropped). Returns the events' count; a ProtocolError from receiving is
    checked (and raised again)."""
    fed = _FED.get(conn, 0)  # (What the connection was fed before: it may hold some of it.)
    count = pos = 0
    reads = itertools.cycle(sizes or [len(data)])
    while pos < len(data):
        size = next(reads)
        target = conn.receive_buffer() if conn.large_pending else None
        try:
            if target is not None:
                take = min(size, len(target), len(data) - pos)
                target[:take] = data[pos : pos + take]
                events = conn.received_into(take)
            else:
                take = size
                events = conn.receive_data(data[pos : pos + take])
        except ProtocolError as exc:
            _failed(conn, exc)
            raise
        pos += take
        fed += take
        _FED[conn] = fed
        if not conn.only_messages:
            _check_events(events)
            if any(isinstance(event, AuthRequest) for event in events):
                _check_events(conn.authentication_result(status, "", b"user", {}))
        count += len(events)
        written = conn.data_to_send()
        if output is not None:
            output += written
        held = held_bytes(conn)
        if held > 2 * fed + MEMORY_SLACK:
            raise Violation(f"holds {held} bytes after {fed} fed")
    return count


# -- targets ------------------------------------------------------------------------------------


@dataclass
class Case:
    """One input: what regenerates it (target, seed, index) and what it was."""

    target: str
    index: int
    seed: int
    detail: dict[str, Any] = field(default_factory=dict)
    data: bytes = b""


class Fuzzer:
    """Inputs regenerated from (seed, index): ``run_one`` runs one."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.recordings = record_all()
        self.streams = traffic_streams()
        self.corpus = [r.stream(True) for r in self.recordings]
        self.corpus += [r.stream(False) for r in self.recordings]
        self.corpus += self.streams
        self._targets = {"decoder": self._decoder, "replay": self._replay, "mitm": self._mitm}

    def rng(self, index: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + index)

    def pick(self, index: int) -> str:
        roll = self.rng(index).random()
        return "decoder" if roll < 0.2 else "replay" if roll < 0.7 else "mitm"

    def run_one(self, case: Case) -> None:
        """Run ``case`` (its target and index), filling in its detail and data as it goes."""
        rng = self.rng(case.index)
        rng.random()  # (The roll that picked the target.)
        self._targets[case.target](rng, case)

    def _decoder(self, rng: random.Random, case: Case) -> None:
        stream = rng.choice(self.streams)
        mutation = random_mutation(rng)
        case.data = data = mutate(stream, mutation, self.corpus)
        limit = rng.choice((-1, -1, 0, 10, 255, 256, 65_536, 70_000, 2**20))
        sizes = random_sizes(rng, len(data))
        case.detail = {"limit": limit, "mutation": mutation, "sizes": sizes[:64]}
        decoder = FrameDecoder(limit)
        partial_message: list[bytes] = []
        pos = fed = 0
        reads = itertools.cycle(sizes)
        while pos < len(data):
            size = next(reads)
            target = decoder.body_buffer() if decoder.large_pending else None
            if target is not None:
                take = min(size, len(target), len(data) - pos)
                target[:take] = data[pos : pos + take]
                decoder.body_filled(take)
            else:
                take = size
                try:
                    _, partial_message, _ = decoder.feed_messages(
                        data[pos : pos + take], partial_message
                    )
                except ProtocolError as exc:
                    if type(getattr(exc, "decoded", None)) is not list:
                        raise Violation("decoder error without 'decoded'") from exc
                    raise
            pos += take
            fed += take
            held = decoder_held(decoder)
            if held > 2 * fed + MEMORY_SLACK:
                raise Violation(f"decoder holds {held} bytes after {fed} fed")

    def _replay(self, rng: random.Random, case: Case) -> None:
        recording = rng.choice(self.recordings)
        to_server = rng.random() < 0.6
        mutation = random_mutation(rng)
        case.data = data = mutate(recording.stream(to_server), mutation, self.corpus)
        if rng.random() < 0.7:
            sizes = recording.reads(to_server, rng)  # (Goes deeper with ZAP and PLAIN.)
        else:
            sizes = random_sizes(rng, len(data))
        limit = rng.choice((-1, -1, -1, 100, 65_536))
        status = b"200" if rng.random() < 0.9 else rng.choice((b"400", b"500", b""))
        case.detail = {
            "recording": recording.name,
            "to_server": to_server,
            "mutation": mutation,
            "sizes": sizes[:64],
            "limit": limit,
            "status": status.decode(),
        }
        socket_type = recording.server_type if to_server else recording.client_type
        conn = make_connection(recording.mechanism, socket_type, to_server, limit)
        drive(conn, data, sizes, status)

    def _mitm(self, rng: random.Random, case: Case) -> None:
        mechanism = rng.choice(MECHANISMS)
        client_type, server_type = rng.choice(PAIRS)
        large = rng.random() < 0.1
        towards_server = rng.random() < 0.5
        write = rng.randrange(8)
        mutation = random_mutation(rng)
        chunk_rng = random.Random(rng.getrandbits(32))
        case.detail = {
            "mechanism": mechanism,
            "pair": [client_type, server_type],
            "large": large,
            "to_server": towards_server,
            "write": write,
            "mutation": mutation,
        }

        def intercept(to_server: bool, index: int, data: bytes) -> bytes:
            if to_server == towards_server and index == write:
                case.data = data = mutate(data, mutation, self.corpus)
            return data

        client = make_connection(mechanism, client_type, server=False)
        server = make_connection(mechanism, server_type, server=True)
        converse(
            client,
            server,
            _script(large),
            intercept,
            chunker=lambda data: random_sizes(chunk_rng, len(data)),
        )


# -- the run ------------------------------------------------------------------------------------


def _shape(text: str) -> str:
    """An error's text without its numbers and quoted bytes: its kind, for counting."""
    text = re.sub(r"b'.*?'|b\".*?\"", "b'...'", text)
    return re.sub(r"0x[0-9a-f]+|\d+", "N", text)[:100]


def _write_reproducer(out_dir: Path, case: Case, exc: BaseException) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"crash-{case.target}-{case.seed}-{case.index}.json"
    report = {
        "target": case.target,
        "seed": case.seed,
        "index": case.index,
        "exception": f"{type(exc).__name__}: {exc}",
        "traceback": traceback.format_exception(exc),
        "detail": case.detail,
        "data_b64": base64.b64encode(case.data).decode(),
        "rerun": f"python scripts/fuzz_protocol.py --replay {path}",
    }
    path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return path


def run(count: int, seed: int, out_dir: Path, progress: float, sample: int) -> dict[str, Any]:
    """Run ``count`` inputs; the report (counts per outcome and target, findings, memory)."""
    fuzzer = Fuzzer(seed)
    outcomes: Counter[str] = Counter()
    per_target: dict[str, Counter[str]] = {}
    unexpected: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    traced_peak = 0
    started = last = time.monotonic()
    for index in range(count):
        case = Case(fuzzer.pick(index), index, seed)
        traced = sample > 0 and index % sample == 0
        if traced:
            tracemalloc.start()
        try:
            fuzzer.run_one(case)
            outcome = "no error"
        except ProtocolError as exc:
            outcome = type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - anything else is a finding
            outcome = f"UNEXPECTED {type(exc).__name__}"
            kind = f"{case.target}: {type(exc).__name__}: {_shape(str(exc))}"
            kinds[kind] += 1
            if kinds[kind] <= 3:  # A few reproducers of each kind.
                path = _write_reproducer(out_dir, case, exc)
                unexpected.append({"kind": kind, "index": index, "reproducer": str(path)})
        if traced:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            traced_peak = max(traced_peak, peak)
            bound = 4 * len(case.data) + 2 * MEMORY_SLACK + 4 * 1024 * 1024
            if peak > bound:
                kind = f"{case.target}: memory peak {peak} over {bound}"
                kinds[kind] += 1
                path = _write_reproducer(out_dir, case, MemoryError(kind))
                unexpected.append({"kind": kind, "index": index, "reproducer": str(path)})
        outcomes[outcome] += 1
        per_target.setdefault(case.target, Counter())[outcome] += 1
        now = time.monotonic()
        if progress and now - last >= progress:
            last = now
            print(
                f"{index + 1:>9} inputs  {(index + 1) / (now - started):6.0f}/s  "
                f"unexpected {sum(kinds.values())}  maxrss {_maxrss_mb():.0f} MB",
                file=sys.stderr,
                flush=True,
            )
    elapsed = time.monotonic() - started
    return {
        "inputs": count,
        "seed": seed,
        "seconds": round(elapsed, 1),
        "inputs_per_second": round(count / elapsed) if elapsed else None,
        "outcomes": dict(outcomes.most_common()),
        "per_target": {t: dict(c.most_common()) for t, c in sorted(per_target.items())},
        "unexpected_total": sum(kinds.values()),
        "unexpected_kinds": dict(kinds.most_common()),
        "reproducers": unexpected,
        "peak_rss_mb": round(_maxrss_mb(), 1),
        "traced_inputs": (count + sample - 1) // sample if sample > 0 else 0,
        "traced_peak_kb": round(traced_peak / 1024, 1),
        "mechanisms": MECHANISMS,
        "recordings": len(fuzzer.recordings),
    }


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-dir", type=Path, default=Path("fuzz-failures"))
    parser.add_argument("--json", type=Path, help="write the report here too")
    parser.add_argument("--progress", type=float, default=30.0, help="seconds between lines")
    parser.add_argument(
        "--sample", type=int, default=97, help="run every Nth input under tracemalloc (0: none)"
    )
    parser.add_argument("--replay", type=Path, help="run one reproducer again")
    args = parser.parse_args(argv)
    if args.replay:
        saved = json.loads(args.replay.read_text())
        case = Case(saved["target"], saved["index"], saved["seed"])
        try:
            Fuzzer(case.seed).run_one(case)
        except ProtocolError as exc:
            print(f"a ProtocolError, as expected: {exc}")
        return 0  # (Anything else raised shows its traceback.)
    report = run(args.inputs, args.seed, args.out_dir, args.progress, args.sample)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 1 if report["unexpected_total"] else 0


if __name__ == "__main__":
    sys.exit(main())
