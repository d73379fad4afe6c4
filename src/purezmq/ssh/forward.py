"""A local port forwarded over a paramiko transport (``ssh -L``), for paramiko_tunnel
(pyzmq's zmq.ssh.forward)."""

from __future__ import annotations

import logging
import select
import socketserver
from typing import Any

logger = logging.getLogger("ssh")


class ForwardServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Handler(socketserver.BaseRequestHandler):
    """One local connection: a direct-tcpip channel to (chain_host, chain_port), and bytes
    copied both ways until either side closes."""

    chain_host: str
    chain_port: int
    ssh_transport: Any

    def handle(self) -> None:
        peer = self.request.getpeername()
        try:
            channel = self.ssh_transport.open_channel(
                "direct-tcpip", (self.chain_host, self.chain_port), peer
            )
        except Exception as exc:  # noqa: BLE001 - paramiko raises several kinds; all mean no
            logger.debug(
                "Incoming request to %s:%d failed: %r", self.chain_host, self.chain_port, exc
            )
            return
        if channel is None:
            logger.debug(
                "Incoming request to %s:%d was rejected by the SSH server.",
                self.chain_host,
                self.chain_port,
            )
            return
        logger.debug("Connected!  Tunnel open %r -> %r", peer, channel.getpeername())
        try:
            while True:
                readable, _, _ = select.select([self.request, channel], [], [])
                if self.request in readable:
                    data = self.request.recv(16384)
                    if not data:
                        break
                    channel.sendall(data)
                if channel in readable:
                    data = channel.recv(16384)
                    if not data:
                        break
                    self.request.sendall(data)
        finally:
            channel.close()
            self.request.close()
            logger.debug("Tunnel closed ")


def forward_tunnel(local_port: int, remote_host: str, remote_port: int, transport: Any) -> None:
    """Serve 127.0.0.1:``local_port`` forever, each connection forwarded through the ssh
    ``transport`` to ``remote_host:remote_port`` as the server sees it."""

    class SubHandler(Handler):
        chain_host = remote_host
        chain_port = remote_port
        ssh_transport = transport

    ForwardServer(("127.0.0.1", local_port), SubHandler).serve_forever()
