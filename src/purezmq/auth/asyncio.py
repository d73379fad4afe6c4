"""AsyncioAuthenticator: a ZAP handler running as a task on the event loop."""

from __future__ import annotations

import asyncio
from typing import Any

from .base import Authenticator


class AsyncioAuthenticator(Authenticator):
    """Give it a purezmq.asyncio.Context (or it uses that class's instance())."""

    def __init__(
        self, context: Any = None, loop: Any = None, encoding: str = "utf-8", log: Any = None
    ) -> None:
        if context is None:
            from ..asyncio import Context

            context = Context.instance()
        super().__init__(context, encoding, log)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        super().start()
        self._task = asyncio.get_event_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            message = await self.zap_socket.recv_multipart()
            self.handle_zap_message(message)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        super().stop()

    async def __aenter__(self) -> AsyncioAuthenticator:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()
