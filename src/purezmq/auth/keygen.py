"""Generate CURVE keys: ``python -m purezmq.auth.keygen [--dir DIR NAME]``."""

from __future__ import annotations

import argparse
import os
import sys

from .certs import create_certificates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="purezmq keygen",
        description="Print a new CURVE key pair (Z85), or write it as certificate files.",
        epilog="examples:\n  purezmq keygen\n  purezmq keygen --dir certs server",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", nargs="?", help="certificate name (NAME.key, NAME.key_secret)")
    parser.add_argument(
        "--dir", default=None, help="folder to write certificate files into (made if missing)"
    )
    args = parser.parse_args(argv)
    try:
        if args.dir is not None:
            # Like mkdir -p; create_certificates itself, as pyzmq's, needs the folder to exist.
            os.makedirs(args.dir, exist_ok=True)
            public_file, secret_file = create_certificates(args.dir, args.name or "purezmq")
            print(public_file)
            print(secret_file)
        else:
            from .. import curve_keypair

            public, secret = curve_keypair()
            print(f"public: {public.decode()}")
            print(f"secret: {secret.decode()}")
    except (ImportError, OSError) as exc:
        print(f"purezmq keygen: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
