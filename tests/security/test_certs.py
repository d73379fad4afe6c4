"""CURVE keys and certificates: purezmq's and pyzmq's must be interchangeable.

create_certificates / load_certificate(s) in pyzmq's file format both ways, curve_keypair and
curve_public against pyzmq's, Z85 against zmq.utils.z85, the keygen command, CURVE key option
checks, and the MECHANISM option as security options are set (compared with a pyzmq socket).
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import zmq as pyzmq
import zmq.auth
from zmq.utils import z85 as pyz85

from ._sec import auth_module, is_pyzmq

pytestmark = pytest.mark.timeout(60)


def _z85(impl: ModuleType) -> ModuleType:
    import importlib

    return importlib.import_module(f"{impl.__name__}.utils.z85")


# -- certificate files ---------------------------------------------------------------------------


def test_create_certificates_load_in_pyzmq(zmq_impl: ModuleType, tmp_path: Path) -> None:
    impl_auth = auth_module(zmq_impl)
    public_file, secret_file = impl_auth.create_certificates(
        str(tmp_path), "server", metadata={"owner": "tests"}
    )
    assert Path(public_file) == tmp_path / "server.key"
    assert Path(secret_file) == tmp_path / "server.key_secret"
    public, none = zmq.auth.load_certificate(public_file)
    assert none is None
    public2, secret = zmq.auth.load_certificate(secret_file)
    assert public2 == public and secret is not None
    assert len(public) == 40 and len(secret) == 40
    assert pyzmq.curve_public(secret) == public
    # And purezmq reads back what it wrote, the same way.
    assert impl_auth.load_certificate(public_file) == (public, None)
    assert impl_auth.load_certificate(secret_file) == (public, secret)
    if os.name == "posix" and not is_pyzmq(zmq_impl):
        # purezmq writes the secret file owner-only (pyzmq leaves it to the umask).
        assert os.stat(secret_file).st_mode & 0o077 == 0, "the secret file is readable by others"


def test_pyzmq_certificates_load_in_impl(zmq_impl: ModuleType, tmp_path: Path) -> None:
    public_file, secret_file = zmq.auth.create_certificates(str(tmp_path), "client")
    expected_public, expected_secret = zmq.auth.load_certificate(secret_file)
    impl_auth = auth_module(zmq_impl)
    assert impl_auth.load_certificate(public_file) == (expected_public, None)
    assert impl_auth.load_certificate(secret_file) == (expected_public, expected_secret)


def test_load_certificates_returns_public_keys(zmq_impl: ModuleType, tmp_path: Path) -> None:
    impl_auth = auth_module(zmq_impl)
    mine, _ = impl_auth.create_certificates(str(tmp_path), "alice")
    theirs, _ = zmq.auth.create_certificates(str(tmp_path), "bob")
    keys = impl_auth.load_certificates(str(tmp_path))
    expected = {
        impl_auth.load_certificate(mine)[0]: True,
        zmq.auth.load_certificate(theirs)[0]: True,
    }
    assert keys == expected  # secret files (*.key_secret) are not public certificates
    assert keys == zmq.auth.load_certificates(str(tmp_path))


# -- keys --------------------------------------------------------------------------------------


def test_curve_keypair_and_curve_public_match_pyzmq(zmq_impl: ModuleType) -> None:
    pairs = [zmq_impl.curve_keypair() for _ in range(5)]
    assert len({public for public, _ in pairs}) == 5
    for public, secret in pairs:
        assert isinstance(public, bytes) and isinstance(secret, bytes)
        assert len(public) == 40 and len(secret) == 40
        pyz85.decode(public), pyz85.decode(secret)  # valid Z85
        assert zmq_impl.curve_public(secret) == public
        assert pyzmq.curve_public(secret) == public
    for _ in range(3):
        public, secret = pyzmq.curve_keypair()
        assert zmq_impl.curve_public(secret) == public


def test_z85_matches_pyzmq_on_random_data(zmq_impl: ModuleType) -> None:
    z85 = _z85(zmq_impl)
    for size in [0, 4, 8, 32, 64, 100, 256]:
        for _ in range(5):
            raw = os.urandom(size)
            encoded = z85.encode(raw)
            assert encoded == pyz85.encode(raw)
            assert z85.decode(encoded) == raw
            assert z85.decode(encoded.decode("ascii")) == raw
    assert z85.encode(b"\x86\x4f\xd2\x6f\xb5\x59\xf7\x5b") == b"HelloWorld"  # RFC 32


@pytest.mark.parametrize("size", [1, 2, 3, 5, 31, 33])
def test_z85_encode_bad_length_raises_valueerror(zmq_impl: ModuleType, size: int) -> None:
    with pytest.raises(ValueError):
        pyz85.encode(b"x" * size)  # what pyzmq does
    with pytest.raises(ValueError):
        _z85(zmq_impl).encode(b"x" * size)


@pytest.mark.parametrize("size", [1, 4, 6, 39, 41])
def test_z85_decode_bad_length_raises_valueerror(zmq_impl: ModuleType, size: int) -> None:
    with pytest.raises(ValueError):
        pyz85.decode(b"0" * size)
    with pytest.raises(ValueError):
        _z85(zmq_impl).decode(b"0" * size)


# -- keygen --------------------------------------------------------------------------------------


def _keygen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "purezmq.auth.keygen", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def _skip_unless_purezmq(impl: ModuleType) -> None:
    if is_pyzmq(impl):
        pytest.skip("purezmq's keygen command")


def test_keygen_prints_a_key_pair(zmq_impl: ModuleType) -> None:
    _skip_unless_purezmq(zmq_impl)
    done = _keygen()
    assert done.returncode == 0, done.stderr
    public = re.search(r"public\W*(\S{40})", done.stdout, re.I)
    secret = re.search(r"secret\W*(\S{40})", done.stdout, re.I)
    assert public and secret, done.stdout
    assert pyzmq.curve_public(secret.group(1).encode()) == public.group(1).encode()


def test_keygen_dir_writes_certificate_files(zmq_impl: ModuleType, tmp_path: Path) -> None:
    _skip_unless_purezmq(zmq_impl)
    done = _keygen("--dir", str(tmp_path), "server")
    assert done.returncode == 0, done.stderr
    public_file, secret_file = tmp_path / "server.key", tmp_path / "server.key_secret"
    assert public_file.is_file() and secret_file.is_file()
    public, secret = zmq.auth.load_certificate(str(secret_file))
    assert zmq.auth.load_certificate(str(public_file)) == (public, None)
    assert secret is not None and pyzmq.curve_public(secret) == public


# -- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [b"", b"short", b"x" * 31, b"x" * 33, b"0" * 39, b"0" * 41, b"0" * 80],
    ids=lambda v: f"len{len(v)}",
)
@pytest.mark.parametrize("option", ["CURVE_SERVERKEY", "CURVE_PUBLICKEY", "CURVE_SECRETKEY"])
def test_curve_key_option_wrong_length_is_einval(
    zmq_impl: ModuleType, ctx: Any, pyctx: Any, option: str, value: bytes
) -> None:
    reference = pyctx.socket(pyzmq.DEALER)
    sock = ctx.socket(zmq_impl.DEALER)
    try:
        with pytest.raises(pyzmq.ZMQError) as py_exc:  # what libzmq says
            reference.setsockopt(getattr(pyzmq, option), value)
        assert py_exc.value.errno == errno.EINVAL
        with pytest.raises(zmq_impl.ZMQError) as exc:
            sock.setsockopt(getattr(zmq_impl, option), value)
        assert exc.value.errno == errno.EINVAL
    finally:
        reference.close(linger=0)
        sock.close(linger=0)


#: Steps of security options set one after the other on a fresh socket.
SEQUENCES = {
    "plain_server": [("PLAIN_SERVER", 1)],
    "plain_server_off": [("PLAIN_SERVER", 1), ("PLAIN_SERVER", 0)],
    "curve_server": [("CURVE_SERVER", 1)],
    "curve_server_off": [("CURVE_SERVER", 1), ("CURVE_SERVER", 0)],
    "plain_then_curve": [("PLAIN_SERVER", 1), ("CURVE_SERVER", 1)],
    "curve_then_plain": [("CURVE_SERVER", 1), ("PLAIN_SERVER", 1)],
    "plain_username": [("PLAIN_USERNAME", b"user")],
    "plain_password": [("PLAIN_PASSWORD", b"pw")],
    "curve_serverkey": [("CURVE_SERVERKEY", "serverkey")],
    "curve_then_plain_client": [("CURVE_SERVER", 1), ("PLAIN_USERNAME", b"user")],
    "plain_then_curve_client": [("PLAIN_SERVER", 1), ("CURVE_SERVERKEY", "serverkey")],
}


def _apply(lib: ModuleType, sock: Any, steps: list[tuple[str, Any]], key: bytes) -> list[int]:
    seen = [sock.getsockopt(lib.MECHANISM)]
    for name, value in steps:
        sock.setsockopt(getattr(lib, name), key if value == "serverkey" else value)
        seen.append(sock.getsockopt(lib.MECHANISM))
    return seen


@pytest.mark.parametrize("sequence", list(SEQUENCES))
def test_mechanism_option_follows_security_options_like_pyzmq(
    zmq_impl: ModuleType, ctx: Any, pyctx: Any, sequence: str
) -> None:
    steps = SEQUENCES[sequence]
    key, _ = pyzmq.curve_keypair()
    reference = pyctx.socket(pyzmq.DEALER)
    sock = ctx.socket(zmq_impl.DEALER)
    try:
        expected = _apply(pyzmq, reference, steps, key)
        assert _apply(zmq_impl, sock, steps, key) == expected, f"libzmq: {expected}"
        assert expected[0] == pyzmq.NULL
    finally:
        reference.close(linger=0)
        sock.close(linger=0)


@pytest.mark.parametrize("sequence", list(SEQUENCES))
def test_server_flags_read_back_like_pyzmq(
    zmq_impl: ModuleType, ctx: Any, pyctx: Any, sequence: str
) -> None:
    """getsockopt(PLAIN_SERVER) / getsockopt(CURVE_SERVER) after the same steps."""
    steps = SEQUENCES[sequence]
    key, _ = pyzmq.curve_keypair()

    def flags(lib: ModuleType, sock: Any) -> tuple[int, int]:
        _apply(lib, sock, steps, key)
        return sock.getsockopt(lib.PLAIN_SERVER), sock.getsockopt(lib.CURVE_SERVER)

    reference = pyctx.socket(pyzmq.DEALER)
    sock = ctx.socket(zmq_impl.DEALER)
    try:
        expected = flags(pyzmq, reference)
        assert flags(zmq_impl, sock) == expected, f"libzmq (PLAIN_SERVER, CURVE_SERVER): {expected}"
    finally:
        reference.close(linger=0)
        sock.close(linger=0)
