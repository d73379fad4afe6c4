"""Fuzzing the sans-IO protocol layer with hypothesis (issue 17).

Random and mutated byte streams, in random chunkings, fed to server-side and client-side
connections for NULL (with and without ZAP), PLAIN and CURVE (when PyNaCl is there): the only
exception allowed out is ProtocolError, which must carry its ``events`` and leave the
connection closed; what a connection holds stays within what it was fed (what a header claims
is never allocated). The mutation corpus is recorded from real conversations between two
connections in memory, and the mutations, recordings and checks are those of
``scripts/fuzz_protocol.py`` (the standalone fuzzer; loaded from there, and smoke-run last).
"""

from __future__ import annotations

import importlib.util
import random
import struct
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purezmq.protocol import Connection, Greeting, ProtocolError
from purezmq.protocol.commands import READY, encode_properties
from purezmq.protocol.connection import State
from purezmq.protocol.frames import COMMAND, LONG, MORE, encode_command

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_protocol.py"
_spec = importlib.util.spec_from_file_location("fuzz_protocol", _SCRIPT)
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_protocol"] = fuzz  # (dataclasses look their module up.)
_spec.loader.exec_module(fuzz)

RECORDINGS = fuzz.record_all()
STREAMS = fuzz.traffic_streams()
CORPUS = [r.stream(True) for r in RECORDINGS] + [r.stream(False) for r in RECORDINGS] + STREAMS
MECHANISMS = fuzz.MECHANISMS

READY_ROUTER = encode_command(READY, encode_properties({"Socket-Type": b"ROUTER"}))

FUZZ = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

mutations = st.lists(
    st.tuples(
        st.sampled_from(fuzz.OPS),
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**32 - 1),
    ),
    min_size=1,
    max_size=5,
)


def sizes_for(data: bytes, seed: int) -> list[int]:
    return fuzz.random_sizes(random.Random(seed), len(data))


def feed(conn: Connection, data: bytes, sizes: list[int], status: bytes = b"200") -> None:
    """``fuzz.drive``, which checks the promises of a ProtocolError and the memory bound: a
    ProtocolError is the peer's fault, anything else (a Violation included) fails the test."""
    try:
        fuzz.drive(conn, data, sizes, status)
    except ProtocolError:
        pass


def test_recordings_cover_every_mechanism_and_side():
    assert {r.mechanism for r in RECORDINGS} == set(MECHANISMS)
    for recording in RECORDINGS:
        for to_server in (True, False):
            stream = recording.stream(to_server)
            assert stream[:1] == b"\xff" and len(stream) > 1000
            # Replayed unchanged to a fresh connection of the other side, a recording goes as
            # far as that side's mechanism lets it (CURVE's boxes are for other keys).
            socket_type = recording.server_type if to_server else recording.client_type
            conn = fuzz.make_connection(recording.mechanism, socket_type, to_server)
            feed(conn, stream, recording.reads(to_server))
            if recording.mechanism != "CURVE":
                assert conn.state is State.TRAFFIC


@FUZZ
@given(
    index=st.integers(0, len(RECORDINGS) - 1),
    to_server=st.booleans(),
    mutation=mutations,
    chunking=st.integers(0, 2**32 - 1),
    limit=st.sampled_from([-1, -1, 0, 100, 65_536]),
    status=st.sampled_from([b"200", b"200", b"400", b""]),
)
def test_mutated_recordings_replayed_to_either_side(
    index, to_server, mutation, chunking, limit, status
):
    recording = RECORDINGS[index]
    data = fuzz.mutate(recording.stream(to_server), mutation, CORPUS)
    socket_type = recording.server_type if to_server else recording.client_type
    conn = fuzz.make_connection(recording.mechanism, socket_type, to_server, limit)
    rng = random.Random(chunking)
    sizes = recording.reads(to_server, rng) if chunking & 1 else sizes_for(data, chunking)
    feed(conn, data, sizes, status)


