"""The inproc registry and links on their own: two fake parties (no socket core, no thread)."""

from __future__ import annotations

import errno

import pytest

from purezmq.constants import SocketOption as Opt
from purezmq.error import ZMQError
from purezmq.options import Options
from purezmq.routing.pipe import Peer, Pipe
from purezmq.transport.inproc import InprocRegistry


class _Traits:
    def __init__(self, early: bool) -> None:
        self.attach_before_handshake = early


class FakeParty:
    """An InprocParty that records what the link asks of it."""

    def __init__(self, kind: str, early: bool = False, hwm: int = 1000) -> None:
        self.socket_type_name = kind
        self.options = Options()
        self.options.set(Opt.SNDHWM, hwm)
        self.options.set(Opt.RCVHWM, hwm)
        self.options.set(Opt.ROUTING_ID, b"me-" + kind.encode())
        self.routing = _Traits(early)
        self.posted: list[tuple[str, Peer]] = []
        self.readable = 0

    def post(self, command: str, peer: Peer) -> None:
        if command == "attach":
            peer.attached_requested = True  # (What every party does: detach follows only then.)
        self.posted.append((command, peer))

    def on_readable(self, pipe: Pipe) -> None:
        self.readable += 1

    def on_writable(self, pipe: Pipe) -> None:
        pass


def test_connect_before_bind_joins_when_the_name_is_bound() -> None:
    registry = InprocRegistry()
    pusher, puller = FakeParty("PUSH"), FakeParty("PULL")
    link = registry.connect("jobs", pusher)
    assert pusher.posted == [] and link.binder is None
    registry.bind("jobs", puller)
    assert link.binder is puller
    assert [c for c, _ in pusher.posted] == ["attach"]
    assert [c for c, _ in puller.posted] == ["attach"]
    # Each side's peer carries the other's metadata, as a ZMTP handshake would.
    assert link.binder_peer.metadata["Socket-Type"] == b"PUSH"
    assert link.connecter_peer.metadata["Socket-Type"] == b"PULL"
    # A message written by the connecter reaches the binder's pipe and wakes it.
    assert link.connecter_peer.outbound.write(b"hello")
    assert puller.readable == 1
    assert link.binder_peer.inbound.read() == [b"hello"]


def test_the_pipe_hwm_is_the_sum_of_both_ends() -> None:
    registry = InprocRegistry()
    sender, receiver = FakeParty("PUSH", hwm=3), FakeParty("PULL", hwm=4)
    registry.bind("x", receiver)
    link = registry.connect("x", sender)
    written = link.connecter_peer.outbound.write_many([b"m"] * 20)
    assert written == 7


def test_identity_metadata_only_for_the_kinds_that_announce_it() -> None:
    registry = InprocRegistry()
    router, dealer = FakeParty("ROUTER"), FakeParty("DEALER", early=True)
    registry.bind("svc", router)
    link = registry.connect("svc", dealer)
    assert link.binder_peer.metadata["Identity"] == b"me-DEALER"
    # A DEALER attaches before the handshake: once, at connect.
    assert [c for c, _ in dealer.posted] == ["attach"]


def test_incompatible_types_are_refused_and_forgotten() -> None:
    registry = InprocRegistry()
    registry.bind("x", FakeParty("PUB"))
    link = registry.connect("x", FakeParty("PUSH"))
    assert link.closed and link.binder is None


def test_binding_a_name_twice_is_EADDRINUSE() -> None:
    registry = InprocRegistry()
    registry.bind("x", FakeParty("PULL"))
    with pytest.raises(ZMQError) as info:
        registry.bind("x", FakeParty("PULL"))
    assert info.value.errno == errno.EADDRINUSE


def test_unbind_detaches_the_connecter_and_frees_the_name() -> None:
    registry = InprocRegistry()
    pusher, puller = FakeParty("PUSH"), FakeParty("PULL")
    registry.bind("x", puller)
    link = registry.connect("x", pusher)
    pusher.posted.clear()
    assert registry.unbind("x", puller)
    assert link.closed
    assert [c for c, _ in pusher.posted] == ["detach"]
    assert registry.bound_socket("x") is None
    assert not registry.unbind("x", puller)
