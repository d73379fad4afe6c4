"""CURVE certificate files in the czmq/pyzmq format (``name.key`` and ``name.key_secret``)."""

from __future__ import annotations

import datetime
import glob
import os

from ..utils import z85

_SECRET_BANNER = """#   ****  Generated on {0} by purezmq  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

"""
_PUBLIC_BANNER = """#   ****  Generated on {0} by purezmq  ****
#   ZeroMQ CURVE Public Certificate
#   Exchange securely, or use a secure mechanism to verify the contents
#   of this file after exchange. Store public certificates in your home
#   directory, in the .curve subdirectory.

"""


def _write(
    path: str,
    banner: str,
    public_key: bytes,
    secret_key: bytes | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    lines = [banner.format(datetime.datetime.now()), "metadata\n"]
    for key, value in (metadata or {}).items():
        lines.append(f"    {key} = {value}\n")
    lines.append("curve\n")
    lines.append(f'    public-key = "{public_key.decode("ascii")}"\n')
    if secret_key:
        lines.append(f'    secret-key = "{secret_key.decode("ascii")}"\n')
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(lines)


def create_certificates(
    key_dir: str, name: str, metadata: dict[str, str] | None = None
) -> tuple[str, str]:
    """Write a new key pair as ``name.key`` (public) and ``name.key_secret``; return both paths."""
    from .. import curve_keypair

    public_key, secret_key = curve_keypair()
    base = os.path.join(key_dir, name)
    public_file, secret_file = f"{base}.key", f"{base}.key_secret"
    _write(public_file, _PUBLIC_BANNER, public_key, metadata=metadata)
    _write(secret_file, _SECRET_BANNER, public_key, secret_key, metadata)
    os.chmod(secret_file, 0o600)
    return public_file, secret_file


def load_certificate(filename: str | os.PathLike[str]) -> tuple[bytes, bytes | None]:
    """(public key, secret key or None), both Z85 bytes, from a certificate file."""
    public_key = secret_key = None
    if not os.path.exists(filename):
        raise OSError(f"Invalid certificate file: {filename}")
    with open(filename, "rb") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(b"#") or b"=" not in line:
                continue
            name, _, value = line.partition(b"=")
            value = value.strip().strip(b"\"'")
            if name.strip() == b"public-key":
                public_key = value
            elif name.strip() == b"secret-key":
                secret_key = value
    if public_key is None:
        raise ValueError(f"No public key found in {filename}")
    for key in (public_key, secret_key):
        if key is not None and len(z85.decode(key)) != 32:
            raise ValueError(f"Invalid key in {filename}")
    return public_key, secret_key


def load_certificates(directory: str | os.PathLike[str] = ".") -> dict[bytes, bool]:
    """The public keys of every ``*.key`` file in ``directory``, as {key: True}."""
    if not os.path.isdir(directory):
        raise OSError(f"Invalid certificate directory: {directory}")
    keys: dict[bytes, bool] = {}
    for path in glob.glob(os.path.join(os.fspath(directory), "*.key")):
        public_key, _ = load_certificate(path)
        keys[public_key] = True
    return keys