@settings(max_examples=300, deadline=None, database=None)
@given(
    mechanism=st.sampled_from(MECHANISMS),
    pair=st.sampled_from(fuzz.PAIRS),
    to_server=st.booleans(),
    write=st.integers(0, 7),
    mutation=mutations,
    chunking=st.integers(0, 2**32 - 1),
)
def test_live_conversation_with_one_write_mutated(
    mechanism, pair, to_server, write, mutation, chunking
):
    """A man in the middle changes one write: this reaches every state of every mechanism
    (CURVE's boxed traffic included), on both sides at once."""
    chunks = random.Random(chunking)

    def intercept(towards_server: bool, index: int, data: bytes) -> bytes:
        if towards_server == to_server and index == write:
            return fuzz.mutate(data, mutation, CORPUS)
        return data

    client = fuzz.make_connection(mechanism, pair[0], server=False)
    server = fuzz.make_connection(mechanism, pair[1], server=True)
    try:
        fuzz.converse(
            client,
            server,
            fuzz._script(False),
            intercept,
            chunker=lambda data: fuzz.random_sizes(chunks, len(data)),
        )
    except ProtocolError:
        pass


@FUZZ
@given(
    mechanism=st.sampled_from(MECHANISMS),
    server=st.booleans(),
    version=st.sampled_from([(3, 0), (3, 1), (3, 7), (4, 0)]),
    junk=st.binary(max_size=400),
    chunking=st.integers(0, 2**32 - 1),
)
def test_random_bytes_after_a_greeting(mechanism, server, version, junk, chunking):
    name = b"NULL" if mechanism.startswith("NULL") else mechanism.encode()
    data = Greeting(*version, name, not server).encode() + junk
    conn = fuzz.make_connection(mechanism, "ROUTER" if server else "DEALER", server)
    feed(conn, data, sizes_for(data, chunking))


@FUZZ
@given(
    mechanism=st.sampled_from(MECHANISMS),
    server=st.booleans(),
    junk=st.binary(max_size=300),
    chunking=st.integers(0, 2**32 - 1),
)
def test_random_bytes_from_the_start(mechanism, server, junk, chunking):
    conn = fuzz.make_connection(mechanism, "ROUTER" if server else "DEALER", server)
    feed(conn, junk, sizes_for(junk, chunking))


@FUZZ
@given(
    frames=st.lists(
        st.tuples(st.integers(0, 255), st.binary(max_size=60)),
        min_size=1,
        max_size=8,
    ),
    handshake_done=st.booleans(),
    chunking=st.integers(0, 2**32 - 1),
)
def test_well_framed_arbitrary_frames(frames, handshake_done, chunking):
    """Valid framing, arbitrary flags and bodies: commands with junk bodies, bad metadata,
    reserved flags, messages before the handshake, PINGs without a TTL..."""
    body = b"".join(
        (
            bytes((flags | LONG,)) + struct.pack(">Q", len(data))
            if flags & LONG
            else bytes((flags, len(data)))
        )
        + data
        for flags, data in frames
    )
    data = Greeting(3, 1, b"NULL", True).encode() + (READY_ROUTER if handshake_done else b"") + body
    conn = fuzz.make_connection("NULL", "DEALER", server=False)
    feed(conn, data, sizes_for(data, chunking))


@FUZZ
@given(
    index=st.integers(0, len(STREAMS) - 1),
    mutation=mutations,
    chunking=st.integers(0, 2**32 - 1),
    limit=st.sampled_from([-1, 0, 10, 255, 256, 65_536]),
)
def test_decoder_alone(index, mutation, chunking, limit):
    data = fuzz.mutate(STREAMS[index], mutation, CORPUS)
    decoder = fuzz.FrameDecoder(limit)
    partial: list[bytes] = []
    pos = 0
    sizes = iter(sizes_for(data, chunking) * (len(data) + 1))
    try:
        while pos < len(data):
            size = next(sizes)
            target = decoder.body_buffer() if decoder.large_pending else None
            if target is not None:
                take = min(size, len(target), len(data) - pos)
                target[:take] = data[pos : pos + take]
                decoder.body_filled(take)
            else:
                take = size
                _, partial, _ = decoder.feed_messages(data[pos : pos + take], partial)
            pos += take
            assert fuzz.decoder_held(decoder) <= 2 * pos + fuzz.MEMORY_SLACK
    except ProtocolError as exc:
        assert type(exc.decoded) is list


# -- greeting variants ---------------------------------------------------------------------------


@pytest.mark.parametrize("minor", [0, 1, 2])
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_recorded_zmtp_3x_clients_complete_the_handshake(mechanism, minor):
    """A recorded client whose greeting says 3.0 (or 3.2): the server completes the handshake
    and takes it for what it says (3.0 peers get subscriptions as messages)."""
    if mechanism == "CURVE":
        pytest.skip("CURVE's recorded boxes are for other transient keys: see the live test")
    recording = next(r for r in RECORDINGS if r.mechanism == mechanism)
    stream = bytearray(recording.stream(True))
    stream[11] = minor
    conn = fuzz.make_connection(mechanism, recording.server_type, server=True)
    fuzz.drive(conn, bytes(stream), recording.reads(True))
    assert conn.state is State.TRAFFIC and conn.peer_minor_version == minor


