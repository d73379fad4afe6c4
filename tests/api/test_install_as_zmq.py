"""purezmq-only: ``purezmq.install_as_zmq()`` and ``PUREZMQ_AS_ZMQ=1`` make ``import zmq`` give
purezmq (with pyzmq installed alongside, as here). Each case runs in a fresh interpreter so that
this test process keeps its own ``zmq`` (pyzmq)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

import purezmq

pytestmark = pytest.mark.timeout(60)

ROOT = pathlib.Path(__file__).resolve().parents[2]
PTH = ROOT / "src" / "purezmq-as-zmq.pth"

#: Run in the child after zmq is purezmq: the same module objects under both names.
CHECKS = textwrap.dedent(
    """
    import sys
    import purezmq
    import zmq
    assert zmq is purezmq, zmq
    assert zmq.__name__ == "purezmq" and "purezmq" in zmq.__file__, zmq.__file__
    assert zmq.__spec__.name == "purezmq"
    import zmq.asyncio
    import purezmq.asyncio
    assert zmq.asyncio is purezmq.asyncio and sys.modules["zmq.asyncio"] is purezmq.asyncio
    from zmq.utils import jsonapi
    assert jsonapi is purezmq.utils.jsonapi
    import zmq.sugar.socket
    assert zmq.sugar.socket.Socket is purezmq.Socket
    from zmq.log.handlers import PUBHandler
    assert PUBHandler.__module__ == "purezmq.log.handlers"
    import zmq.auth.thread
    from zmq.devices import ThreadProxy
    assert ThreadProxy is purezmq.devices.ThreadProxy
    from zmq.utils.monitor import parse_monitor_message
    ctx = zmq.Context()
    assert isinstance(ctx, purezmq.Context)
    sock = ctx.socket(zmq.PAIR)
    assert isinstance(sock, purezmq.Socket)
    sock.close()
    ctx.term()
    try:
        import tornado  # noqa: F401 - purezmq.eventloop needs it (the tornado extra)
    except ImportError:
        pass
    else:
        import zmq.eventloop.zmqstream
        import purezmq.eventloop.zmqstream
        assert zmq.eventloop.zmqstream is purezmq.eventloop.zmqstream
        from zmq.eventloop.zmqstream import ZMQStream
        assert ZMQStream.__module__ == "purezmq.eventloop.zmqstream"
    import zmq.green
    import purezmq.green
    assert zmq.green is purezmq.green
    try:
        import zmq.no_such_module
    except ModuleNotFoundError as exc:
        assert exc.name.startswith("zmq.no_such_module"), exc.name
    else:
        raise AssertionError("zmq.no_such_module came from somewhere")
    import zmq.constants
    assert zmq.constants is purezmq.constants
    print("OK")
    """
)


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(ROOT),
    )


def _env(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PUREZMQ_AS_ZMQ", None)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def test_install_as_zmq_in_process() -> None:
    result = _python(
        "import purezmq; purezmq.install_as_zmq(); purezmq.install_as_zmq()\n" + CHECKS
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"


def test_install_as_zmq_after_pyzmq_was_imported() -> None:
    code = textwrap.dedent(
        """
        import warnings
        import zmq as pyzmq
        import zmq.sugar.socket
        import purezmq
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            purezmq.install_as_zmq()
        assert any("pyzmq was already imported" in str(w.message) for w in caught), caught
        assert pyzmq.__name__ == "zmq"  # a module that holds pyzmq keeps it
        """
    )
    result = _python(code + CHECKS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"


def test_uninstall_as_zmq() -> None:
    code = textwrap.dedent(
        """
        import sys
        import purezmq
        from purezmq._as_zmq import uninstall_as_zmq
        purezmq.install_as_zmq()
        import zmq
        assert zmq is purezmq
        uninstall_as_zmq()
        del zmq
        import zmq
        assert zmq is not purezmq and zmq.__name__ == "zmq"
        print("OK")
        """
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr


def _user_site(tmp_path: pathlib.Path) -> tuple[pathlib.Path, dict[str, str]]:
    """A user site-packages under ``tmp_path`` (PYTHONUSERBASE): the interpreter processes its
    .pth files at start-up, as it does those of the site-packages a wheel is installed in."""
    env = _env(PYTHONUSERBASE=str(tmp_path), PYTHONNOUSERSITE=None)
    probe = _python("import site; print(site.ENABLE_USER_SITE, site.getusersitepackages())", env)
    enabled, path = probe.stdout.split()
    if enabled != "True":
        pytest.skip("user site-packages disabled in this interpreter")
    site_dir = pathlib.Path(path)
    site_dir.mkdir(parents=True)
    # As in an installed wheel, purezmq is importable from the folder of the .pth (read first: in
    # alphabetical order), whatever the installation this test runs from (editable or not).
    (site_dir / "a-purezmq-source.pth").write_text(str(pathlib.Path(purezmq.__file__).parents[1]))
    shutil.copy(PTH, site_dir / PTH.name)
    return site_dir, env


def test_environment_variable_at_start_up(tmp_path: pathlib.Path) -> None:
    _, env = _user_site(tmp_path)
    result = _python(CHECKS, dict(env, PUREZMQ_AS_ZMQ="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"
    # A subprocess of it inherits the variable, so gets purezmq too (a Jupyter kernel, a pool).
    nested = _python(
        "import subprocess, sys; "
        "print(subprocess.run([sys.executable, '-c', 'import zmq; print(zmq.__name__)'], "
        "capture_output=True, text=True).stdout.strip())",
        dict(env, PUREZMQ_AS_ZMQ="1"),
    )
    assert nested.stdout.strip() == "purezmq", nested.stderr


@pytest.mark.parametrize("value", [None, "", "0", "false", "off"])
def test_without_the_environment_variable_zmq_is_pyzmq(
    tmp_path: pathlib.Path, value: str | None
) -> None:
    _, env = _user_site(tmp_path)
    if value is not None:
        env["PUREZMQ_AS_ZMQ"] = value
    code = "import sys, zmq; print(zmq.__name__, 'purezmq' in sys.modules, zmq.__file__)"
    result = _python(code, env)
    assert result.returncode == 0, result.stderr
    name, purezmq_loaded, path = result.stdout.split()
    assert name == "zmq" and "purezmq" not in path
    assert purezmq_loaded == "False"  # the .pth costs nothing when the variable is unset


def test_pth_file_is_one_import_line() -> None:
    lines = PTH.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("import ")  # site.py runs only such lines
    assert "PUREZMQ_AS_ZMQ" in lines[0] and "purezmq._autoinstall" in lines[0]


def test_the_wheel_installs_the_pth_file_at_the_root() -> None:
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = config["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["force-include"]["src/purezmq-as-zmq.pth"] == "purezmq-as-zmq.pth"
    assert purezmq.VERSION == config["project"]["version"]
