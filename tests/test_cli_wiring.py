"""The CLI hands keygen, worker and demo web to their modules' own main()."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(60)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "purezmq.cli", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_keygen_prints_a_key_pair_that_belongs_together() -> None:
    import purezmq

    result = run_cli("keygen")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert len(lines["public"]) == len(lines["secret"]) == 40
    assert purezmq.curve_public(lines["secret"].encode()) == lines["public"].encode()


def test_keygen_writes_certificates(tmp_path) -> None:
    from purezmq.auth import load_certificate

    result = run_cli("keygen", "--dir", str(tmp_path), "server")
    assert result.returncode == 0, result.stderr
    public, secret = load_certificate(tmp_path / "server.key_secret")
    assert secret is not None and load_certificate(tmp_path / "server.key")[0] == public


@pytest.mark.parametrize(
    "words,expected",
    [(("worker", "--help"), "JOBS_ENDPOINT"), (("demo", "web", "--help"), "--workers")],
)
def test_pass_through_help(words: tuple[str, ...], expected: str) -> None:
    result = run_cli(*words)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