@pytest.mark.parametrize("minor", [0, 1])
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_live_handshake_with_either_version(mechanism, minor):
    client = fuzz.make_connection(mechanism, "SUB", server=False)
    server = fuzz.make_connection(mechanism, "PUB", server=True)

    def intercept(to_server: bool, index: int, data: bytes) -> bytes:
        # (The greeting goes in two writes, as libzmq 4's: signature and major version, then
        # the rest once the peer's version is known; the minor version opens the second.)
        if to_server and index == 1:
            return bytes((minor,)) + data[1:]
        return data

    fuzz.converse(client, server, fuzz._script(False), intercept)
    assert client.state is State.TRAFFIC and server.state is State.TRAFFIC
    assert server.peer_minor_version == minor


@pytest.mark.parametrize(
    "offset,patch,match",
    [
        (0, b"\x00", "not a ZMTP greeting"),
        (0, b"\xfe", "not a ZMTP greeting"),
        (9, b"\x00", "ZMTP 1.0"),
        (10, b"\x02", "unsupported ZMTP version"),
        (10, b"\x01", "ZMTP 2.0"),  # A 2.0 peer's revision: what follows is not its greeting.
        (12, bytes(20), "invalid mechanism"),
        (12, b"\x00NULL", "invalid mechanism"),
        (12, b"null", "mechanism"),
    ],
)
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_bad_greetings_refused(mechanism, offset, patch, match):
    recording = next(r for r in RECORDINGS if r.mechanism == mechanism)
    stream = recording.stream(True)
    stream = stream[:offset] + patch + stream[offset + len(patch) :]
    conn = fuzz.make_connection(mechanism, recording.server_type, server=True)
    with pytest.raises(ProtocolError, match=match) as caught:
        conn.receive_data(stream)
    assert caught.value.events == [] and conn.state is State.CLOSED


@pytest.mark.parametrize("theirs", ["NULL", "PLAIN", "CURVE"])
@pytest.mark.parametrize("ours", MECHANISMS)
def test_mechanism_mismatch_refused_with_an_error(ours, theirs):
    if ours.split("-")[0] == theirs:
        pytest.skip("the same mechanism")
    conn = fuzz.make_connection(ours, "ROUTER", server=True)
    with pytest.raises(ProtocolError, match="mechanism"):
        conn.receive_data(Greeting(3, 1, theirs.encode(), False).encode())
    assert b"ERROR" in b"".join(conn.data_to_send())


# -- claims do not allocate ----------------------------------------------------------------------


CLAIMS = [2**20, 2**30, 2**40, 2**62, 2**64 - 1]


@pytest.mark.parametrize("claim", CLAIMS)
@pytest.mark.parametrize("flags", [0, MORE, COMMAND])
@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("phase", ["handshake", "traffic"])
def test_a_claim_is_not_allocated(mechanism, phase, flags, claim):
    """A header claiming up to 2**64-1 bytes, and a few bytes of body, read as the transport
    reads (asking for the body buffer): what Python allocates stays small."""
    server = fuzz.make_connection(mechanism, "ROUTER", server=True)
    if phase == "traffic":
        client = fuzz.make_connection(mechanism, "DEALER", server=False)
        fuzz.converse(client, server, [])
        assert server.state is State.TRAFFIC
    else:
        server.receive_data(Greeting(3, 1, server.mechanism.name, False).encode())
    data = bytes((flags | LONG,)) + struct.pack(">Q", claim) + b"c" * 5000

    def attack() -> None:
        try:
            fuzz.drive(server, data, [1000])
            if server.large_pending:
                server.receive_buffer()
        except ProtocolError:
            pass

    tracemalloc.start()
    try:
        attack()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


# -- the standalone fuzzer -----------------------------------------------------------------------


def test_the_fuzz_script_runs_clean(tmp_path):
    report = fuzz.run(1500, seed=17, out_dir=tmp_path, progress=0, sample=50)
    assert report["unexpected_total"] == 0, report["reproducers"]
    assert report["inputs"] == 1500
    assert set(report["per_target"]) == {"decoder", "replay", "mitm"}
    assert not list(tmp_path.iterdir())
