"""The TLS contexts of wss:// from the socket's WSS_* options (PEM texts, as libzmq takes
them); the TLS itself runs over bytes in protocol/tls.py."""

from __future__ import annotations

import os
import ssl
import tempfile

from ..constants import SocketOption as Opt
from ..options import Options


def server_context(cert_pem: bytes, key_pem: bytes) -> ssl.SSLContext:
    """A server's context from PEM texts (WSS_CERT_PEM, WSS_KEY_PEM)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # load_cert_chain reads files only: the PEMs go through a private file, removed at once.
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(cert_pem.rstrip(b"\n") + b"\n" + key_pem)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)
    return context


def client_context(trust_pem: bytes, trust_system: bool) -> ssl.SSLContext:
    """A client's context: WSS_TRUST_PEM's certificates, and the system's (WSS_TRUST_SYSTEM)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if trust_system:
        context.load_default_certs()
    if trust_pem:
        context.load_verify_locations(cadata=trust_pem.decode("ascii"))
    return context


def context_for(options: Options, server_side: bool) -> ssl.SSLContext:
    if server_side:
        return server_context(options.bytes(Opt.WSS_CERT_PEM), options.bytes(Opt.WSS_KEY_PEM))
    return client_context(options.bytes(Opt.WSS_TRUST_PEM), bool(options.int(Opt.WSS_TRUST_SYSTEM)))
