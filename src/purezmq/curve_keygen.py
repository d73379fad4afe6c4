"""
Generate a zmq curve keypair.

Generates a 'public' and a 'secret' key.
Add `--json` to output as a JSON dictionary.
Add `--secret SECRET` to derive public key from an existing secret key.

CURVE keys are always z85-encoded (ASCII safe).
"""

from __future__ import annotations

import argparse
import json
import sys

from .backend import curve_keypair, curve_public
from .error import ZMQError


def main(argv: list[str] | None = None) -> int:
    """``python -m purezmq.curve_keygen [--json] [--secret SECRET]``, as pyzmq's
    ``python -m zmq.curve_keygen`` (needs PyNaCl). Returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python3 -m purezmq.curve_keygen",
        description=" ".join((__doc__ or "").split()),
    )
    parser.add_argument("--json", action="store_true", help="output keys as JSON dict")
    parser.add_argument("--secret", help="specify secret key to derive a public key")
    args = parser.parse_args(argv)
    try:
        if args.secret:
            secret = args.secret
            public = curve_public(secret.encode()).decode()
        else:
            public_bytes, secret_bytes = curve_keypair()
            public, secret = public_bytes.decode(), secret_bytes.decode()
    except (ValueError, ZMQError) as exc:  # A bad --secret; no PyNaCl (ZMQError ENOTSUP).
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"public": public, "secret": secret}, indent=1))
    else:
        print("== CURVE PUBLIC KEY ==")
        print(public)
        print()
        print("== CURVE SECRET KEY ==")
        print(secret)
    return 0


_main = main  # pyzmq's name

if __name__ == "__main__":
    sys.exit(main())
