"""The ``purezmq`` text-stream command line, driven as subprocesses in real pipelines.

Every process runs ``sys.executable -m purezmq.cli`` from this checkout's ``src`` (put first on
PYTHONPATH) with a bounded timeout; endpoints are ipc sockets in a temporary directory or free tcp
ports on 127.0.0.1. pyzmq (libzmq) plays the peers where the CLI should talk to any ZeroMQ
implementation.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

CLI = [sys.executable, "-m", "purezmq.cli"]
SRC = Path(__file__).resolve().parents[1] / "src"
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p),
}
TIMEOUT = 20  # seconds any one process may take

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipelines")


@pytest.fixture
def ipc() -> Iterator[object]:
    """``ipc("name")`` -> a fresh ipc endpoint in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="pzcli-") as tmp:
        yield lambda name="s": f"ipc://{tmp}/{name}-{uuid.uuid4().hex[:6]}.sock"


@pytest.fixture
def pyctx() -> Iterator[zmq.Context]:
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen]]:
    """Processes started by a test; whatever is still running at the end is killed."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(procs: list, *args: str, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE):
    proc = subprocess.Popen(
        [*CLI, *args], stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, env=ENV
    )
    procs.append(proc)
    return proc


def run(*args: str, input: bytes = b"", timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], input=input, capture_output=True, timeout=timeout, env=ENV)


def finish(proc: subprocess.Popen, input: bytes | None = None) -> tuple[int, bytes, bytes]:
    if proc.stdin is not None and proc.stdin.closed:
        proc.stdin = None  # the test already wrote and closed it
    out, err = proc.communicate(input, timeout=TIMEOUT)
    return proc.returncode, out or b"", err or b""


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    err = result.stderr.decode()
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("purezmq: error: "), err
    for fragment in fragments:
        assert fragment in err, err


# -- push / pull --------------------------------------------------------------------------------


def test_seq_push_into_pull_wc(procs, ipc) -> None:
    """seq 1000 | purezmq push EP   and   purezmq pull --bind EP --count 1000 | wc -l"""
    ep = ipc()
    pull = start(procs, "pull", "--bind", ep, "--count", "1000")
    wc = subprocess.Popen(["wc", "-l"], stdin=pull.stdout, stdout=subprocess.PIPE)
    procs.append(wc)
    pull.stdout.close()  # wc owns the read end now
    seq = subprocess.Popen(["seq", "1000"], stdout=subprocess.PIPE)
    procs.append(seq)
    push = start(procs, "push", ep, stdin=seq.stdout)
    seq.stdout.close()
    assert finish(push)[0] == 0
    assert seq.wait(TIMEOUT) == 0
    assert pull.wait(TIMEOUT) == 0, pull.stderr.read()
    out, _ = wc.communicate(timeout=TIMEOUT)
    assert out.strip() == b"1000"


def test_push_bind_pull_connect_keeps_order(procs) -> None:
    ep = f"tcp://127.0.0.1:{free_port()}"
    lines = b"".join(b"line %d\n" % i for i in range(500))
    push = start(procs, "push", "--bind", ep, stdin=subprocess.PIPE)
    pull = start(procs, "pull", ep, "--count", "500", "--timeout", "15")
    push.stdin.write(lines)
    push.stdin.close()
    code, out, err = finish(pull)
    assert code == 0, err
    assert out == lines
    assert finish(push)[0] == 0


def test_pyzmq_push_feeds_purezmq_pull(procs, ipc, pyctx) -> None:
    ep = ipc()
    pull = start(procs, "pull", "--bind", ep, "--count", "100", "--timeout", "15")
    push = pyctx.socket(zmq.PUSH)
    push.connect(ep)
    for i in range(100):
        push.send(b"msg %d" % i)
    code, out, err = finish(pull)
    assert code == 0, err
    assert out.splitlines() == [b"msg %d" % i for i in range(100)]


def test_purezmq_push_into_pyzmq_pull(ipc, pyctx) -> None:
    ep = ipc()
    pull = pyctx.socket(zmq.PULL)
    pull.bind(ep)
    pull.RCVTIMEO = 10_000
    result = run("push", ep, "--timeout", "15", input=b"a\nb\n\nlast without newline")
    assert result.returncode == 0, result.stderr
    assert [pull.recv() for _ in range(4)] == [b"a", b"b", b"", b"last without newline"]


def test_push_count_stops_early(ipc, pyctx) -> None:
    ep = ipc()
    pull = pyctx.socket(zmq.PULL)
    pull.bind(ep)
    pull.RCVTIMEO = 10_000
    result = run("push", ep, "--count", "2", input=b"1\n2\n3\n4\n")
    assert result.returncode == 0, result.stderr
    assert [pull.recv(), pull.recv()] == [b"1", b"2"]
    assert pull.poll(200) == 0


def test_pull_exec_worker(procs, ipc, pyctx) -> None:
    ep = ipc()
    pull = start(procs, "pull", "--bind", ep, "--count", "3", "--exec", "sed 's/^/got: /'")
    push = pyctx.socket(zmq.PUSH)
    push.connect(ep)
    for word in (b"one", b"two", b"three"):
        push.send(word)
    code, out, err = finish(pull)
    assert code == 0, err
    assert out == b"got: one\ngot: two\ngot: three\n"


def test_push_started_before_its_pull_loses_nothing(procs, ipc) -> None:
    ep = ipc()
    lines = b"".join(b"%d\n" % i for i in range(200))
    push = start(procs, "push", ep, "--timeout", "15", stdin=subprocess.PIPE)
    push.stdin.write(lines)
    push.stdin.close()
    time.sleep(0.3)  # the push is connecting to an endpoint nobody has bound yet
    code, out, err = finish(start(procs, "pull", "--bind", ep, "--count", "200"))
    assert code == 0, err
    assert out == lines
    assert finish(push)[0] == 0


def test_progress_line_when_forced(procs, ipc, pyctx) -> None:
    ep = ipc()
    pull = start(procs, "pull", "--bind", ep, "--count", "2", "--progress")
    push = pyctx.socket(zmq.PUSH)
    push.connect(ep)
    push.send(b"first")
    assert pull.stdout.readline() == b"first\n"
    time.sleep(1.1)  # the line appears once a transfer has run for a second
    push.send(b"second")
    code, out, err = finish(pull)
    assert code == 0, err
    assert out == b"second\n"
    assert b"received 2/2 messages" in err and b"msg/s" in err and err.endswith(b"\n")


# -- pub / sub ----------------------------------------------------------------------------------


def test_pub_sub_subscribe_filters(procs, ipc) -> None:
    ep = ipc()
    sub = start(
        procs, "sub", "--bind", ep, "--subscribe", "news", "--subscribe", "wea", "--count", "3"
    )
    lines = b"sports 1\nnews 1\nweather sunny\nsports 2\nnews 2\n"
    pub = run("pub", ep, "--wait-subscribers", "15", input=lines)
    assert pub.returncode == 0, pub.stderr
    code, out, err = finish(sub)
    assert code == 0, err
    assert out == b"news 1\nweather sunny\nnews 2\n"


def test_pub_wait_subscribers_fails_without_any(ipc) -> None:
    result = run("pub", "--bind", ipc(), "--wait-subscribers", "0.3", input=b"x\n")
    assert_one_line_error(result, "no subscriber")


# -- req / rep ----------------------------------------------------------------------------------


def test_req_rep_echo(procs, ipc) -> None:
    ep = ipc()
    rep = start(procs, "rep", "--bind", ep, "--count", "3")
    req = run("req", ep, "--timeout", "15", input=b"one\ntwo\nthree\n")
    assert req.returncode == 0, req.stderr
    assert req.stdout == b"one\ntwo\nthree\n"
    code, out, err = finish(rep)
    assert code == 0, err
    assert out == b"one\ntwo\nthree\n"  # rep prints each request


def test_rep_exec_tr(procs) -> None:
    ep = f"tcp://127.0.0.1:{free_port()}"
    rep = start(procs, "rep", "--bind", ep, "--count", "2", "--exec", "tr a-z A-Z")
    req = run("req", ep, "--timeout", "15", input=b"hello\nworld\n")
    assert req.returncode == 0, req.stderr
    assert req.stdout == b"HELLO\nWORLD\n"
    assert finish(rep)[0] == 0


def test_rep_answers_pyzmq_req(procs, ipc, pyctx) -> None:
    ep = ipc()
    rep = start(procs, "rep", "--bind", ep, "--count", "1", "--exec", "rev")
    req = pyctx.socket(zmq.REQ)
    req.connect(ep)
    req.RCVTIMEO = 15_000
    req.send(b"stressed")
    assert req.recv() == b"desserts"
    assert finish(rep)[0] == 0


# -- dealer / router / pair ---------------------------------------------------------------------


def test_router_json_replies_to_pyzmq_dealer(procs, ipc, pyctx) -> None:
    ep = ipc()
    router = start(
        procs, "router", "--bind", ep, "--format", "json", "--count", "1", stdin=subprocess.PIPE
    )
    dealer = pyctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.ROUTING_ID, b"bob")
    dealer.connect(ep)
    dealer.RCVTIMEO = 15_000
    dealer.send(b"ping")
    assert json.loads(router.stdout.readline()) == ["bob", "ping"]
    router.stdin.write(b'["bob", "pong"]\n')
    router.stdin.close()
    assert dealer.recv() == b"pong"
    assert finish(router)[0] == 0


def test_dealer_talks_to_rep_with_empty_delimiter(procs, ipc) -> None:
    ep = ipc()
    rep = start(procs, "rep", "--bind", ep, "--count", "1", "--exec", "tr a-z A-Z")
    dealer = run("dealer", ep, "--format", "multipart", "--count", "1", input=b"\thello\n")
    assert dealer.returncode == 0, dealer.stderr
    assert dealer.stdout == b"\tHELLO\n"
    assert finish(rep)[0] == 0


@pytest.mark.parametrize("command", ["pair", "channel"])
def test_pair_both_ways(procs, ipc, command) -> None:
    ep = ipc()
    a = start(procs, command, "--bind", ep, "--count", "1", stdin=subprocess.PIPE)
    b = start(procs, command, ep, "--count", "1", stdin=subprocess.PIPE)
    a.stdin.write(b"from a\n")
    a.stdin.close()
    b.stdin.write(b"from b\n")
    b.stdin.close()
    code_a, out_a, err_a = finish(a)
    code_b, out_b, err_b = finish(b)
    assert (code_a, code_b) == (0, 0), (err_a, err_b)
    assert (out_a, out_b) == (b"from b\n", b"from a\n")


# -- the draft types: scatter / gather / client / server / peer / radio / dish / channel ---------


def test_scatter_into_gather(procs, ipc) -> None:
    ep = ipc()
    gather = start(procs, "gather", "--bind", ep, "--count", "3")
    scatter = run("scatter", ep, input=b"one\ntwo\nthree\n")
    assert scatter.returncode == 0, scatter.stderr
    code, out, err = finish(gather)
    assert code == 0, err
    assert out == b"one\ntwo\nthree\n"


def test_server_answers_a_client_by_routing_id(procs) -> None:
    ep = f"tcp://127.0.0.1:{free_port()}"
    server = start(procs, "server", "--bind", ep, "--count", "1", stdin=subprocess.PIPE)
    client = start(procs, "client", ep, "--count", "1", stdin=subprocess.PIPE)
    client.stdin.write(b"question\n")
    client.stdin.flush()
    routing_id, _, body = server.stdout.readline().rstrip(b"\n").partition(b"\t")
    assert routing_id.isdigit() and body == b"question"
    server.stdin.write(routing_id + b"\tanswer\n")
    server.stdin.close()
    client.stdin.close()
    code, out, err = finish(client)
    assert code == 0, err
    assert out == b"answer\n"
    assert finish(server)[0] == 0


def test_peer_says_whom_it_connected_to(procs) -> None:
    ep = f"tcp://127.0.0.1:{free_port()}"
    listening = start(procs, "peer", "--bind", ep, "--count", "1", "--no-input")
    connecting = start(procs, "peer", ep, "--count", "1", stdin=subprocess.PIPE)
    told = connecting.stderr.readline().decode()
    assert told.startswith(f"purezmq: peer {ep} has routing id "), told
    routing_id = told.rsplit(" ", 1)[1].strip()
    connecting.stdin.write(routing_id.encode() + b"\thello\n")
    connecting.stdin.flush()
    code, out, err = finish(listening)
    assert code == 0, err
    assert out.rstrip(b"\n").partition(b"\t")[2] == b"hello"


def test_radio_to_dish_over_udp(procs) -> None:
    port = free_udp_port()
    dish = start(
        procs,
        "dish",
        "--bind",
        f"udp://127.0.0.1:{port}",
        "--join",
        "news",
        "--format",
        "multipart",
        "--count",
        "1",
    )
    deadline = time.monotonic() + TIMEOUT
    while dish.poll() is None and time.monotonic() < deadline:  # (The dish may not be bound yet.)
        run("radio", "--group", "news", f"udp://127.0.0.1:{port}", input=b"flash\n")
        try:
            dish.wait(0.2)
        except subprocess.TimeoutExpired:
            pass
    code, out, err = finish(dish)
    assert code == 0, err
    assert out == b"news\tflash\n"


def test_draft_usage_mistakes() -> None:
    assert_one_line_error(run("server", "ipc:///tmp/x", "--format", "lines"), "multipart")
    assert_one_line_error(run("radio", "--bind", "udp://*:5555"), "not compatible")
    result = run("scatter", "ipc:///tmp/nobody", "--format", "multipart", input=b"a\tb\n")
    assert_one_line_error(result, "one part")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- formats ------------------------------------------------------------------------------------


def test_json_round_trip(procs, ipc) -> None:
    ep = ipc()
    docs = [b'{"a": 1, "b": [true, null]}', b"[1,2,3]", b'"text"', b"42"]
    pull = start(procs, "pull", "--bind", ep, "--format", "json", "--count", "5")
    push = run("push", ep, "--format", "json", input=b"\n".join(docs) + b"\n")
    assert push.returncode == 0, push.stderr
    # A non-JSON message (from a plain lines sender) is printed as a JSON string.
    assert run("push", ep, input=b"not json\n").returncode == 0
    code, out, err = finish(pull)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:4] == docs
    assert json.loads(lines[4]) == "not json"


def test_json_input_must_be_valid(ipc) -> None:
    result = run("push", ipc(), "--format", "json", "--timeout", "1", input=b"{oops\n")
    assert_one_line_error(result, "line 1", "not valid JSON")


def test_multipart_round_trip_and_pyzmq_frames(procs, ipc, pyctx) -> None:
    ep = ipc()
    text = b"a\tb\tc\nx\\ty\t\\x00\\\\z\n"
    frames = [[b"a", b"b", b"c"], [b"x\ty", b"\x00\\z"]]
    # purezmq push --format multipart -> pyzmq PULL: tab-separated fields are frames.
    pull = pyctx.socket(zmq.PULL)
    pull.bind(ep)
    pull.RCVTIMEO = 10_000
    assert run("push", ep, "--format", "multipart", input=text).returncode == 0
    assert [pull.recv_multipart(), pull.recv_multipart()] == frames
    # pyzmq PUSH -> purezmq pull --format multipart, then --format json (a list of strings).
    for fmt, expected in (("multipart", text), ("json", None)):
        ep2 = ipc()
        proc = start(procs, "pull", "--bind", ep2, "--format", fmt, "--count", "2")
        push = pyctx.socket(zmq.PUSH)
        push.connect(ep2)
        for message in frames:
            push.send_multipart(message)
        code, out, err = finish(proc)
        assert code == 0, err
        if expected is not None:
            assert out == expected
        else:
            assert [json.loads(line) for line in out.splitlines()] == [
                ["a", "b", "c"],
                ["x\ty", "\x00\\z"],
            ]


def test_raw_format(procs, ipc) -> None:
    ep = ipc()
    pull = start(procs, "pull", "--bind", ep, "--format", "raw", "--count", "1")
    assert run("push", ep, "--format", "raw", input=b"abc\ndef").returncode == 0
    code, out, err = finish(pull)
    assert code == 0, err
    assert out == b"abc\ndef"


# -- proxy --------------------------------------------------------------------------------------


def test_proxy_streamer_with_capture_between_pyzmq_peers(procs, ipc, pyctx) -> None:
    front, back, cap = ipc("front"), ipc("back"), ipc("capture")
    proxy = start(procs, "proxy", front, back, "--pattern", "streamer", "--capture", cap)
    push = pyctx.socket(zmq.PUSH)
    push.connect(front)
    pull = pyctx.socket(zmq.PULL)
    pull.connect(back)
    capture = pyctx.socket(zmq.SUB)
    capture.subscribe(b"")
    capture.connect(cap)
    # Probe until the capture subscription has reached the proxy (the slow joiner).
    deadline = time.monotonic() + 15
    while not capture.poll(50):
        assert time.monotonic() < deadline, "capture never got a message"
        push.send(b"probe")
    while capture.poll(200):
        capture.recv()
    while pull.poll(200):
        pull.recv()
    for i in range(50):
        push.send_multipart([b"job", b"%d" % i])
    got = []
    for _ in range(50):
        assert pull.poll(10_000)
        got.append(pull.recv_multipart())
    assert got == [[b"job", b"%d" % i] for i in range(50)]
    captured = []
    while len(captured) < 50 and capture.poll(5_000):
        captured.append(capture.recv_multipart())
    assert captured == got
    proxy.send_signal(signal.SIGTERM)
    code, _, err = finish(proxy)
    assert code == 0, err
    assert b"Traceback" not in err


def test_proxy_queue_between_pyzmq_req_and_rep(procs, pyctx) -> None:
    front = f"tcp://127.0.0.1:{free_port()}"
    back = f"tcp://127.0.0.1:{free_port()}"
    proxy = start(procs, "proxy", front, back)  # --pattern queue is the default
    worker = pyctx.socket(zmq.REP)
    worker.connect(back)
    clients = [pyctx.socket(zmq.REQ) for _ in range(3)]
    for client in clients:
        client.connect(front)
        client.RCVTIMEO = 15_000
    for round_ in range(2):
        for i, client in enumerate(clients):
            client.send(b"hello %d.%d" % (i, round_))
        for _ in clients:
            assert worker.poll(15_000)
            worker.send(worker.recv().upper())
        for i, client in enumerate(clients):
            assert client.recv() == b"HELLO %d.%d" % (i, round_)
    proxy.send_signal(signal.SIGINT)
    code, _, err = finish(proxy)
    assert code == 0, err


def test_proxy_count_exits(procs, ipc, pyctx) -> None:
    front, back = ipc("front"), ipc("back")
    proxy = start(procs, "proxy", front, back, "--pattern", "streamer", "--count", "5")
    pull = pyctx.socket(zmq.PULL)
    pull.connect(back)
    push = pyctx.socket(zmq.PUSH)
    push.connect(front)
    for i in range(5):
        push.send(b"%d" % i)
    assert finish(proxy)[0] == 0
    assert [pull.recv() for _ in range(5) if pull.poll(10_000)] == [b"%d" % i for i in range(5)]


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("pull", "foo://nowhere"), "Protocol not supported"),
        (("push", "--bind", "tcp://127.0.0.1"), "Invalid argument"),
        (("pull", "tcp://*:5555"), "wildcard"),
        (("proxy", "tcp://127.0.0.1:notaport", "ipc:///tmp/x.sock"), "cannot bind"),
    ],
)
def test_bad_endpoint_is_one_line(args, fragment) -> None:
    assert_one_line_error(run(*args), fragment)


def test_address_in_use_is_one_line(pyctx) -> None:
    holder = pyctx.socket(zmq.PULL)
    port = holder.bind_to_random_port("tcp://127.0.0.1")
    result = run("pull", "--bind", f"tcp://127.0.0.1:{port}")
    assert_one_line_error(result, "Address already in use")
    assert result.returncode == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("pull", "--timeout", "0.3"), "no message arrived"),
        (("req", "--timeout", "0.3"), "no reply arrived"),
        (("push", "--timeout", "0.3"), "undelivered"),
        (("dealer", "--timeout", "0.3", "--no-input"), "nothing was sent or received"),
    ],
)
def test_timeout_without_peer(ipc, args, fragment) -> None:
    started = time.monotonic()
    result = run(*args, ipc(), input=b"hello\n")
    assert_one_line_error(result, "timed out", fragment)
    assert result.returncode == 1
    assert time.monotonic() - started < 10


def test_usage_mistakes_exit_2() -> None:
    assert_one_line_error(run("pull"), "ENDPOINT")
    assert_one_line_error(run("sub", "ipc:///tmp/x", "--count", "0"), "--count")
    assert_one_line_error(run("router", "ipc:///tmp/x", "--format", "lines"), "multipart")
    assert run("pull").returncode == 2


@pytest.mark.parametrize(
    "command",
    ["push", "pull", "pub", "sub", "req", "rep", "dealer", "router", "pair", "proxy"]
    + ["scatter", "gather", "client", "server", "peer", "radio", "dish", "channel"],
)
def test_help_has_examples(command) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert b"examples:" in result.stdout
    assert b"purezmq " + command.encode() in result.stdout


def test_ctrl_c_exits_130_quietly(procs, ipc, pyctx) -> None:
    ep = ipc()
    pull = start(procs, "pull", "--bind", ep)
    push = pyctx.socket(zmq.PUSH)
    push.connect(ep)
    push.send(b"ready")
    assert pull.stdout.readline() == b"ready\n"  # it is running, waiting for the next message
    pull.send_signal(signal.SIGINT)
    code, _, err = finish(pull)
    assert (code, err) == (130, b"")


# -- keygen -------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["certs", "certs/nested/deeper"])
def test_keygen_dir_makes_a_missing_folder(tmp_path, folder) -> None:
    """purezmq keygen --dir certs server   (as its --help shows) makes certs/ like mkdir -p."""
    result = subprocess.run(
        [*CLI, "keygen", "--dir", folder, "server"],
        capture_output=True,
        timeout=TIMEOUT,
        env=ENV,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    certs = tmp_path / folder
    assert (certs / "server.key").is_file()
    assert (certs / "server.key_secret").is_file()
    assert result.stdout.decode().split() == [
        os.path.join(folder, "server.key"),
        os.path.join(folder, "server.key_secret"),
    ]


# -- bench: the subcommand only hands over to purezmq.bench.main --------------------------------


def run_main_with_bench(bench_module: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``purezmq.cli.main(args)`` with ``purezmq.bench`` replaced by ``bench_module``."""
    code = f"""
import sys, types
{bench_module}
from purezmq.cli import main
sys.exit(main({list(args)!r}))
"""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=TIMEOUT, env=ENV
    )


def test_bench_passes_arguments_through() -> None:
    fake = """
fake = types.ModuleType("purezmq.bench")
fake.main = lambda argv: print("bench got", argv) or 3
sys.modules["purezmq.bench"] = fake
"""
    result = run_main_with_bench(fake, "bench", "--tests", "thr", "--help")
    assert result.returncode == 3, result.stderr
    assert result.stdout == b"bench got ['--tests', 'thr', '--help']\n"


def test_bench_missing_is_one_line() -> None:
    missing = 'sys.modules["purezmq.bench"] = None  # import raises ModuleNotFoundError'
    result = run_main_with_bench(missing, "bench", "--scale", "0.01")
    assert_one_line_error(result, "purezmq.bench")
    assert result.returncode == 1


def test_version_from_any_directory() -> None:
    result = subprocess.run(
        [*CLI, "--version"],
        capture_output=True,
        timeout=TIMEOUT,
        cwd=os.path.expanduser("~"),
        env=ENV,
    )
    assert result.returncode == 0 and result.stdout.startswith(b"purezmq ")
