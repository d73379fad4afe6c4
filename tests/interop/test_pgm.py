"""pgm:// and epgm:// (issue 16): PUB to SUB over PGM, against libzmq (Debian's libzmq5, built
with OpenPGM, through ctypes) in both directions and between purezmq sockets on both engines.

Each test runs in a network namespace of its own (see _netns.py): a veth pair whose v0 carries
what the senders send and whose v1 hears it, as another host would (OpenPGM turns multicast loop
off). pgm:// takes raw sockets, so root: these tests skip without it, with the reason.
"""

from __future__ import annotations

import errno
import os

import pytest

import purezmq

from . import _libzmq_ctypes as libzmq5
from ._netns import run_in_namespace

pytestmark = pytest.mark.timeout(90)
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="network namespaces (and pgm's raw sockets) need root"
)
needs_libzmq = pytest.mark.skipif(
    libzmq5.load() is None, reason="Debian's libzmq5 is not installed"
)

MESSAGES = """
MESSAGES = [[b"first"], [b"topic", b"body"], [b"x" * 4000], [b""], [b"last"]]


def receive_all(sub, count):
    got = []
    for _ in range(count):
        got.append(sub.recv_multipart())
    return got
"""


@needs_root
@needs_libzmq
@pytest.mark.parametrize("transport", ["epgm", "pgm"])
def test_libzmq_publishes_to_purezmq(transport):
    code = (
        MESSAGES
        + f"""
import time, purezmq, zmq
from interop import _libzmq_ctypes as libzmq5
ctx, lctx = purezmq.Context(), libzmq5.Context()
sub = ctx.socket(purezmq.SUB)
sub.rcvtimeo = 5000
sub.subscribe(b"")
sub.connect("{transport}://10.9.0.2;239.192.7.1:7701")
pub = lctx.socket(zmq.PUB)
pub.connect("{transport}://10.9.0.1;239.192.7.1:7701")
time.sleep(0.2)  # (Nothing says when the receiver's socket is open: PGM has no handshake.)
for message in MESSAGES:
    pub.send_multipart(message)
assert receive_all(sub, len(MESSAGES)) == MESSAGES
lctx.destroy(linger=0)
ctx.destroy(linger=0)
print("ok")
"""
    )
    assert run_in_namespace(code, veth=True).strip() == "ok"


@needs_root
@needs_libzmq
@pytest.mark.parametrize("transport", ["epgm", "pgm"])
def test_purezmq_publishes_to_libzmq(transport):
    code = (
        MESSAGES
        + f"""
import time, purezmq, zmq
from interop import _libzmq_ctypes as libzmq5
ctx, lctx = purezmq.Context(), libzmq5.Context()
sub = lctx.socket(zmq.SUB)
sub.setsockopt(zmq.RCVTIMEO, 5000)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.connect("{transport}://10.9.0.2;239.192.7.2:7702")
pub = ctx.socket(purezmq.PUB)
pub.rate = 10000  # (kbit/s: the 4000-byte message goes at once.)
pub.connect("{transport}://10.9.0.1;239.192.7.2:7702")
time.sleep(0.2)
for message in MESSAGES:
    pub.send_multipart(message)
assert receive_all(sub, len(MESSAGES)) == MESSAGES
# The SUB filters: a topic it did not subscribe to does not reach it.
sub.setsockopt(zmq.UNSUBSCRIBE, b"")
sub.setsockopt(zmq.SUBSCRIBE, b"news")
pub.send(b"weather: sunny")
pub.send(b"news: flash")
assert sub.recv() == b"news: flash"
lctx.destroy(linger=0)
ctx.destroy(linger=0)
print("ok")
"""
    )
    assert run_in_namespace(code, veth=True).strip() == "ok"


#: In the child: purezmq's side loses the packet of sequence number 1, once.
LOSE_ONE = """
from purezmq.engine import pgm as engine
from purezmq.protocol import pgm as protocol
lost = []

def lose_once(data):
    try:
        packet = protocol.decode(data)
    except Exception:
        return False
    if packet.kind == protocol.ODATA and packet.sequence == 1 and not lost:
        lost.append(packet.sequence)
        return True
    return False
"""


#: The child of a repair test: ``{patch}`` makes purezmq's side lose a packet; a libzmq and a
#: purezmq socket (either way round) then exchange MESSAGES, which must all arrive.
REPAIR = """
import time, purezmq, zmq
from interop import _libzmq_ctypes as libzmq5
{patch}
ctx, lctx = purezmq.Context(), libzmq5.Context()
{sub_and_pub}
sub.setsockopt(zmq.RCVTIMEO, 10000)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.connect("{transport}://10.9.0.2;239.192.7.6:7706")
pub.setsockopt(zmq.RATE, 10000)
pub.connect("{transport}://10.9.0.1;239.192.7.6:7706")
time.sleep(0.2)
for message in MESSAGES:
    pub.send_multipart(message)
assert receive_all(sub, len(MESSAGES)) == MESSAGES
assert lost == [1]
lctx.destroy(linger=0)
ctx.destroy(linger=0)
print("ok")
"""


