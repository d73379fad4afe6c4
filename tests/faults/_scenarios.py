"""The fault scenarios, each run for pyzmq and purezmq side by side, returning one row per run.

Both ends of a run use the same library ("zmq" is pyzmq, libzmq's behaviour and the
reference; "purezmq" is this checkout), so a row says what that library does on both sides of
the fault. The runs of one scenario share the wire (and so the fault) and run at the same time,
on different ports. A row is a dict of numbers plus ``problem``: None when the run met the
expectation, else what went wrong (and every process's last output). The tests assert on rows;
scripts/faults_report.py runs the long versions and prints them as a table.

Every wait has a deadline; nothing sleeps except for the length of a fault itself.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import traceback
from typing import Any

from ._net import ADDR_B, Net, Proc, fd_count, rss_kib, wait_until

IMPLS = ("zmq", "purezmq")
LABEL = {"zmq": "pyzmq", "purezmq": "purezmq"}
PATTERNS = {"push": ("PUSH", "PULL"), "pubsub": ("PUB", "SUB"), "dealer": ("DEALER", "ROUTER")}

Row = dict[str, Any]

#: (title, table) per scenario run in this process; the tests' conftest prints them at the end.
REPORTS: list[tuple[str, str]] = []


def report(title: str, rows: list[Row], columns: list[str]) -> str:
    text = table(rows, columns)
    REPORTS.append((title, text))
    print(f"{title}\n{text}")
    return f"{title}\n{text}"


def find(rows: list[Row], **match: Any) -> Row:
    return next(row for row in rows if all(row.get(k) == v for k, v in match.items()))


def new_row(**fields: Any) -> Row:
    return {"problem": None, **fields}


def fail(row: Row, problem: str) -> None:
    if row["problem"] is None:
        row["problem"] = problem


def attempt(row: Row, step: Any, *args: Any) -> Any:
    """Run a step of one run; an AssertionError fails that run only (the others go on)."""
    if row["problem"] is not None:
        return None
    try:
        return step(*args)
    except AssertionError as exc:
        fail(row, str(exc))
        return None


def table(rows: list[Row], columns: list[str]) -> str:
    """Rows as an aligned text table (``problem`` shortened to its first line)."""
    header = [*columns, "result"]
    lines = [header]
    for row in rows:
        cells = [_cell(row.get(column)) for column in columns]
        problem = row["problem"]
        cells.append("ok" if problem is None else "FAIL: " + problem.splitlines()[0][:90])
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines
    )


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return " ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)


# -- streams: scenarios 1 and 2 ---------------------------------------------------------------


class Flow:
    """One stream, sender in namespace A connecting to the receiver bound in namespace B."""

    def __init__(
        self,
        net: Net,
        pattern: str,
        impl: str,
        count: int,
        rate: float,
        *,
        size: int = 64,
        opts: dict[str, int] | None = None,
        mode: str = "stream",
        marks: tuple[int, ...] = (),
    ) -> None:
        sender_type, receiver_type = PATTERNS[pattern]
        self.count = count
        self.pattern, self.impl = pattern, impl
        self.port = net.port()
        endpoint = f"tcp://{ADDR_B}:{self.port}"
        common = {"impl": impl, "endpoint": endpoint, "opts": opts or {}, "size": size}
        name = f"{pattern}/{LABEL[impl]}"
        self.receiver = net.peer(
            f"{name} {receiver_type}",
            net.ns_b,
            {
                **common,
                "role": "recv",
                "type": receiver_type,
                "bind": True,
                "count": count,
                "echo": pattern == "dealer",
                "marks": list(marks),
            },
        )
        self.sender = net.peer(
            f"{name} {sender_type}",
            net.ns_a,
            {**common, "role": "send", "type": sender_type, "count": count, "rate": rate,
             "mode": mode},
        )  # fmt: skip
        self.row = new_row(pattern=pattern, impl=LABEL[impl], sent=0, received=0)
        #: Whether messages may be missing (a connection was dropped with some in flight).
        self.allow_gaps = False
        self.procs: list[Proc] = [self.receiver, self.sender]

    def describe(self) -> str:
        return "\n".join(proc.describe() for proc in self.procs)

    def ready(self, timeout: float) -> None:
        self.receiver.expect("READY", timeout)
        self.sender.expect("READY", timeout)

    def go(self, warm_timeout: float) -> None:
        """Start the stream (a PUB once its SUB has seen a probe: no slow joiner)."""
        if self.pattern == "pubsub":
            self.receiver.expect("WARM", warm_timeout)
        self.sender.send("GO")
        self.started = time.monotonic()

    def received(self) -> int:
        return self.receiver.latest("RECV")

    def wait_all(self, deadline: float) -> None:
        """Everything sent arrived (a DEALER: and every echo came back)."""
        remaining = max(0.1, deadline - time.monotonic())
        self.receiver.expect(f"ALL {self.count}", remaining, from_start=True)
        if self.pattern == "dealer":
            remaining = max(0.1, deadline - time.monotonic())
            done = self.receiver.matched_at
            self.sender.expect(f"ECHO {self.count}", remaining, from_start=True)
            self.row["echo_s"] = self.sender.matched_at - self.started
            self.receiver.matched_at = done
        self.row["seconds"] = self.receiver.matched_at - self.started

    def collect(self) -> None:
        """Counts and order, whatever happened before."""
        row = self.row
        try:
            sent = self.sender.stats(5.0)
            got = self.receiver.stats(5.0)
        except AssertionError as exc:
            fail(row, f"no stats: {exc}")
            return
        life = got["lives"].get("0", {})
        row["sent"], row["received"] = sent["sent"], life.get("count", 0)
        row["lost"] = row["sent"] - row["received"]
        errors = list(life.get("errors", []))
        if self.pattern == "dealer":
            echo = sent["echo"].get("0", {})
            row["echoed"] = echo.get("count", 0)
            errors += [["echo", *e] for e in echo.get("errors", [])]
            if len(got["routing_ids"].get("0", [])) > 1:
                row["reconnects"] = len(got["routing_ids"]["0"]) - 1
        if self.allow_gaps:
            # Only messages lost, none repeated or reordered: each error skips ahead.
            gaps = [e for e in errors if e[-1] > e[-2]]
            row["gaps"] = len(gaps)
            errors = [e for e in errors if e not in gaps]
        row["order_errors"] = len(errors)
        if errors:
            fail(row, f"out of order / missing (expected, got): {errors[:5]}")
        elif row["lost"] and not self.allow_gaps:
            fail(row, f"{row['lost']} of {row['sent']} lost")

    def fail_with_output(self) -> None:
        if self.row["problem"] is not None and "--- " not in self.row["problem"]:
            self.row["problem"] += "\n" + self.describe()

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


def run_flows(flows: list[Flow], body: Any) -> list[Row]:
    try:
        body()
        for flow in flows:
            flow.collect()
    finally:
        for flow in flows:
            flow.stop()
    for flow in flows:
        flow.fail_with_output()
    return [flow.row for flow in flows]


def impaired_streams(
    net: Net,
    *,
    loss: float = 0.2,
    delay: float = 0.2,
    count: int = 200,
    rate: float = 50.0,
    timeout: float = 60.0,
    patterns: tuple[str, ...] = tuple(PATTERNS),
    impls: tuple[str, ...] = IMPLS,
) -> list[Row]:
    """Scenario 1: ``count`` messages at ``rate`` per second through a wire that drops
    ``loss`` of the frames and delays the rest by ``delay`` seconds, each way (netem's "loss 20%
    delay 200ms" on both veths). TCP retransmits, so everything arrives, in order, PUB/SUB
    included (SNDHWM is never reached at this rate)."""
    assert net.wire is not None
    flows = [Flow(net, p, impl, count, rate) for p in patterns for impl in impls]

    def body() -> None:
        net.wire.set(loss=loss, delay=delay)
        try:
            for flow in flows:
                attempt(flow.row, flow.ready, 20.0)
            warm_deadline = time.monotonic() + 30.0
            for flow in flows:
                attempt(flow.row, flow.go, max(0.1, warm_deadline - time.monotonic()))
            deadline = time.monotonic() + timeout
            for flow in flows:
                attempt(flow.row, flow.wait_all, deadline)
            wire = net.wire.counters()
            for flow in flows:
                flow.row["wire_dropped"] = wire["ab"]["dropped"] + wire["ba"]["dropped"]
        finally:
            net.wire.heal()

    return run_flows(flows, body)


def partition_heal(
    net: Net,
    *,
    partition: float = 10.0,
    count: int = 200,
    rate: float = 20.0,
    before: int = 10,
    timeout: float = 40.0,
    patterns: tuple[str, ...] = tuple(PATTERNS),
    impls: tuple[str, ...] = IMPLS,
) -> list[Row]:
    """Scenario 2: streams at ``rate`` per second; once each has delivered ``before``
    messages, the wire drops everything for ``partition`` seconds, then heals. The TCP
    connections outlive the partition (nothing on either side gives up in that time: no
    heartbeats configured, keepalive off), so each stream resumes on its own, with nothing lost,
    in order: what was sent during the partition waited in the queues and the kernel's
    retransmissions. ``frozen`` is what arrived during the partition (0: it was a partition);
    ``resume_s`` the time from the heal to the next message delivered."""
    assert net.wire is not None
    flows = [Flow(net, p, impl, count, rate) for p in patterns for impl in impls]

    def body() -> None:
        for flow in flows:
            attempt(flow.row, flow.ready, 20.0)
        for flow in flows:
            attempt(flow.row, flow.go, 20.0)
        deadline = time.monotonic() + 20.0
        for flow in flows:
            attempt(
                flow.row,
                lambda f=flow: wait_until(
                    lambda: f.received() >= before,
                    max(0.1, deadline - time.monotonic()),
                    f"{before} messages before the partition",
                ),
            )
        net.wire.partition()
        cut = time.monotonic()
        try:
            time.sleep(min(1.0, partition))  # (in-flight frames: already delivered or dropped)
            at_cut = {id(flow): flow.received() for flow in flows}
            time.sleep(max(0.0, partition - (time.monotonic() - cut)))
            for flow in flows:
                flow.row["frozen"] = flow.received() - at_cut[id(flow)]
                flow.row["at_heal"] = flow.received()
        finally:
            net.wire.heal()
        healed = time.monotonic()
        for flow in flows:
            flow.row["partition_s"] = healed - cut
        waiting = {id(flow): flow for flow in flows if flow.row["problem"] is None}
        deadline = healed + timeout
        while waiting and time.monotonic() < deadline:
            for key, flow in list(waiting.items()):
                if flow.received() > flow.row["at_heal"] or flow.received() >= flow.count:
                    flow.row["resume_s"] = time.monotonic() - healed
                    del waiting[key]
            time.sleep(0.02)
        for flow in flows:
            attempt(flow.row, flow.wait_all, deadline)

    return run_flows(flows, body)


# -- scenario 3: Lazy Pirate --------------------------------------------------------------------


def lazy_pirate(
    net: Net,
    *,
    count: int = 20,
    partition: float = 4.0,
    before: int = 4,
    timeout_ms: int = 1000,
    gap: float = 0.1,
    timeout: float = 40.0,
    impls: tuple[str, ...] = IMPLS,
) -> list[Row]:
    """Scenario 3: a Lazy Pirate REQ client (zguide ch. 4: on no reply within ``timeout_ms``,
    close the REQ with linger 0, open a new one, send the request again) sends ``count``
    requests to a REP server; after ``before`` replies the wire is cut for ``partition``
    seconds. Every request is answered in the end (retries happen during the partition)."""
    assert net.wire is not None
    runs = []
    for impl in impls:
        endpoint = f"tcp://{ADDR_B}:{net.port()}"
        common = {"impl": impl, "endpoint": endpoint}
        server = net.peer(f"lp/{LABEL[impl]} REP", net.ns_b, {**common, "role": "lpserver",
                                                              "bind": True})  # fmt: skip
        client = net.peer(
            f"lp/{LABEL[impl]} REQ",
            net.ns_a,
            {**common, "role": "lpclient", "count": count, "timeout_ms": timeout_ms, "gap": gap},
        )
        runs.append((new_row(impl=LABEL[impl], requests=count), server, client))
    try:
        for row, server, client in runs:
            attempt(row, server.expect, "READY", 20.0)
            attempt(row, client.expect, "READY", 20.0)
        deadline = time.monotonic() + 20.0
        for row, _, client in runs:
            attempt(row, lambda c=client: c.expect(
                rf"REPLY {before - 1} \d+", max(0.1, deadline - time.monotonic()), from_start=True
            ))  # fmt: skip
        net.wire.partition()
        started = time.monotonic()
        try:
            time.sleep(partition)
        finally:
            net.wire.heal()
        deadline = time.monotonic() + timeout
        for row, server, client in runs:
            match = attempt(
                row,
                lambda c=client: c.expect(
                    r"DONE (\d+) (\d+)", max(0.1, deadline - time.monotonic()), from_start=True
                ),
            )
            if match:
                row["answered"], row["retries"] = int(match.group(1)), int(match.group(2))
                row["seconds_after_cut"] = client.matched_at - started
            else:
                row["answered"] = client.latest("REPLY", -1) + 1
            row["served"] = attempt(row, lambda s=server: s.stats(5.0)["served"])
    finally:
        for row, server, client in runs:
            client.stop()
            server.stop()
            if row["problem"] is not None:
                row["problem"] += "\n" + server.describe() + "\n" + client.describe()
    return [row for row, _, _ in runs]


# -- scenario 4: half-open connections -----------------------------------------------------------

KEEPALIVE_OPTS = {
    "TCP_KEEPALIVE": 1,
    "TCP_KEEPALIVE_IDLE": 1,
    "TCP_KEEPALIVE_INTVL": 1,
    "TCP_KEEPALIVE_CNT": 2,
}
HEARTBEAT_OPTS = {"HEARTBEAT_IVL": 300, "HEARTBEAT_TIMEOUT": 1200}
MAXRT_OPTS = {"TCP_MAXRT": 2000}
VARIANT_OPTS = {"keepalive": KEEPALIVE_OPTS, "heartbeat": HEARTBEAT_OPTS, "maxrt": MAXRT_OPTS}
#: On every socket: reconnect soon, and give up a connect whose SYNs go unanswered after 1 s
#: (else the kernel's SYN back-off can keep a healed network waiting for up to 15 s).
RECONNECT_OPTS = {"RECONNECT_IVL": 100, "CONNECT_TIMEOUT": 1000}


def half_open(
    net: Net,
    variant: str,
    *,
    batch: int = 10,
    detect_timeout: float = 15.0,
    timeout: float = 15.0,
    impls: tuple[str, ...] = IMPLS,
) -> list[Row]:
    """Scenario 4: a PUSH->PULL connection delivers a batch and goes idle; the wire is cut.

    With ``variant`` "keepalive" (TCP_KEEPALIVE 1, IDLE 1 s, INTVL 1 s, CNT 2) or "heartbeat"
    (ZMTP PINGs, HEARTBEAT_IVL 300 ms, HEARTBEAT_TIMEOUT 1200 ms) on both sockets, both ends
    must find the idle connection dead while the network is still cut (it leaves the
    ESTABLISHED state in both namespaces: ``ss``). With "maxrt" (TCP_MAXRT 2000 ms, the
    kernel's TCP_USER_TIMEOUT) a second batch is sent into the cut: the PUSH's end, whose data
    goes unacknowledged, must drop the connection (the PULL's end has nothing to send, so only
    keepalive or heartbeats could find out there: it stays half-open, ``b_half_open``, as with
    libzmq); the batch in flight may be lost (``lost``: libzmq loses what it had written to the
    dead connection). Then the wire heals and the PUSH must connect again (a new connection,
    another source port) and deliver the next batch. ``detect_s``: from the cut until the
    end(s) dropped it; ``reconnect_s``: from the heal until the new connection is up."""
    assert net.wire is not None
    in_flight = variant == "maxrt"
    opts = {**RECONNECT_OPTS, **VARIANT_OPTS[variant]}
    flows = [
        Flow(net, "push", impl, 0, 0, opts=opts, mode="ondemand", marks=(batch, 2 * batch))
        for impl in impls
    ]
    for flow in flows:
        flow.row["variant"] = variant
        flow.allow_gaps = in_flight
    batches = 3 if in_flight else 2

    def first_batch(flow: Flow) -> None:
        flow.ready(20.0)
        flow.started = time.monotonic()
        flow.sender.send(f"BATCH {batch}")
        flow.receiver.expect(f"AT 0 {batch}", 20.0, from_start=True)
        conns = wait_until(lambda: net.established(net.ns_a, flow.port), 5.0, "a connection")
        assert len(conns) == 1, f"expected one connection, ss shows {conns}"
        flow.conn = local, peer = next(iter(conns))

        def idle() -> bool:
            # Keepalive probes only start on a connection with nothing unacknowledged: wait for
            # the last ACKs (a cut before them would test TCP's retransmission timeout instead).
            return (
                net.established(net.ns_a, flow.port).get((local, peer)) == 0
                and net.established(net.ns_b, flow.port).get((peer, local)) == 0
            )

        wait_until(idle, 5.0, "the connection to be idle (Send-Q 0 on both ends)")

    def dropped(flow: Flow) -> bool:
        local, peer = flow.conn
        if flow.conn in net.established(net.ns_a, flow.port):
            return False
        b_has_it = (peer, local) in net.established(net.ns_b, flow.port)
        if in_flight:
            flow.row["b_half_open"] = b_has_it
            return True
        return not b_has_it

    def delivered_all(flow: Flow) -> bool:
        """The last message sent has arrived (whatever was lost before it)."""
        if in_flight:
            life = flow.receiver.stats(5.0)["lives"].get("0", {})
            return life.get("last") == batches * batch - 1
        return flow.receiver.has(f"AT 0 {2 * batch}")

    def reconnected(flow: Flow) -> bool:
        conns = net.established(net.ns_a, flow.port)
        return bool(conns) and flow.conn not in conns

    def body() -> None:
        for flow in flows:
            attempt(flow.row, first_batch, flow)
        net.wire.partition()
        cut = time.monotonic()
        try:
            if in_flight:
                for flow in flows:
                    if flow.row["problem"] is None:
                        flow.sender.send(f"BATCH {batch}")
            deadline = cut + detect_timeout
            for flow in flows:
                attempt(
                    flow.row,
                    lambda f=flow: wait_until(
                        lambda: dropped(f),
                        max(0.1, deadline - time.monotonic()),
                        "the PUSH to drop the connection during the partition"
                        if in_flight
                        else "both ends to drop the connection during the partition",
                        0.1,
                    ),
                )
                if flow.row["problem"] is None:
                    flow.row["detect_s"] = time.monotonic() - cut
        finally:
            net.wire.heal()
        healed = time.monotonic()
        for flow in flows:
            flow.row["partition_s"] = healed - cut
        deadline = healed + timeout
        for flow in flows:
            attempt(
                flow.row,
                lambda f=flow: wait_until(
                    lambda: reconnected(f),
                    max(0.1, deadline - time.monotonic()),
                    "a new connection after the heal",
                ),
            )
            if flow.row["problem"] is None:
                flow.row["reconnect_s"] = time.monotonic() - healed
                flow.sender.send(f"BATCH {batch}")
        for flow in flows:
            attempt(
                flow.row,
                lambda f=flow: wait_until(
                    lambda: delivered_all(f),
                    max(0.1, deadline - time.monotonic()),
                    "the batch sent after the heal",
                    0.1,
                ),
            )

    return run_flows(flows, body)


# -- scenario 5: a peer killed and restarted -------------------------------------------------------

KILL_PATTERNS = {
    # name: (survivor role, survivor type, killed peer's type)
    "push": ("recv", "PULL", "PUSH"),
    "dealer": ("recv", "ROUTER", "DEALER"),
    "feed": ("feed", "PUSH", "PULL"),
}


def kill_restart(
    net: Net,
    pattern: str,
    *,
    kills: int = 50,
    mark: int = 20,
    rate: float = 2000.0,
    final_count: int = 200,
    seed: int = 1,
    impls: tuple[str, ...] = IMPLS,
) -> list[Row]:
    """Scenario 5: the survivor binds in namespace B; in namespace A a peer connects, streams,
    and is SIGKILLed at a random moment (0-20 ms after the survivor's side of the stream has seen
    ``mark`` messages of it), ``kills`` times, each time replaced by a new process (forked from a
    zygote that imported the library once, so a restart costs milliseconds, not an interpreter
    start). Then a last peer runs to the end and closes normally. The survivor is never
    restarted, and must serve every life; what each kill lost is counted (messages that the
    sender's send() had accepted and that never arrived: in the dead process's queues, or, for
    a surviving sender, in its pipe to the dead peer: libzmq drops those too). Its fd count must
    come back to what it was with one peer, and its RSS stay near it.

    Patterns: "push" (killed PUSH -> surviving PULL), "dealer" (killed DEALER -> surviving
    ROUTER, which echoes), "feed" (surviving bound PUSH -> killed PULL)."""
    survivor_role, survivor_type, killed_type = KILL_PATTERNS[pattern]
    rows: list[Row] = []
    threads = []
    for impl in impls:
        row = new_row(pattern=pattern, impl=LABEL[impl], kills=kills)
        rows.append(row)
        thread = threading.Thread(
            target=_kill_run,
            args=(net, row, impl, survivor_role, survivor_type, killed_type),
            kwargs={"kills": kills, "mark": mark, "rate": rate, "final_count": final_count,
                    "seed": seed},
            daemon=True,
        )  # fmt: skip
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(30.0 + kills * 2.0)
        if thread.is_alive():
            fail(rows[threads.index(thread)], "the run did not finish in time")
    return rows


def _kill_run(
    net: Net,
    row: Row,
    impl: str,
    survivor_role: str,
    survivor_type: str,
    killed_type: str,
    *,
    kills: int,
    mark: int,
    rate: float,
    final_count: int,
    seed: int,
) -> None:
    rng = random.Random(seed)
    endpoint = f"tcp://{ADDR_B}:{net.port()}"
    name = f"kill/{row['pattern']}/{row['impl']}"
    survivor = net.peer(
        f"{name} survivor {survivor_type}",
        net.ns_b,
        {"impl": impl, "role": survivor_role, "type": survivor_type, "endpoint": endpoint,
         "bind": True, "echo": True, "marks": [mark], "rate": rate},
    )  # fmt: skip
    zygote = net.peer(
        f"{name} killed {killed_type}",
        net.ns_a,
        {"impl": impl, "role": "zygote", "type": killed_type, "endpoint": endpoint,
         "marks": [mark], "rate": rate, "final_count": final_count},
    )  # fmt: skip
    # Who sees a life's messages arrive: the survivor, or (a surviving sender) the child.
    watcher = zygote if survivor_role == "feed" else survivor
    started = time.monotonic()

    def life(index: int, final: bool) -> int:
        zygote.send(f"SPAWN {index}" + (" final" if final else ""))
        pid = int(zygote.expect(rf"CHILD {index} (\d+)", 10.0, from_start=True).group(1))
        watcher.expect(f"AT {index} {mark}", 15.0, from_start=True)
        return pid

    def body() -> None:
        survivor.expect("READY", 20.0)
        zygote.expect("READY", 20.0)
        for index in range(kills):
            pid = life(index, False)
            if index == 0:
                row["fds_base"] = fd_count(survivor.pid)
                row["rss_base_kib"] = rss_kib(survivor.pid)
            time.sleep(rng.uniform(0.0, 0.02))  # (where in the stream the kill lands)
            os.kill(pid, signal.SIGKILL)
            zygote.expect(f"REAPED {index} -9", 10.0, from_start=True)
        life(kills, True)
        # One peer again, as at the baseline: the dead ones' fds must all be closed.
        base = row["fds_base"]
        try:
            wait_until(lambda: fd_count(survivor.pid) <= base, 5.0, "fds back to baseline")
        except AssertionError:
            pass
        row["fds_after"] = fd_count(survivor.pid)
        row["rss_after_kib"] = rss_kib(survivor.pid)
        if survivor_role == "feed":
            survivor.send("END")
            survivor.expect(r"ENDED \d+", 10.0)
        zygote.expect(f"REAPED {kills} 0", 20.0, from_start=True)
        row["seconds"] = time.monotonic() - started
        account(row, survivor.stats(10.0), zygote.stats(10.0), kills, final_count)

    try:
        attempt(row, body)
    except Exception:  # (in a thread: it must end up in the row, not on stderr)
        fail(row, traceback.format_exc())
    finally:
        survivor.stop()
        zygote.stop()
        if row["problem"] is not None:
            row["problem"] += "\n" + survivor.describe() + "\n" + zygote.describe()


def account(row: Row, survivor: dict, lives: dict, kills: int, final_count: int) -> None:
    """Count what each kill lost, and check that every life's stream was whole up to its end."""
    problems = []
    lost = []
    pattern = row["pattern"]
    if pattern in ("push", "dealer"):
        for index in range(kills + 1):
            sent = lives[str(index)]["sent"]
            got = survivor["lives"].get(str(index), {"count": 0, "errors": []})
            if got["errors"]:
                problems.append(f"life {index}: out of order / missing {got['errors'][:3]}")
            if index < kills:
                lost.append(max(0, sent - got["count"]))
            elif got["count"] != final_count:
                problems.append(f"last life: {got['count']} of {final_count} arrived")
        if pattern == "dealer":
            final = lives[str(kills)]
            if final["got"] != final_count or final["errors"]:
                problems.append(f"last life: {final['got']} of {final_count} echoes")
    else:
        received = 0
        previous_last = -1
        for index in range(kills + 1):
            child = lives[str(index)]
            received += child["got"]
            if child["errors"]:
                problems.append(f"life {index}: {child['errors']} gaps inside its stream")
            if child["got"] and child["first"] <= previous_last:
                problems.append(f"life {index}: got {child['first']} again (duplicate)")
            if child["got"]:
                previous_last = child["last"]
        # (Which kill lost which message is not known here: the feed's sequence is global.)
        lost.append(max(0, survivor["sent"] - received))
    row["lost_total"] = sum(lost)
    row["lost_per_kill"] = round(sum(lost) / kills, 1) if kills else 0.0
    row["lost_max"] = max(lost) if lost and pattern != "feed" else None
    if problems:
        fail(row, "; ".join(problems))
