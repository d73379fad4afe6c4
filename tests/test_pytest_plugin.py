"""purezmq's pytest plugin through pytest's own pytester: the fixtures work in a test
project, and their failures say what went wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.timeout(120)


def _plugin_args() -> tuple[str, ...]:
    """Installed (pip install), the entry point loads the plugin; from a bare checkout, -p."""
    from importlib.metadata import entry_points

    if any(e.name == "purezmq" for e in entry_points(group="pytest11")):
        return ("-p", "no:cacheprovider")
    return ("-p", "purezmq.pytest_plugin", "-p", "no:cacheprovider")


PLUGIN = _plugin_args()


def test_the_fixtures_in_a_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import purezmq as zmq
        import pytest

        @pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
        def test_pair(zmq_pair, zmq_assert_receives, transport):
            pull, push = zmq_pair(zmq.PULL, zmq.PUSH, transport)
            push.send_multipart([b"a", b"b"])
            zmq_assert_receives(pull, [b"a", b"b"])

        def test_req_rep(zmq_pair, zmq_assert_receives):
            rep, req = zmq_pair(zmq.REP, zmq.REQ)
            req.send(b"ping")
            zmq_assert_receives(rep, [b"ping"])

        def test_endpoints(zmq_context, zmq_tcp_endpoint, zmq_ipc_endpoint):
            for endpoint in (zmq_tcp_endpoint, zmq_ipc_endpoint):
                sock = zmq_context.socket(zmq.PULL)
                sock.bind(endpoint)
                assert sock.last_endpoint.decode() == endpoint

        def test_a_pyzmq_peer(zmq_pyzmq, zmq_context, zmq_tcp_endpoint, zmq_assert_receives):
            pull = zmq_context.socket(zmq.PULL)
            pull.bind(zmq_tcp_endpoint)
            peer = zmq_pyzmq.Context()
            push = peer.socket(zmq_pyzmq.PUSH)
            push.connect(zmq_tcp_endpoint)
            push.send(b"from libzmq")
            zmq_assert_receives(pull, [b"from libzmq"])
            push.close(0)
            peer.term()
        """
    )
    result = pytester.runpytest_subprocess(*PLUGIN)
    result.assert_outcomes(passed=6)


def test_a_message_that_does_not_come_fails_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import purezmq as zmq

        def test_silence(zmq_pair, zmq_assert_receives):
            pull, push = zmq_pair(zmq.PULL, zmq.PUSH)
            zmq_assert_receives(pull, [b"never sent"], timeout=0.2)

        def test_wrong(zmq_pair, zmq_assert_receives):
            pull, push = zmq_pair(zmq.PULL, zmq.PUSH)
            push.send(b"this")
            zmq_assert_receives(pull, [b"that"])
        """
    )
    result = pytester.runpytest_subprocess(*PLUGIN)
    result.assert_outcomes(failed=2)
    # (fnmatch: brackets are a character class; "*" around the frames instead.)
    result.stdout.fnmatch_lines(["*no message within 0.2 s*", "*received *this*, expected *that*"])


def test_the_entry_point_is_declared() -> None:
    from importlib.metadata import entry_points

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    text = pyproject.read_text()
    assert "[project.entry-points.pytest11]\n" in text
    assert 'purezmq = "purezmq.pytest_plugin"' in text.split("[project.entry-points.pytest11]")[1]
    installed = [e for e in entry_points(group="pytest11") if e.name == "purezmq"]
    if installed:  # (An install made before the entry point was added has none.)
        assert installed[0].value == "purezmq.pytest_plugin"