@needs_root
@needs_libzmq
@pytest.mark.parametrize("transport", ["epgm", "pgm"])
def test_libzmq_repairs_what_purezmq_missed(transport):
    """purezmq's SUB drops an ODATA on arrival: it NAKs it, libzmq's PUB sends it again
    (RDATA), and every message arrives whole, in order."""
    patch = """
receive = protocol.StreamDecoder.receive
def losing_receive(self, data, now=0.0):
    return [] if lose_once(data) else receive(self, data, now)
protocol.StreamDecoder.receive = losing_receive
"""
    child = REPAIR.format(
        patch=patch,
        sub_and_pub="sub, pub = ctx.socket(purezmq.SUB), lctx.socket(zmq.PUB)",
        transport=transport,
    )
    assert run_in_namespace(MESSAGES + LOSE_ONE + child, veth=True).strip() == "ok"


@needs_root
@needs_libzmq
@pytest.mark.parametrize("transport", ["epgm", "pgm"])
def test_purezmq_repairs_what_libzmq_missed(transport):
    """purezmq's PUB does not put one ODATA on the wire: libzmq's SUB NAKs it, purezmq's PUB
    answers from its window (NCF, RDATA), and libzmq delivers every message."""
    patch = """
transmit = engine.PgmEndpoint._transmit
def losing_transmit(self, data, to=None):
    if not lose_once(data):
        transmit(self, data, to)
engine.PgmEndpoint._transmit = losing_transmit
"""
    child = REPAIR.format(
        patch=patch,
        sub_and_pub="sub, pub = lctx.socket(zmq.SUB), ctx.socket(purezmq.PUB)",
        transport=transport,
    )
    assert run_in_namespace(MESSAGES + LOSE_ONE + child, veth=True).strip() == "ok"


@needs_root
def test_between_purezmq_sockets_on_both_engines():
    code = (
        MESSAGES
        + """
import asyncio, time, purezmq, purezmq.asyncio
ctx = purezmq.Context()
blocking_sub = ctx.socket(purezmq.SUB)
blocking_sub.rcvtimeo = 5000
blocking_sub.subscribe(b"")
blocking_sub.connect("epgm://10.9.0.2;239.192.7.3:7703")

async def main():
    actx = purezmq.asyncio.Context()
    sub = actx.socket(purezmq.SUB)
    sub.subscribe(b"")
    sub.connect("epgm://10.9.0.2;239.192.7.3:7703")
    pub = actx.socket(purezmq.XPUB)
    pub.multicast_maxtpdu = 300  # (Small packets: the 4000-byte message crosses many.)
    pub.rate = 10000
    pub.connect("epgm://10.9.0.1;239.192.7.3:7703")
    await asyncio.sleep(0.2)
    for message in MESSAGES:
        await pub.send_multipart(message)
    got = [await asyncio.wait_for(sub.recv_multipart(), 5) for _ in MESSAGES]
    actx.destroy(linger=0)
    return got

assert asyncio.run(main()) == MESSAGES
assert receive_all(blocking_sub, len(MESSAGES)) == MESSAGES
ctx.destroy(linger=0)
print("ok")
"""
    )
    assert run_in_namespace(code, veth=True).strip() == "ok"


@needs_root
def test_a_slow_rate_holds_messages_back_without_losing_them():
    """RATE 8 kbit/s (1000 bytes/s): 5000 bytes take seconds, in order, none lost; the
    sender's send() does not block meanwhile (the messages wait in its pipe)."""
    code = """
import time, purezmq
ctx = purezmq.Context()
sub = ctx.socket(purezmq.SUB)
sub.rcvtimeo = 15000
sub.subscribe(b"")
sub.connect("epgm://10.9.0.2;239.192.7.4:7704")
pub = ctx.socket(purezmq.PUB)
pub.rate = 8
pub.connect("epgm://10.9.0.1;239.192.7.4:7704")
time.sleep(0.2)
began = time.monotonic()
for n in range(10):
    pub.send(b"%d" % n + b"." * 499)
sent = time.monotonic() - began
got = [sub.recv()[:1] for _ in range(10)]
took = time.monotonic() - began
assert got == [b"%d" % n for n in range(10)], got
assert sent < 1.0, sent
assert took > 2.0, took  # (Far more than loopback would take unregulated.)
ctx.destroy(linger=0)
print("ok")
"""
    assert run_in_namespace(code, veth=True).strip() == "ok"


def test_pgm_errors():
    ctx = purezmq.Context()
    try:
        for socket_type, endpoint, code in (
            (purezmq.REQ, "epgm://127.0.0.1;239.192.7.5:7705", purezmq.ENOCOMPATPROTO),
            (purezmq.PUSH, "pgm://127.0.0.1;239.192.7.5:7705", purezmq.ENOCOMPATPROTO),
            (
                purezmq.PUB,
                "epgm://127.0.0.1;127.0.0.1:7705",
                errno.EINVAL,
            ),  # Not a multicast group.
            (purezmq.PUB, "epgm://127.0.0.1;239.192.7.5", errno.EINVAL),  # No port.
            (purezmq.SUB, "epgm://nosuchif0;239.192.7.5:7705", errno.ENODEV),
        ):
            sock = ctx.socket(socket_type)
            with pytest.raises(purezmq.ZMQError) as info:
                sock.connect(endpoint)
            assert info.value.errno == code, endpoint
            assert endpoint in str(info.value)
    finally:
        ctx.destroy(linger=0)
