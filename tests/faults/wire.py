"""A userspace network wire with netem-like faults, run inside its own network namespace.

    ip netns exec NS python wire.py IFACE_A IFACE_B SEED

It forwards every Ethernet frame that arrives on one interface out of the other (a two-port
bridge, in the namespace between the two test namespaces), and on the way it can drop frames at
random (``loss``), hold them back for a fixed time (``delay``), or drop all of them (a partition).
This stands in for ``tc qdisc ... netem`` on kernels built without sch_netem: the TCP stacks at
both ends see real loss, real delay and real silence.

Frames are read and written with the virtio-net header (PACKET_VNET_HDR), so the kernel's
segmentation-offload frames (larger than the MTU) and checksum-offload frames (checksum not yet
filled in) pass through unchanged, and the receiving stack finishes them as it would on a real
link. A constant delay keeps every direction in order, as netem does without jitter.

Control, one command per line on stdin, each answered by one line on stdout:
    set loss=0.2 delay=0.2 [dir=ab|ba|both]   -> "OK"  (fractions and seconds; dir default both)
    stats                                     -> "STATS {json}"
    exit (or stdin closed)                    -> the wire stops
(Command words are not case sensitive.)
"READY" is printed once both interfaces are open. The test runs it in its own namespace (no
address, no routes): it can reach nothing, it only carries frames between the two veths.
"""

from __future__ import annotations

import collections
import json
import os
import random
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
#: Room for the largest frame (an offloaded segment is at most gso_max_size, 64 KiB by default,
#: plus headers and the 10-byte virtio-net header), with margin: a frame that did not fit would
#: be cut short silently.
MAX_FRAME = 256 * 1024


def open_port(ifname: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sock.bind((ifname, ETH_P_ALL))
    sock.setblocking(False)
    return sock


class Direction:
    def __init__(self, name: str, out: socket.socket) -> None:
        self.name = name
        self.out = out
        self.loss = 0.0
        self.delay = 0.0
        self.queue: collections.deque[tuple[float, bytes]] = collections.deque()
        self.seen = self.dropped = self.sent = self.send_errors = 0

    def take(self, frame: bytes, now: float, rng: random.Random) -> None:
        self.seen += 1
        if self.loss >= 1.0 or (self.loss > 0.0 and rng.random() < self.loss):
            self.dropped += 1
            return
        self.queue.append((now + self.delay, frame))

    def flush(self, now: float) -> None:
        queue = self.queue
        while queue and queue[0][0] <= now:
            frame = queue.popleft()[1]
            try:
                self.out.send(frame)
                self.sent += 1
            except OSError:
                self.send_errors += 1  # (a full device queue: a drop, as on a real link)

    def stats(self) -> dict[str, float]:
        return {
            "loss": self.loss,
            "delay": self.delay,
            "seen": self.seen,
            "dropped": self.dropped,
            "sent": self.sent,
            "queued": len(self.queue),
            "send_errors": self.send_errors,
        }


def say(line: str) -> None:
    os.write(1, (line + "\n").encode())


def main() -> None:
    if_a, if_b, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(seed)
    port_a, port_b = open_port(if_a), open_port(if_b)
    ab, ba = Direction("ab", port_b), Direction("ba", port_a)
    route = {port_a.fileno(): (port_a, ab), port_b.fileno(): (port_b, ba)}
    buffer = bytearray(MAX_FRAME)
    say(f"PID {os.getpid()}")
    say("READY")
    stdin_buf = b""
    while True:
        now = time.monotonic()
        due = [d.queue[0][0] for d in (ab, ba) if d.queue]
        timeout = max(0.0, min(due) - now) if due else 1.0
        readable, _, _ = select.select([port_a, port_b, 0], [], [], timeout)
        now = time.monotonic()
        for source in readable:
            if source == 0:
                chunk = os.read(0, 4096)
                if not chunk:
                    return
                stdin_buf += chunk
                while b"\n" in stdin_buf:
                    line, stdin_buf = stdin_buf.split(b"\n", 1)
                    if not command(line.decode().split(), ab, ba):
                        return
                continue
            port, direction = route[source.fileno()]
            for _ in range(256):  # drain what is there, a bounded batch at a time
                try:
                    # (MSG_TRUNC: the frame's real size, even if it did not fit)
                    size, address = port.recvfrom_into(buffer, 0, socket.MSG_TRUNC)
                except BlockingIOError:
                    break
                if address[2] == socket.PACKET_OUTGOING:
                    continue  # our own transmissions, seen again on the sending port
                if size > MAX_FRAME:
                    raise SystemExit(f"wire: a frame of {size} bytes does not fit")
                direction.take(bytes(buffer[:size]), now, rng)
        ab.flush(now)
        ba.flush(now)


def command(words: list[str], ab: Direction, ba: Direction) -> bool:
    if not words:
        return True
    words[0] = words[0].lower()
    if words[0] == "exit":
        return False
    if words[0] == "stats":
        say("STATS " + json.dumps({"ab": ab.stats(), "ba": ba.stats()}))
        return True
    if words[0] == "set":
        settings = dict(word.split("=", 1) for word in words[1:])
        which = settings.pop("dir", "both")
        targets = {"ab": [ab], "ba": [ba], "both": [ab, ba]}[which]
        for direction in targets:
            if "loss" in settings:
                direction.loss = float(settings["loss"])
            if "delay" in settings:
                direction.delay = float(settings["delay"])
        say("OK")
        return True
    say(f"ERROR unknown command {words!r}")
    return True


if __name__ == "__main__":
    main()
