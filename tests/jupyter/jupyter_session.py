"""A Jupyter client session against an ipykernel, run by test_jupyter_kernel.py in a process of
its own whose ``zmq`` is purezmq (PUREZMQ_AS_ZMQ=1 and the sitecustomize of ``startup/``), as is
the kernel's, which inherits the environment.

``python jupyter_session.py blocking|async``: starts a kernel, executes code and reads its output
over iopub, completes, inspects, interrupts a ``time.sleep``, restarts and shuts down; prints one
JSON object (what was seen) as its last line of output. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

TIMEOUT = 20.0  # Any one reply or message.
#: Seconds after the start when the heartbeat is looked at: a kernel that missed a beat is seen
#: by then (jupyter_client's HBChannel waits 1 s for each reply).
HB_SETTLE = 2.5
#: The kernel spec to start (the test writes one for this interpreter); python3 by default.
KERNEL = os.environ.get("PUREZMQ_TEST_KERNEL", "python3")

#: Run in the kernel: which zmq it has, and whether anything of pyzmq is loaded.
PROBE = """
import json, os, sys, zmq
_pyzmq = [
    name for name, m in list(sys.modules.items())
    if (name == "zmq" or name.startswith("zmq.")) and m is not None
    and not getattr(m, "__name__", "").startswith("purezmq")
]
_cython = [name for name in sys.modules if name.startswith("zmq.backend.cython")]
from ipykernel.kernelapp import IPKernelApp
_debugpy = IPKernelApp.instance().debugpy_socket
try:  # pyzmq's compiled backend cannot even be imported under the name zmq.
    import zmq.backend.cython
    _importable = True
except ImportError:
    _importable = False
print(json.dumps({
    "zmq_file": zmq.__file__, "zmq_name": zmq.__name__, "pyzmq_modules": _pyzmq,
    "cython_backend": _cython, "cython_importable": _importable, "pid": os.getpid(),
    "debugpy_socket": [type(_debugpy).__module__, _debugpy.type],
}))
"""


def client_side() -> dict[str, Any]:
    """This process: zmq is purezmq, pyzmq is not loaded."""
    import zmq

    import purezmq

    return {
        "zmq_is_purezmq": zmq is purezmq,
        "zmq_file": zmq.__file__,
        "cython_backend": [m for m in sys.modules if m.startswith("zmq.backend.cython")],
        "pyzmq_modules": [
            name
            for name, module in list(sys.modules.items())
            if (name == "zmq" or name.startswith("zmq."))
            and module is not None
            and not getattr(module, "__name__", "").startswith("purezmq")
        ],
    }


def _outputs(messages: list[dict[str, Any]]) -> dict[str, Any]:
    text = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
    results = [
        m["content"]["data"].get("text/plain")
        for m in messages
        if m["msg_type"] == "execute_result"
    ]
    errors = [m["content"]["ename"] for m in messages if m["msg_type"] == "error"]
    return {"stdout": text, "results": results, "errors": errors}


# --------------------------------------------------------------------------------------------------
# the blocking client


def _run_blocking(kc: Any, code: str) -> dict[str, Any]:
    """Execute ``code``; the reply, and what iopub said for it until the kernel was idle."""
    msg_id = kc.execute(code)
    reply = _shell_reply(kc, msg_id)
    seen = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    out = _outputs(seen)
    out["status"] = reply["content"]["status"]
    out["iopub_types"] = [m["msg_type"] for m in seen]
    return out


def _shell_reply(kc: Any, msg_id: str) -> dict[str, Any]:
    """The reply to ``msg_id`` (a late kernel_info_reply of wait_for_ready is passed over)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


#: The debugger's first request (Debug Adapter Protocol), which makes ipykernel start debugpy
#: and connect its ``zmq.STREAM`` socket to debugpy's adapter: the answer comes through it.
DEBUG_INITIALIZE = {
    "type": "request",
    "seq": 1,
    "command": "initialize",
    "arguments": {
        "clientID": "purezmq-test",
        "adapterID": "python",
        "pathFormat": "path",
        "linesStartAt1": True,
        "columnsStartAt1": True,
    },
}


def _debug_initialize(kc: Any) -> dict[str, Any]:
    """A debug_request on the control channel; what the debug_reply said."""
    msg = kc.session.msg("debug_request", DEBUG_INITIALIZE)
    kc.control_channel.send(msg)
    deadline = time.monotonic() + TIMEOUT
    while True:
        reply = kc.control_channel.get_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            content = reply["content"]
            return {"command": content.get("command"), "success": content.get("success")}


