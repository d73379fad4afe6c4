"""Authentication for PLAIN and CURVE (ZAP handlers and certificates), as pyzmq's zmq.auth."""

from .base import CURVE_ALLOW_ANY, Authenticator
from .certs import create_certificates, load_certificate, load_certificates
from .thread import ThreadAuthenticator

__all__ = [
    "CURVE_ALLOW_ANY",
    "Authenticator",
    "AsyncioAuthenticator",
    "ThreadAuthenticator",
    "create_certificates",
    "load_certificate",
    "load_certificates",
]


def __getattr__(name: str) -> object:
    if name == "AsyncioAuthenticator":
        from .asyncio import AsyncioAuthenticator

        return AsyncioAuthenticator
    raise AttributeError(name)
