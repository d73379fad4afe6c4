"""Run Python code in a network namespace of its own (``unshare --net``), as root: multicast
tests never touch the host's network. ``loopback``: lo up with multicast on, the multicast
routes through it. ``veth``: also a veth pair, v0 (10.9.0.1) and v1 (10.9.0.2), the multicast
routes out of v0, so what a sender sends on v0 arrives on v1 as from another host (OpenPGM turns
multicast loop off: a libzmq pgm receiver hears nothing sent on its own interface)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "src"))
TESTS = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

_LOOPBACK = "ip link set lo up && ip link set lo multicast on"
_VETH = (
    "ip link add v0 type veth peer name v1 && "
    "ip addr add 10.9.0.1/24 dev v0 && ip addr add 10.9.0.2/24 dev v1 && "
    "ip link set v0 up multicast on && ip link set v1 up multicast on && "
    "sysctl -qw net.ipv4.conf.all.accept_local=1 net.ipv4.conf.v1.accept_local=1 "
    "net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.v1.rp_filter=0 net.ipv4.conf.v0.rp_filter=0"
)
#: Prepended to the child's code: the project's source and tests first on its path.
PRELUDE = "import sys\nsys.path[:0] = [sys.argv[1], sys.argv[2]]\n"


def run_in_namespace(code: str, veth: bool = False, timeout: float = 60) -> str:
    """The child's stdout; the test fails with its stderr when it exits non-zero, and skips
    (saying why) when no namespace can be made here."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare(1) and ip(8) to make a network namespace")
    probe = subprocess.run(["unshare", "--net", "--", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here: {probe.stderr.strip()}")
    setup = _LOOPBACK + (
        " && " + _VETH + " && ip route add 224.0.0.0/4 dev v0"
        if veth
        else " && ip route add 224.0.0.0/4 dev lo"
    )
    result = subprocess.run(
        [
            "unshare",
            "--net",
            "--",
            "sh",
            "-c",
            setup + ' && exec "$0" "$@"',
            sys.executable,
            "-c",
            PRELUDE + code,
            SRC,
            TESTS,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0 and "Operation not permitted" in result.stderr and veth:
        pytest.skip(f"cannot set up a veth pair here: {result.stderr.strip()[-200:]}")
    assert result.returncode == 0, result.stderr
    return result.stdout