def blocking() -> dict[str, Any]:
    from jupyter_client.manager import KernelManager

    report: dict[str, Any] = {"client": client_side()}
    km = KernelManager(kernel_name=KERNEL)
    started = time.monotonic()
    km.start_kernel()
    kc = km.client()
    report["client_socket"] = type(kc.shell_channel.socket).__module__
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        report["start_seconds"] = round(time.monotonic() - started, 2)

        probe = _run_blocking(kc, PROBE)
        report["kernel"] = json.loads(probe["stdout"].strip().splitlines()[-1])
        report["execute"] = _run_blocking(kc, "marker = 1\nprint('hello', 6 * 7)\n40 + 2")
        report["debug"] = _debug_initialize(kc)

        reply = kc.complete("import jso", 10, reply=True, timeout=TIMEOUT)
        report["complete"] = reply["content"]["matches"]
        reply = kc.inspect("len", 3, reply=True, timeout=TIMEOUT)
        report["inspect"] = {
            "found": reply["content"]["found"],
            "text": reply["content"]["data"].get("text/plain", "")[:200],
        }

        msg_id = kc.execute("import time; time.sleep(60)")
        _wait_busy(lambda: kc.get_iopub_msg(timeout=TIMEOUT), msg_id)
        time.sleep(0.3)  # (Into the sleep.)
        began = time.monotonic()
        km.interrupt_kernel()
        reply = _shell_reply(kc, msg_id)
        report["interrupt"] = {
            "status": reply["content"]["status"],
            "ename": reply["content"].get("ename"),
            "seconds": round(time.monotonic() - began, 2),
        }
        report["after_interrupt"] = _run_blocking(kc, "'alive'")
        # The heartbeat channel (a thread pinging the kernel's heartbeat every second).
        time.sleep(max(0.0, HB_SETTLE - (time.monotonic() - started)))
        report["hb_beating"] = kc.hb_channel.is_beating()

        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=30)
        after = _run_blocking(kc, PROBE)
        report["restart"] = json.loads(after["stdout"].strip().splitlines()[-1])
        report["restart"]["fresh"] = _run_blocking(kc, "marker")["errors"]
    finally:
        kc.stop_channels()
        began = time.monotonic()
        km.shutdown_kernel(now=False)
        report["shutdown"] = {
            "alive": km.is_alive(),
            "seconds": round(time.monotonic() - began, 2),
        }
    return report


def _wait_busy(get: Any, msg_id: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        msg = get()
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "status"
            and msg["content"]["execution_state"] == "busy"
        ):
            return
    raise TimeoutError("the kernel never said it was busy")


# --------------------------------------------------------------------------------------------------
# the asyncio client, with a ZMQStream on iopub as jupyter_server has


async def _run_async(kc: Any, code: str) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []
    reply = await kc.execute_interactive(code, output_hook=seen.append, timeout=TIMEOUT)
    out = _outputs(seen)
    out["status"] = reply["content"]["status"]
    return out


async def _async_shell_reply(kc: Any, msg_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT
    while True:
        reply = await kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


async def asynchronous() -> dict[str, Any]:
    from jupyter_client.ioloop import AsyncIOLoopKernelManager

    import purezmq.asyncio

    report: dict[str, Any] = {"client": client_side()}
    km = AsyncIOLoopKernelManager(kernel_name=KERNEL)
    started = time.monotonic()
    await km.start_kernel()
    kc = km.client()
    kc.start_channels()
    report["client_socket_is_purezmq_asyncio"] = isinstance(
        kc.shell_channel.socket, purezmq.asyncio.Socket
    )
    stream_messages: list[list[bytes]] = []
    iopub_stream = km.connect_iopub()  # A ZMQStream (jupyter_server relays iopub with these).
    iopub_stream.on_recv(stream_messages.append)
    report["iopub_stream"] = type(iopub_stream).__module__
    try:
        await kc.wait_for_ready(timeout=30)
        report["start_seconds"] = round(time.monotonic() - started, 2)

        probe = await _run_async(kc, PROBE)
        report["kernel"] = json.loads(probe["stdout"].strip().splitlines()[-1])
        report["execute"] = await _run_async(kc, "marker = 1\nprint('hello', 6 * 7)\n40 + 2")

        # The ZMQStream on iopub saw the same output (multipart messages, bytes).
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and not any(
            b"hello 42" in part for msg in stream_messages for part in msg
        ):
            await asyncio.sleep(0.05)
        report["iopub_stream_saw_output"] = any(
            b"hello 42" in part for msg in stream_messages for part in msg
        )
        report["iopub_stream_messages"] = len(stream_messages)

        msg_id = kc.complete("import jso", 10)
        reply = await _async_shell_reply(kc, msg_id)
        report["complete"] = reply["content"]["matches"]
        msg_id = kc.inspect("len", 3)
        reply = await _async_shell_reply(kc, msg_id)
        report["inspect"] = {
            "found": reply["content"]["found"],
            "text": reply["content"]["data"].get("text/plain", "")[:200],
        }

        msg_id = kc.execute("import time; time.sleep(60)")
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            msg = await kc.get_iopub_msg(timeout=TIMEOUT)
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "busy"
            ):
                break
        await asyncio.sleep(0.3)
        began = time.monotonic()
        await km.interrupt_kernel()
        reply = await _async_shell_reply(kc, msg_id)
        report["interrupt"] = {
            "status": reply["content"]["status"],
            "ename": reply["content"].get("ename"),
            "seconds": round(time.monotonic() - began, 2),
        }
        report["after_interrupt"] = await _run_async(kc, "'alive'")
        await asyncio.sleep(max(0.0, HB_SETTLE - (time.monotonic() - started)))
        report["hb_beating"] = kc.hb_channel.is_beating()

        await km.restart_kernel(now=False)
        await kc.wait_for_ready(timeout=30)
        after = await _run_async(kc, PROBE)
        report["restart"] = json.loads(after["stdout"].strip().splitlines()[-1])
        report["restart"]["fresh"] = (await _run_async(kc, "marker"))["errors"]
    finally:
        iopub_stream.close()
        kc.stop_channels()
        began = time.monotonic()
        await km.shutdown_kernel(now=False)
        report["shutdown"] = {
            "alive": await km.is_alive(),
            "seconds": round(time.monotonic() - began, 2),
        }
    return report


def main() -> None:
    mode = sys.argv[1]
    if mode == "blocking":
        report = blocking()
    elif mode == "async":
        report = asyncio.run(asynchronous())
    else:
        raise SystemExit(f"usage: {sys.argv[0]} blocking|async")
    report["pid"] = os.getpid()
    sys.stdout.flush()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
