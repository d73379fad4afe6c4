"""CPU per message in CURVE's traffic phase, sans-IO: sealing and opening, nothing else.

Two ``Connection`` state machines (a CURVE client and server) complete their handshake in
memory; the client then seals MESSAGES 16-byte messages in batches of 64 (as a busy socket
hands them to its connection) and the server opens the bytes in 256 KiB reads. No sockets, no
threads: the figure is the protocol layer's own cost, the part of ``curve_thr`` that the
mechanism decides. It prints the best of five runs, per message:

    python benchmarks/curve_cost.py

This is a cost, not a comparison: libzmq's figures come from ``purezmq bench --tests curve_thr``.
"""

from __future__ import annotations

import functools
import time

import nacl.bindings

from purezmq.protocol.connection import Connection, State
from purezmq.protocol.mechanisms import AuthRequest, CurveClient, CurveServer

MESSAGES = 50_000
BATCH = 64
READ = 256 * 1024


def connected_pair() -> tuple[Connection, Connection]:
    server_public, server_secret = nacl.bindings.crypto_box_keypair()
    client_public, client_secret = nacl.bindings.crypto_box_keypair()
    server = Connection(
        "PULL", as_server=True, mechanism=functools.partial(CurveServer, secret_key=server_secret)
    )
    client = Connection(
        "PUSH",
        mechanism=functools.partial(
            CurveClient,
            public_key=client_public,
            secret_key=client_secret,
            server_key=server_public,
        ),
    )
    for _ in range(10):
        for sender, receiver in ((client, server), (server, client)):
            for event in receiver.receive_data(b"".join(sender.data_to_send())):
                if isinstance(event, AuthRequest):
                    receiver.authentication_result(b"200")
    assert client.state is State.TRAFFIC and server.state is State.TRAFFIC
    return client, server


def main() -> None:
    client, server = connected_pair()
    messages = [[b"x" * 16] for _ in range(MESSAGES)]
    best_seal = best_open = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for start in range(0, MESSAGES, BATCH):
            client.send_messages(messages[start : start + BATCH])
        wire = b"".join(client.data_to_send())
        sealed = time.perf_counter()
        received = 0
        for start in range(0, len(wire), READ):
            received += len(server.receive_data(wire[start : start + READ]))
        opened = time.perf_counter()
        assert received == MESSAGES
        best_seal = min(best_seal, sealed - started)
        best_open = min(best_open, opened - sealed)
    print(
        f"per 16 B message: seal {best_seal / MESSAGES * 1e6:.2f} us, "
        f"open {best_open / MESSAGES * 1e6:.2f} us (best of 5, {MESSAGES:,} messages)"
    )


if __name__ == "__main__":
    main()
