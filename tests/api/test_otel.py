"""purezmq.otel (issue 20): a context's socket statistics as OpenTelemetry metrics, read by the
SDK's in-memory reader; a collection that fails reports nothing and leaves the traffic alone."""

from __future__ import annotations

from typing import Any

import pytest

import purezmq

pytest.importorskip("opentelemetry.sdk.metrics")
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402

import purezmq.otel  # noqa: E402

pytestmark = pytest.mark.timeout(30)


def collected(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    """Metric name -> its data points."""
    found: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


@pytest.fixture
def reader_and_context():
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    ctx = purezmq.Context()
    instrumentation = purezmq.otel.instrument(ctx, meter_provider=provider)
    yield reader, ctx, instrumentation
    ctx.destroy(linger=0)
    provider.shutdown()


def test_the_socket_totals_are_observed(reader_and_context):
    reader, ctx, _ = reader_and_context
    pull = ctx.socket(purezmq.PULL)
    pull.rcvtimeo = 5000
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = ctx.socket(purezmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    for n in range(10):
        push.send(b"m%d" % n)
    for _ in range(10):
        pull.recv()
    metrics = collected(reader)
    by_type = {point.attributes["type"]: point.value for point in metrics["purezmq.messages_in"]}
    assert by_type["PULL"] == 10
    sent = {point.attributes["type"]: point.value for point in metrics["purezmq.messages_out"]}
    assert sent["PUSH"] == 10
    bytes_in = {p.attributes["type"]: p.value for p in metrics["purezmq.bytes_in"]}
    assert bytes_in["PULL"] > 10 * 2
    peers = {p.attributes["type"]: p.value for p in metrics["purezmq.peers"]}
    assert peers == {"PULL": 1, "PUSH": 1}
    directions = {p.attributes["direction"] for p in metrics["purezmq.queued_messages"]}
    assert directions == {"in", "out"}


def test_a_failing_collection_reports_nothing_and_harms_nothing(reader_and_context, caplog):
    reader, ctx, instrumentation = reader_and_context
    pair = ctx.socket(purezmq.PAIR)
    pair.bind("inproc://otel")
    other = ctx.socket(purezmq.PAIR)
    other.connect("inproc://otel")

    def broken() -> Any:
        raise RuntimeError("stats broke")

    instrumentation.context = type("Broken", (), {"stats": staticmethod(broken)})()
    assert "purezmq.messages_in" not in collected(reader)
    assert "OpenTelemetry collection failed" in caplog.text
    other.send(b"still flowing")
    pair.rcvtimeo = 5000
    assert pair.recv() == b"still flowing"
