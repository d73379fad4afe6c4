"""Regenerate docs/web-demo.png: the web demo's page with a few jobs, done and in progress.

    python docs/web_demo_screenshot.py [--out docs/web-demo.png] [--chromium /usr/bin/chromium]

Starts ``purezmq demo web`` on 127.0.0.1 (free ports only), posts a few jobs over HTTP, and
takes a 1200x800 screenshot of the page in headless Chromium through Playwright (needs the
``web`` extra, ``pip install playwright`` and a Chromium; Debian's is /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

JOBS = [
    {"kind": "matrix", "n": 120, "seed": 1},
    {"kind": "primes", "below": 200000},
    {"kind": "words", "text": "a network stack with a message queue built in " * 2000},
    {"kind": "matrix", "n": 300, "seed": 2},
    {"kind": "primes", "below": 5000000},
    {"kind": "primes", "below": 4000000},
    {"kind": "matrix", "n": 300, "seed": 3},
]


def post(url: str, job: dict) -> dict:
    request = urllib.request.Request(
        url + "jobs", json.dumps(job).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).with_name("web-demo.png")))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--settle", type=float, default=2.5, help="seconds before the shot")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    # Free ports only, all on 127.0.0.1 (the app's default address).
    command = "-m purezmq.apps.web --workers 2 --port 0 --jobs-port 0 --results-port 0".split()
    server = subprocess.Popen([sys.executable, *command], stdout=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()  # "purezmq demo web: http://127.0.0.1:PORT/"
        url = first.rsplit(" ", 1)[-1].strip()
        if not url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"unexpected server output: {first!r}")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True)
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(url)
            time.sleep(1.5)  # the workers connect
            for job in JOBS:
                post(url, job)
                time.sleep(0.15)
            time.sleep(args.settle)
            page.screenshot(path=args.out)
            browser.close()
        print(f"wrote {args.out}")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
