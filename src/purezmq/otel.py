"""purezmq.otel: a Context's socket statistics as OpenTelemetry metrics.

::

    import purezmq, purezmq.otel
    ctx = purezmq.Context()
    purezmq.otel.instrument(ctx)            # the global MeterProvider, or meter_provider=...

Observable instruments read ``Context.stats()`` whenever the application's metric reader
collects: counters ``purezmq.messages_in``, ``purezmq.messages_out``, ``purezmq.bytes_in``,
``purezmq.bytes_out``, ``purezmq.connections``, ``purezmq.disconnections``,
``purezmq.reconnects``, ``purezmq.handshake_failures``, ``purezmq.dropped``, and gauges
``purezmq.peers`` and ``purezmq.queued_messages`` (attribute ``direction``: in or out), each
per socket (attributes ``socket``, its index, and ``type``). Nothing is counted on the message
path for them: the sockets keep these totals anyway (Socket.stats()). A collection that fails
is logged once and reports nothing; it never reaches the sockets. Needs the ``otel`` extra
(``opentelemetry-api``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

try:
    from opentelemetry import metrics
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError("purezmq.otel needs opentelemetry-api: pip install 'purezmq[otel]'") from exc

log = logging.getLogger("purezmq")

_COUNTERS = (
    ("messages_in", "Messages received", "{message}"),
    ("messages_out", "Messages sent (handed to a connection)", "{message}"),
    ("bytes_in", "Bytes received on the wire", "By"),
    ("bytes_out", "Bytes sent on the wire", "By"),
    ("connections", "Connections made or accepted", "{connection}"),
    ("disconnections", "Connections ended", "{connection}"),
    ("reconnects", "Connections made again after one ended", "{connection}"),
    ("handshake_failures", "Handshakes that failed", "{handshake}"),
    ("dropped", "Messages dropped (a full peer at its high-water mark, no route)", "{message}"),
)


class Instrumentation:
    """The instruments observing one context (kept alive with it: drop it to stop)."""

    def __init__(self, context: Any, meter: Any) -> None:
        self.context = context
        self._failed = False
        self.instruments = [
            meter.create_observable_counter(
                f"purezmq.{name}", callbacks=[self._counter(name)], unit=unit, description=text
            )
            for name, text, unit in _COUNTERS
        ]
        self.instruments.append(
            meter.create_observable_gauge(
                "purezmq.peers",
                callbacks=[self._peers],
                unit="{peer}",
                description="Current tcp/ipc/ws peers",
            )
        )
        self.instruments.append(
            meter.create_observable_gauge(
                "purezmq.queued_messages",
                callbacks=[self._queued],
                unit="{message}",
                description="Messages queued to and from the peers",
            )
        )

    def _stats(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(attributes, stats) of each socket; nothing when reading them fails (logged once)."""
        try:
            found = self.context.stats()
        except Exception as exc:  # noqa: BLE001 - a collection must never fail the sockets
            if not self._failed:
                self._failed = True
                log.warning("purezmq: OpenTelemetry collection failed: %r", exc)
            return []
        return [({"socket": index, "type": s["type"]}, s) for index, s in enumerate(found)]

    def _counter(self, name: str) -> Any:
        def observe(options: Any) -> Iterable[metrics.Observation]:
            return [metrics.Observation(s[name], labels) for labels, s in self._stats()]

        return observe

    def _peers(self, options: Any) -> Iterable[metrics.Observation]:
        return [metrics.Observation(len(s["peers"]), labels) for labels, s in self._stats()]

    def _queued(self, options: Any) -> Iterable[metrics.Observation]:
        observations = []
        for labels, stats in self._stats():
            for direction, key in (("out", "queued_out"), ("in", "queued_in")):
                total = sum(peer[key] for peer in stats["peers"])
                observations.append(metrics.Observation(total, {**labels, "direction": direction}))
        return observations


def instrument(context: Any, meter_provider: Any = None) -> Instrumentation:
    """Observe ``context``'s sockets through ``meter_provider`` (default: the global one)."""
    provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
    meter = provider.get_meter("purezmq")
    return Instrumentation(context, meter)


__all__ = ["Instrumentation", "instrument"]
