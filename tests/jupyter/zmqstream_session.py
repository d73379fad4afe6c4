"""The Jupyter session of ``jupyter_session.py`` through a ZMQStream-based client:
jupyter_client's ``ThreadedKernelClient`` (the client qtconsole builds on), whose channels are
``zmq.eventloop.zmqstream.ZMQStream``s on a tornado IOLoop in a thread of its own, and whose
replies arrive as callbacks in that thread.

``python zmqstream_session.py``: starts a kernel, executes code and reads its output over iopub,
completes, inspects, interrupts a ``time.sleep``, restarts and shuts down; prints one JSON object
(what was seen) as its last line of output. Every wait is bounded.
"""

from __future__ import annotations

import json
import queue
import sys
import time
from typing import Any

from jupyter_session import KERNEL, PROBE, TIMEOUT, _outputs, client_side


class Replies:
    """The messages the channels' callbacks hand over, read with bounded waits."""

    def __init__(self) -> None:
        self.shell: queue.Queue[dict[str, Any]] = queue.Queue()
        self.iopub: queue.Queue[dict[str, Any]] = queue.Queue()

    def reply_to(self, msg_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self.shell.get(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def iopub_until_idle(self, msg_id: str) -> list[dict[str, Any]]:
        seen = []
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self.iopub.get(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            seen.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return seen

    def wait_busy(self, msg_id: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self.iopub.get(timeout=max(0.1, deadline - time.monotonic()))
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "busy"
            ):
                return


def _execute(kc: Any, replies: Replies, code: str) -> dict[str, Any]:
    msg_id = kc.execute(code)
    reply = replies.reply_to(msg_id)
    seen = replies.iopub_until_idle(msg_id)
    out = _outputs(seen)
    out["status"] = reply["content"]["status"]
    out["iopub_types"] = [m["msg_type"] for m in seen]
    return out


def _iopub_saw(replies: Replies, msg_id: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = replies.iopub.get(timeout=left)
        except queue.Empty:
            return False
        if msg["parent_header"].get("msg_id") == msg_id:
            return True
    return False


def _wait_ready(kc: Any, replies: Replies) -> None:
    """kernel_info until it is answered on the shell and its status reaches iopub too: a
    fresh kernel may miss the first requests, and a subscription to its iopub takes a moment
    (what is published before it arrives is lost, as PUB/SUB does)."""
    deadline = time.monotonic() + 30
    while True:
        msg_id = kc.kernel_info()
        try:
            replies.reply_to(msg_id)
            if _iopub_saw(replies, msg_id, 1.0):
                return
        except queue.Empty:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the kernel never answered kernel_info on shell and iopub")


def session() -> dict[str, Any]:
    from jupyter_client.manager import KernelManager

    report: dict[str, Any] = {"client": client_side()}
    km = KernelManager(
        kernel_name=KERNEL, client_class="jupyter_client.threaded.ThreadedKernelClient"
    )
    started = time.monotonic()
    km.start_kernel()
    kc = km.client()
    replies = Replies()
    kc.start_channels(hb=False)
    # The channels hand each message to call_handlers in the IOLoop's thread.
    kc.shell_channel.call_handlers = replies.shell.put
    kc.iopub_channel.call_handlers = replies.iopub.put
    report["client_stream"] = type(kc.shell_channel.stream).__module__
    report["client_socket"] = type(kc.shell_channel.socket).__module__
    try:
        _wait_ready(kc, replies)
        report["start_seconds"] = round(time.monotonic() - started, 2)
        probe = _execute(kc, replies, PROBE)
        report["kernel"] = json.loads(probe["stdout"].strip().splitlines()[-1])
        report["execute"] = _execute(kc, replies, "marker = 1\nprint('hello', 6 * 7)\n40 + 2")

        reply = replies.reply_to(kc.complete("import jso", 10))
        report["complete"] = reply["content"]["matches"]
        reply = replies.reply_to(kc.inspect("len", 3))
        report["inspect"] = {
            "found": reply["content"]["found"],
            "text": reply["content"]["data"].get("text/plain", "")[:200],
        }

        msg_id = kc.execute("import time; time.sleep(60)")
        replies.wait_busy(msg_id)
        time.sleep(0.3)  # (Into the sleep.)
        began = time.monotonic()
        km.interrupt_kernel()
        reply = replies.reply_to(msg_id)
        report["interrupt"] = {
            "status": reply["content"]["status"],
            "ename": reply["content"].get("ename"),
            "seconds": round(time.monotonic() - began, 2),
        }
        report["after_interrupt"] = _execute(kc, replies, "'alive'")

        km.restart_kernel(now=False)
        _wait_ready(kc, replies)
        after = _execute(kc, replies, PROBE)
        report["restart"] = json.loads(after["stdout"].strip().splitlines()[-1])
        report["restart"]["fresh"] = _execute(kc, replies, "marker")["errors"]
    finally:
        kc.stop_channels()
        began = time.monotonic()
        km.shutdown_kernel(now=False)
        report["shutdown"] = {
            "alive": km.is_alive(),
            "seconds": round(time.monotonic() - began, 2),
        }
    return report


if __name__ == "__main__":
    result = session()
    sys.stdout.flush()
    print(json.dumps(result))
