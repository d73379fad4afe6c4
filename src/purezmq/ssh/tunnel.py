"""ZeroMQ connections through ssh tunnels (pyzmq's zmq.ssh.tunnel).

``tunnel_connection(socket, "tcp://10.0.0.5:5555", "user@gateway")`` connects ``socket`` to an
address only ``gateway`` can reach: a local port is forwarded to it through ssh (``ssh -L``),
with the OpenSSH command (driven by pexpect, for password prompts) or with paramiko (in a
subprocess), and the socket connects to that local port.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import socket
import subprocess
import sys
from getpass import getpass, getuser
from multiprocessing import Process
from typing import Any

try:
    import paramiko

    SSHException: type[Exception] = paramiko.ssh_exception.SSHException
except ImportError:
    paramiko = None

    class SSHException(Exception):  # type: ignore[no-redef]
        """An ssh connection failed (paramiko's exception, when paramiko is installed)."""


try:
    import pexpect
except ImportError:
    pexpect = None

__all__ = [
    "MaxRetryExceeded",
    "SSHException",
    "open_tunnel",
    "openssh_tunnel",
    "paramiko_tunnel",
    "select_random_ports",
    "ssh_tunnel",
    "try_passwordless_ssh",
    "tunnel_connection",
]

#: What an ssh password (or key passphrase) prompt says.
_password_pat = re.compile(rb"pass(word|phrase)", re.IGNORECASE)
_HOST_UNKNOWN = re.compile(rb"authenticity of host", re.IGNORECASE)
#: How many 0.1 s looks at ssh's output before giving up on it starting.
_MAX_LOOKS = 600


class MaxRetryExceeded(Exception):
    """The ssh command neither finished starting the tunnel nor asked for anything in time."""


def select_random_ports(n: int) -> list[int]:
    """``n`` distinct tcp ports free on this machine now (bound together, then released)."""
    holders = []
    try:
        for _ in range(n):
            holder = socket.socket()
            holders.append(holder)
            holder.bind(("127.0.0.1", 0))
        return [holder.getsockname()[1] for holder in holders]
    finally:
        for holder in holders:
            holder.close()


def _split_server(server: str) -> tuple[str, str, int]:
    """``[user@]host[:port]`` as (user, host, port): this process's user and port 22 unless
    given."""
    if "@" in server:
        username, server = server.split("@", 1)
    else:
        username = getuser()
    if ":" in server:
        server, port_text = server.split(":", 1)
        port = int(port_text)
    else:
        port = 22
    return username, server, port


def _need_pexpect() -> Any:
    if pexpect is None:
        raise ImportError(
            "pexpect is needed for tunnels through the ssh command: pip install pexpect "
            "(or purezmq[ssh]), or pass paramiko=True"
        )
    return pexpect


def _need_paramiko() -> Any:
    if paramiko is None:
        raise ImportError("Paramiko not available: pip install paramiko (or purezmq[ssh])")
    return paramiko


def _ssh_command(server: str, keyfile: str | None) -> tuple[str, str]:
    """The ssh command's start (key, port) and the server without its port."""
    command = "ssh "
    if keyfile:
        command += f"-i {keyfile} "
    if ":" in server:
        server, port = server.split(":", 1)
        command += f"-p {port} "
    return command, server


def try_passwordless_ssh(server: str, keyfile: str | None, paramiko: bool | None = None) -> bool:
    """Whether an ssh login to ``server`` works without a password (keys, an agent): then
    many tunnels to one server ask for nothing. ``paramiko=None`` chooses the platform's way
    (paramiko on Windows, the ssh command elsewhere)."""
    if paramiko is None:
        paramiko = sys.platform == "win32"
    if paramiko:
        return _try_passwordless_paramiko(server, keyfile)
    return _try_passwordless_openssh(server, keyfile)


def _try_passwordless_openssh(server: str, keyfile: str | None) -> bool:
    """Try a login with the ssh command: False at a password prompt."""
    expect = _need_pexpect()
    command, host = _ssh_command(server, keyfile)
    child = expect.spawn(command + f"-f {host} exit", env=_ssh_env())
    try:
        while True:
            try:
                found = child.expect([_password_pat, _HOST_UNKNOWN], timeout=0.1)
            except expect.TIMEOUT:
                continue
            except expect.EOF:
                return True
            if found == 1:
                raise SSHException("The authenticity of the host can't be established.")
            return False
    finally:
        child.close(force=True)


def _try_passwordless_paramiko(server: str, keyfile: str | None) -> bool:
    """Try a login with paramiko: False when the server refuses it without a password."""
    library = _need_paramiko()
    username, host, port = _split_server(server)
    client = library.SSHClient()
    # An unknown host is refused here (SSHException), as pyzmq's; the tunnel itself warns.
    client.load_system_host_keys()
    try:
        client.connect(host, port, username=username, key_filename=keyfile, look_for_keys=True)
    except library.AuthenticationException:
        return False
    else:
        return True
    finally:
        client.close()


def tunnel_connection(
    socket: Any,
    addr: str,
    server: str,
    keyfile: str | None = None,
    password: str | None = None,
    paramiko: bool | None = None,
    timeout: int = 60,
) -> Process | int:
    """``socket.connect(addr)`` through an ssh tunnel via ``server``, for an ``addr`` (a
    ``tcp://ip:port``) that only ``server`` can reach. Returns the tunnel (as open_tunnel)."""
    new_url, tunnel = open_tunnel(
        addr, server, keyfile=keyfile, password=password, paramiko=paramiko, timeout=timeout
    )
    socket.connect(new_url)
    return tunnel


def open_tunnel(
    addr: str,
    server: str,
    keyfile: str | None = None,
    password: str | None = None,
    paramiko: bool | None = None,
    timeout: int = 60,
) -> tuple[str, Process | int]:
    """Forward a free local port to ``addr`` (``tcp://ip:port`` as ``server`` sees it) through
    ssh. Returns (the local ``tcp://127.0.0.1:port`` to connect to, the tunnel: the ssh
    command's pid, or paramiko's Process)."""
    lport = select_random_ports(1)[0]
    try:
        scheme, rest = addr.split("://", 1)
        ip, rport_text = rest.rsplit(":", 1)
        rport = int(rport_text)
    except ValueError:
        raise ValueError(f"addr must be a tcp://ip:port address, not {addr!r}") from None
    if scheme != "tcp":
        raise ValueError(f"only tcp addresses can be tunneled through ssh, not {addr!r}")
    if paramiko is None:
        paramiko = sys.platform == "win32"
    tunnelf = paramiko_tunnel if paramiko else openssh_tunnel
    tunnel = tunnelf(
        lport, rport, server, remoteip=ip, keyfile=keyfile, password=password, timeout=timeout
    )
    return f"tcp://127.0.0.1:{lport}", tunnel


def _ssh_env() -> dict[str, str]:
    # Prompts in English, whatever the user's locale, for the patterns above.
    return {**os.environ, "LC_ALL": "C"}


def openssh_tunnel(
    lport: int,
    rport: int,
    server: str,
    remoteip: str = "127.0.0.1",
    keyfile: str | None = None,
    password: str | None = None,
    timeout: int = 60,
) -> int:
    """Forward 127.0.0.1:``lport`` here to ``remoteip:rport`` as ``server`` sees it, with the
    ssh command (``ssh -f -L ... server sleep timeout``): the tunnel lasts while connections
    use it, at least ``timeout`` seconds. ``server`` is ``[user@]host[:port]``; a password
    prompt is answered with ``password`` (asked on the terminal when None). Through an
    existing ssh ControlMaster connection to ``server``, the forward is added to it (and
    cancelled at exit) and 0 is returned; otherwise the ssh command's pid.

    Raises SSHException when ssh asks to confirm an unknown host key, RuntimeError when ssh
    fails, MaxRetryExceeded when it hangs."""
    expect = _need_pexpect()
    command, host = _ssh_command(server, keyfile)
    forward = f"-L 127.0.0.1:{lport}:{remoteip}:{rport}"
    check = subprocess.run(
        f"{command}-O check {host}".split(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_ssh_env(),
        check=False,
    )
    if check.returncode == 0:
        # A ControlMaster for this server is running: add the forward to its connection.
        add = subprocess.run(
            f"{command}-O forward {forward} {host}".split(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=_ssh_env(),
            check=False,
        )
        if add.returncode != 0:
            raise RuntimeError(f"adding the forward to the ssh master failed: {add.stderr!r}")
        atexit.register(_stop_tunnel, f"{command}-O cancel {forward} {host}")
        return 0
    cmd = f"{command}-f -S none {forward} {host} sleep {timeout}"
    tunnel = expect.spawn(cmd, env=_ssh_env(), preexec_fn=_ignore_hangup)
    failed_password = False
    for _ in range(_MAX_LOOKS):
        try:
            found = tunnel.expect([_password_pat, _HOST_UNKNOWN], timeout=0.1)
        except expect.TIMEOUT:
            continue
        except expect.EOF:
            tunnel.wait()
            if tunnel.exitstatus:
                raise RuntimeError(f"tunnel '{cmd}' failed to start") from None
            return int(tunnel.pid)
        if found == 1:
            tunnel.close(force=True)
            raise SSHException("The authenticity of the host can't be established.")
        if failed_password:
            tunnel.close(force=True)
            raise SSHException("ssh refused the password")
        if password is None:
            password = getpass(f"{server}'s password: ")
        tunnel.sendline(password)
        failed_password = True
    tunnel.close(force=True)
    raise MaxRetryExceeded(f"Failed after {_MAX_LOOKS} attempts")


def _ignore_hangup() -> None:
    # ssh -f forks its tunnel off and exits; the exit of a terminal's session leader hangs up
    # its foreground process group, which the tunnel is still in until it detaches itself.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _stop_tunnel(cmd: str) -> None:
    subprocess.run(cmd.split(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def paramiko_tunnel(
    lport: int,
    rport: int,
    server: str,
    remoteip: str = "127.0.0.1",
    keyfile: str | None = None,
    password: str | None = None,
    timeout: int = 60,
) -> Process:
    """The tunnel of ``openssh_tunnel`` (``ssh server -L 127.0.0.1:lport:remoteip:rport``)
    made with paramiko in a daemon subprocess, for where the ssh command is missing (Windows).
    Returns that Process (terminate it to close the tunnel). Asks for a password on the
    terminal when ``password`` is None and the server wants one."""
    _need_paramiko()
    if password is None and not _try_passwordless_paramiko(server, keyfile):
        password = getpass(f"{server}'s password: ")
    process = Process(
        target=_paramiko_tunnel,
        args=(lport, rport, server, remoteip),
        kwargs={"keyfile": keyfile, "password": password},
        daemon=True,
    )
    process.start()
    return process


def _paramiko_tunnel(
    lport: int,
    rport: int,
    server: str,
    remoteip: str,
    keyfile: str | None = None,
    password: str | None = None,
) -> None:
    """The paramiko tunnel's subprocess (Process target; not called directly)."""
    from .forward import forward_tunnel

    library = _need_paramiko()
    username, host, port = _split_server(server)
    client = library.SSHClient()
    client.load_system_host_keys()
    client.set_missing_host_key_policy(library.WarningPolicy())
    try:
        client.connect(
            host,
            port,
            username=username,
            key_filename=keyfile,
            look_for_keys=True,
            password=password,
        )
    except Exception as exc:  # noqa: BLE001 - reported, and the subprocess ends
        print(f"*** Failed to connect to {host}:{port}: {exc!r}", file=sys.stderr)
        sys.exit(1)
    # SIGINT (a terminal's ^C in the parent's process group) ends the tunnel quietly.
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    try:
        forward_tunnel(lport, remoteip, rport, client.get_transport())
    finally:
        client.close()


#: The platform's way: paramiko where the ssh command is missing (Windows).
ssh_tunnel = paramiko_tunnel if sys.platform == "win32" else openssh_tunnel
